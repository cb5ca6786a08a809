// zstd streaming compression and decompression of COPY BINARY-like data, the
// way spill files are written and read: 64 KiB pieces through
// ZSTD_compressStream2 / ZSTD_decompressStream, one context reused per run.
// Levels: -1 (fast), 1, 3 (zstd's default), 6.
#include <benchmark/benchmark.h>
#include <zstd.h>

#include <algorithm>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "pgcutover/copybin/format.hpp"

namespace pgcutover {
namespace {

constexpr i64 PIECE_SIZE = 64 * 1024;
constexpr i64 BUFFER_SIZE = 8 * 1024 * 1024;

void check(std::size_t code, const char *what) {
  if (ZSTD_isError(code)) throw std::runtime_error(std::string(what) + ": " + ZSTD_getErrorName(code));
}

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

// Rows of (int8 id, timestamptz, text status, jsonb document): ids and times
// increase, statuses come from a small set, documents repeat keys and draw
// values from vocabularies with some random numbers, like real order tables.
std::string copy_binary_buffer() {
  static const char *const STATUS[] = {"pending", "paid", "shipped", "delivered", "cancelled"};
  static const char *const WORDS[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
                                      "hotel", "india", "juliet", "kilo", "lima", "mike", "november"};
  static const char *const CITIES[] = {"Lisbon", "Oslo", "Lyon", "Turin", "Porto", "Bergen", "Ghent"};
  std::mt19937_64 rng(7);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<u64>(n)); };

  std::string out(copybin::SIGNATURE, copybin::SIGNATURE_SIZE);
  put_i32(out, 0);
  put_i32(out, 0);
  i64 id = 1000000;
  i64 micros = 767000000000000;
  while (static_cast<i64>(out.size()) < BUFFER_SIZE) {
    put_i16(out, 4);
    std::string id_bytes(8, '\0'), ts_bytes(8, '\0');
    for (int i = 0; i < 8; ++i) {
      id_bytes[7 - i] = static_cast<char>((id >> (8 * i)) & 0xff);
      ts_bytes[7 - i] = static_cast<char>((micros >> (8 * i)) & 0xff);
    }
    put_field(out, id_bytes);
    put_field(out, ts_bytes);
    put_field(out, STATUS[pick(5)]);

    std::string doc = "\x01{\"customer\": {\"id\": " + std::to_string(rng() % 100000) + ", \"name\": \"" +
                      WORDS[pick(14)] + " " + WORDS[pick(14)] + "\", \"city\": \"" + CITIES[pick(7)] +
                      "\"}, \"lines\": [";
    int lines = 1 + pick(6);
    for (int i = 0; i < lines; ++i) {
      if (i) doc += ", ";
      doc += "{\"sku\": \"" + std::string(WORDS[pick(14)]) + "-" + std::to_string(rng() % 1000) +
             "\", \"qty\": " + std::to_string(1 + pick(9)) + ", \"price\": " + std::to_string(rng() % 50000) +
             "." + std::to_string(pick(100)) + "}";
    }
    doc += "], \"note\": \"" + std::string(WORDS[pick(14)]) + "\"}";
    put_field(out, doc);

    ++id;
    micros += 1 + static_cast<i64>(rng() % 5000000);
  }
  put_i16(out, copybin::TRAILER_FIELD_COUNT);
  return out;
}

const std::string &input_buffer() {
  static const std::string buffer = copy_binary_buffer();
  return buffer;
}

// Compresses `in` as a spill writer would: 64 KiB pieces, then end of frame.
std::size_t compress(ZSTD_CCtx *cctx, const std::string &in, std::vector<char> &out) {
  check(ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only), "ZSTD_CCtx_reset");
  ZSTD_outBuffer output{out.data(), out.size(), 0};
  const i64 size = static_cast<i64>(in.size());
  for (i64 pos = 0; pos < size; pos += PIECE_SIZE) {
    i64 n = std::min(PIECE_SIZE, size - pos);
    ZSTD_inBuffer input{in.data() + pos, static_cast<std::size_t>(n), 0};
    while (input.pos < input.size) check(ZSTD_compressStream2(cctx, &output, &input, ZSTD_e_continue), "compress");
  }
  ZSTD_inBuffer empty{nullptr, 0, 0};
  while (true) {
    std::size_t left = ZSTD_compressStream2(cctx, &output, &empty, ZSTD_e_end);
    check(left, "compress end");
    if (left == 0) break;
  }
  return output.pos;
}

// Decompresses a frame as a spill reader would: 64 KiB pieces of compressed input.
std::size_t decompress(ZSTD_DCtx *dctx, const std::vector<char> &in, std::size_t in_size, std::string &out) {
  check(ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only), "ZSTD_DCtx_reset");
  ZSTD_outBuffer output{out.data(), out.size(), 0};
  for (std::size_t pos = 0; pos < in_size; pos += PIECE_SIZE) {
    std::size_t n = std::min<std::size_t>(PIECE_SIZE, in_size - pos);
    ZSTD_inBuffer input{in.data() + pos, n, 0};
    while (input.pos < input.size) check(ZSTD_decompressStream(dctx, &output, &input), "decompress");
  }
  return output.pos;
}

void BM_Zstd_Compress(benchmark::State &state) {
  const std::string &in = input_buffer();
  ZSTD_CCtx *cctx = ZSTD_createCCtx();
  check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, static_cast<int>(state.range(0))), "level");
  std::vector<char> out(ZSTD_compressBound(in.size()));
  std::size_t compressed = 0;
  for (auto _ : state) {
    compressed = compress(cctx, in, out);
    benchmark::DoNotOptimize(out.data());
  }
  ZSTD_freeCCtx(cctx);
  state.SetBytesProcessed(state.iterations() * static_cast<i64>(in.size()));
  state.counters["ratio"] = static_cast<double>(in.size()) / static_cast<double>(compressed);
}

void BM_Zstd_Decompress(benchmark::State &state) {
  const std::string &in = input_buffer();
  ZSTD_CCtx *cctx = ZSTD_createCCtx();
  check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, static_cast<int>(state.range(0))), "level");
  std::vector<char> compressed(ZSTD_compressBound(in.size()));
  std::size_t compressed_size = compress(cctx, in, compressed);
  ZSTD_freeCCtx(cctx);

  ZSTD_DCtx *dctx = ZSTD_createDCtx();
  std::string out(in.size(), '\0');
  for (auto _ : state) {
    std::size_t n = decompress(dctx, compressed, compressed_size, out);
    if (n != in.size()) {
      state.SkipWithError("decompressed size differs from the input");
      break;
    }
    benchmark::DoNotOptimize(out.data());
  }
  ZSTD_freeDCtx(dctx);
  if (out != in) state.SkipWithError("decompressed bytes differ from the input");
  state.SetBytesProcessed(state.iterations() * static_cast<i64>(in.size()));
  state.counters["ratio"] = static_cast<double>(in.size()) / static_cast<double>(compressed_size);
}

BENCHMARK(BM_Zstd_Compress)->ArgName("level")->Arg(-1)->Arg(1)->Arg(3)->Arg(6);
BENCHMARK(BM_Zstd_Decompress)->ArgName("level")->Arg(-1)->Arg(1)->Arg(3)->Arg(6);

}  // namespace
}  // namespace pgcutover
