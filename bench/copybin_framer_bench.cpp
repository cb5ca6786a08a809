// Framer throughput on streams shaped like real COPY output, fed in 64 KiB
// chunks as libpq and the spill reader hand them over.
#include <benchmark/benchmark.h>

#include <random>
#include <span>
#include <string>

#include "pgcutover/copybin/framer.hpp"

namespace pgcutover::copybin {
namespace {

constexpr i64 CHUNK_SIZE = 64 * 1024;
constexpr i64 STREAM_SIZE = 16 * 1024 * 1024;

void put_i16(std::string &out, i16 v) {
  out += static_cast<char>((v >> 8) & 0xff);
  out += static_cast<char>(v & 0xff);
}

void put_i32(std::string &out, i32 v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

void put_field(std::string &out, const std::string &value) {
  put_i32(out, static_cast<i32>(value.size()));
  out += value;
}

std::string binary_header() {
  std::string out(SIGNATURE, SIGNATURE_SIZE);
  put_i32(out, 0);
  put_i32(out, 0);
  return out;
}

std::string random_text(std::mt19937_64 &rng, int min_len, int max_len) {
  static constexpr char ALPHABET[] = "abcdefghijklmnopqrstuvwxyz0123456789 _-";
  std::uniform_int_distribution<int> len(min_len, max_len);
  std::uniform_int_distribution<int> pick(0, sizeof(ALPHABET) - 2);
  std::string s(static_cast<std::size_t>(len(rng)), ' ');
  for (char &c : s) c = ALPHABET[pick(rng)];
  return s;
}

// 8 fields, about 100 bytes a row: int4, int8, text, timestamptz, bool,
// numeric, text, and a NULL.
std::string small_rows_stream() {
  std::mt19937_64 rng(42);
  std::string out = binary_header();
  while (static_cast<i64>(out.size()) < STREAM_SIZE) {
    put_i16(out, 8);
    put_field(out, std::string(4, '\x01'));
    put_field(out, std::string(8, '\x02'));
    put_field(out, random_text(rng, 10, 30));
    put_field(out, std::string(8, '\x03'));
    put_field(out, std::string(1, '\x01'));
    put_field(out, std::string(10, '\x04'));
    put_field(out, random_text(rng, 5, 25));
    put_i32(out, NULL_FIELD_LENGTH);
  }
  put_i16(out, TRAILER_FIELD_COUNT);
  return out;
}

// 3 fields: int8 id, a ~4 KB jsonb value (version byte + JSON text), timestamptz.
std::string large_rows_stream() {
  std::mt19937_64 rng(43);
  std::string out = binary_header();
  while (static_cast<i64>(out.size()) < STREAM_SIZE) {
    std::string json = "\x01{\"items\": [";
    while (json.size() < 4000) json += "{\"sku\": \"" + random_text(rng, 6, 12) + "\", \"qty\": 3}, ";
    json += "{}]}";
    put_i16(out, 3);
    put_field(out, std::string(8, '\x05'));
    put_field(out, json);
    put_field(out, std::string(8, '\x06'));
  }
  put_i16(out, TRAILER_FIELD_COUNT);
  return out;
}

// About 100-byte lines, as COPY text writes them.
std::string text_stream() {
  std::mt19937_64 rng(44);
  std::string out;
  i64 id = 0;
  while (static_cast<i64>(out.size()) < STREAM_SIZE) {
    out += std::to_string(id++) + "\t" + random_text(rng, 20, 60) + "\t2024-05-01 12:00:00+00\tt\t" +
           random_text(rng, 5, 25) + "\t\\N\n";
  }
  return out;
}

void run_framer(benchmark::State &state, StreamFormat format, const std::string &stream) {
  const i64 size = static_cast<i64>(stream.size());
  i64 tuples = 0;
  for (auto _ : state) {
    Framer framer(format);
    for (i64 pos = 0; pos < size; pos += CHUNK_SIZE) {
      i64 n = std::min(CHUNK_SIZE, size - pos);
      FeedResult r = framer.feed(std::span<const char>(stream.data() + pos, static_cast<std::size_t>(n)));
      benchmark::DoNotOptimize(r);
    }
    framer.finish();
    tuples = framer.tuples();
  }
  state.SetBytesProcessed(state.iterations() * size);
  state.SetItemsProcessed(state.iterations() * tuples);
  state.counters["row_bytes"] = static_cast<double>(size) / static_cast<double>(tuples);
}

void BM_Framer_Binary_SmallRows(benchmark::State &state) {
  static const std::string stream = small_rows_stream();
  run_framer(state, StreamFormat::Binary, stream);
}

void BM_Framer_Binary_LargeRows(benchmark::State &state) {
  static const std::string stream = large_rows_stream();
  run_framer(state, StreamFormat::Binary, stream);
}

void BM_Framer_Text(benchmark::State &state) {
  static const std::string stream = text_stream();
  run_framer(state, StreamFormat::Text, stream);
}

BENCHMARK(BM_Framer_Binary_SmallRows);
BENCHMARK(BM_Framer_Binary_LargeRows);
BENCHMARK(BM_Framer_Text);

}  // namespace
}  // namespace pgcutover::copybin
