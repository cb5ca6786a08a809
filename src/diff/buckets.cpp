// Verify by hash buckets of the key (see buckets.hpp).
#include "pgcutover/diff/buckets.hpp"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "pgcutover/pg/copy_stream.hpp"
#include "pgcutover/sql/verify.hpp"
#include "pgcutover/util/cancel.hpp"
#include "pgcutover/util/error.hpp"

namespace pgcutover::diff {

namespace {

// One field of a tuple: its bytes as the stream has them (text: still
// escaped), null when the value is NULL.
struct Field {
  const char *data = nullptr;
  i64 size = 0;
  bool null = false;
};

[[noreturn]] void malformed(const catalog::TableDef &t, const char *what) {
  throw Error(ErrorKind::DataFormat, "verify: the COPY stream of " + t.name.display() + " is malformed: " + what,
              "rerun verify; if it happens again, report it with the --json output");
}

i32 read_i32(const char *p) {
  u32 v;
  std::memcpy(&v, p, 4);
  return static_cast<i32>(__builtin_bswap32(v));
}
i16 read_i16(const char *p) {
  u16 v;
  std::memcpy(&v, p, 2);
  return static_cast<i16>(__builtin_bswap16(v));
}

// Splits the COPY stream of keyed_copy_out into tuples. The server sends
// whole rows per message (libpq returns "one data row at a time"); the
// binary header and trailer may share a message with rows.
class TupleReader {
 public:
  TupleReader(const catalog::TableDef &t, copybin::StreamFormat f, size_t fields) : t_(t), format_(f), fields_(fields) {}

  // Calls on(fields) for each tuple of the message.
  template <typename F>
  void feed(std::span<const char> m, F &&on) {
    const char *p = m.data(), *end = m.data() + m.size();
    if (format_ == copybin::StreamFormat::Text) {
      while (p < end) {
        const char *nl = static_cast<const char *>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
        if (!nl) malformed(t_, "a text row without its end of line");
        split_text(p, nl);
        on(row_);
        p = nl + 1;
      }
      return;
    }
    if (!header_) {
      if (end - p < 19 || std::memcmp(p, "PGCOPY\n\377\r\n\0", 11) != 0) malformed(t_, "no binary header");
      i32 ext = read_i32(p + 15);
      if (ext < 0 || end - p < 19 + ext) malformed(t_, "a binary header extension cut short");
      p += 19 + ext;
      header_ = true;
    }
    while (p < end) {
      if (end - p < 2) malformed(t_, "a tuple cut short");
      i16 n = read_i16(p);
      p += 2;
      if (n == -1) {
        trailer_ = true;
        if (p != end) malformed(t_, "bytes after the trailer");
        return;
      }
      if (trailer_ || static_cast<size_t>(n) != fields_) malformed(t_, "a tuple with an unexpected field count");
      row_.clear();
      for (i16 i = 0; i < n; ++i) {
        if (end - p < 4) malformed(t_, "a field length cut short");
        i32 len = read_i32(p);
        p += 4;
        if (len < -1 || end - p < std::max(len, 0)) malformed(t_, "a field cut short");
        row_.push_back(Field{p, std::max(len, 0), len == -1});
        p += std::max(len, 0);
      }
      on(row_);
    }
  }
  void finish() const {
    if (format_ == copybin::StreamFormat::Binary && !trailer_) malformed(t_, "no binary trailer");
  }

 private:
  void split_text(const char *p, const char *nl) {
    row_.clear();
    const char *f = p;
    for (const char *q = p;; ++q) {
      if (q == nl || *q == '\t') {
        bool null = q - f == 2 && f[0] == '\\' && f[1] == 'N';
        row_.push_back(Field{f, q - f, null});
        if (q == nl) break;
        f = q + 1;
      }
    }
    if (row_.size() != fields_) malformed(t_, "a text row with an unexpected field count");
  }

  const catalog::TableDef &t_;
  copybin::StreamFormat format_;
  size_t fields_;
  bool header_ = false;
  bool trailer_ = false;
  std::vector<Field> row_;
};

// A text-format field as its value (COPY's output escapes).
std::string unescape_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    char c = s[++i];
    switch (c) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      default: out += c; break;  // "\\" and any other escaped byte
    }
  }
  return out;
}

// The key's bytes (length-prefixed fields, so ("ab","c") differs from
// ("a","bc")), and its bucket.
struct KeyOf {
  std::string bytes;
  u32 bucket = 0;
};
KeyOf key_of(const std::vector<Field> &row, size_t key_fields, u32 buckets) {
  KeyOf k;
  for (size_t i = 0; i < key_fields; ++i) {
    u32 len = static_cast<u32>(row[i].size);
    k.bytes.append(reinterpret_cast<const char *>(&len), 4);
    k.bytes.append(row[i].data, static_cast<size_t>(row[i].size));
  }
  k.bucket = static_cast<u32>(XXH3_64bits(k.bytes.data(), k.bytes.size())) & (buckets - 1);
  return k;
}

// Adds a field to a hash: its length (-1 for NULL), then its bytes.
void hash_field(XXH3_state_t *st, const Field &f) {
  i64 len = f.null ? -1 : f.size;
  XXH3_64bits_update(st, &len, sizeof len);
  XXH3_64bits_update(st, f.data, static_cast<size_t>(f.size));
}

// A row's hash: every field, its length and NULL-ness included.
u64 row_hash(const std::vector<Field> &row, XXH3_state_t *st) {
  XXH3_64bits_reset(st);
  for (const Field &f : row) hash_field(st, f);
  return XXH3_64bits_digest(st);
}

std::string hex64(u64 v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Reads every row of the table once, in keyed_copy_out's form.
template <typename F>
i64 read_keyed(pg::Connection &conn, const catalog::TableDef &t, copybin::StreamFormat format, F &&on_row) {
  std::vector<sql::ComparedColumn> cols = t.compared_columns();
  TupleReader reader(t, format, t.key.size() + cols.size());
  pg::CopyOut out(conn, sql::verify::keyed_copy_out(t.name, t.key, cols, format));
  i64 bytes = 0, rows = 0;
  while (auto m = out.next()) {
    bytes += static_cast<i64>(m->size());
    reader.feed(*m, [&](const std::vector<Field> &row) {
      ++rows;
      on_row(row);
    });
    if ((rows & 0xffff) == 0) cancel::throw_if_requested();
  }
  reader.finish();
  if (rows != out.server_rows()) malformed(t, "fewer or more tuples than the server sent");
  return bytes;
}

struct KeptRow {
  std::vector<std::string> key;  // values, unescaped
  u64 hash = 0;
  std::vector<u64> columns;  // a hash per compared column
};
using KeptRows = std::unordered_map<std::string, KeptRow>;

KeptRows keep_rows(pg::Connection &conn, const catalog::TableDef &t, copybin::StreamFormat format, u32 buckets,
                   const std::vector<char> &wanted) {
  const size_t nk = t.key.size();
  KeptRows out;
  XXH3_state_t *st = XXH3_createState();
  try {
    read_keyed(conn, t, format, [&](const std::vector<Field> &row) {
      KeyOf k = key_of(row, nk, buckets);
      if (!wanted[k.bucket]) return;
      KeptRow r;
      for (size_t i = 0; i < nk; ++i) {
        std::string_view v(row[i].data, static_cast<size_t>(row[i].size));
        r.key.push_back(format == copybin::StreamFormat::Text ? unescape_text(v) : std::string(v));
      }
      r.hash = row_hash(row, st);
      for (size_t i = nk; i < row.size(); ++i) {
        XXH3_64bits_reset(st);
        hash_field(st, row[i]);
        r.columns.push_back(XXH3_64bits_digest(st));
      }
      out.emplace(std::move(k.bytes), std::move(r));
    });
  } catch (...) {
    XXH3_freeState(st);
    throw;
  }
  XXH3_freeState(st);
  return out;
}

}  // namespace

bool by_buckets(const catalog::TableDef &table) { return table.has_key() && table.key_orders_differ(); }

u32 bucket_count(const catalog::TableDef &table) {
  double rows = std::max(table.reltuples, static_cast<double>(table.total_bytes()) / 100.0);
  double want = std::clamp(rows / 64.0, static_cast<double>(MIN_BUCKETS), static_cast<double>(MAX_BUCKETS));
  return std::bit_ceil(static_cast<u32>(want));
}

BucketDigest digest_buckets(pg::Connection &conn, const catalog::TableDef &t, copybin::StreamFormat format,
                            u32 buckets) {
  BucketDigest d;
  d.rows.assign(buckets, 0);
  d.sums.assign(buckets, 0);
  const size_t nk = t.key.size();
  XXH3_state_t *st = XXH3_createState();
  try {
    d.digest.bytes = read_keyed(conn, t, format, [&](const std::vector<Field> &row) {
      u32 b = key_of(row, nk, buckets).bucket;
      ++d.rows[b];
      d.sums[b] += row_hash(row, st);
    });
  } catch (...) {
    XXH3_freeState(st);
    throw;
  }
  XXH3_freeState(st);
  for (i64 n : d.rows) d.digest.rows += n;
  u64 h = XXH3_64bits(d.rows.data(), d.rows.size() * sizeof(i64)) ^
          std::rotl(XXH3_64bits(d.sums.data(), d.sums.size() * sizeof(u64)), 1);
  d.digest.hash = "buckets:" + hex64(h);
  return d;
}

std::vector<u32> differing_buckets(const BucketDigest &a, const BucketDigest &b) {
  std::vector<u32> out;
  if (a.rows.size() != b.rows.size()) throw_internal("bucket digests of different sizes");
  for (u32 i = 0; i < a.rows.size(); ++i)
    if (a.rows[i] != b.rows[i] || a.sums[i] != b.sums[i]) out.push_back(i);
  return out;
}

std::vector<KeyDiff> localize_buckets(pg::Connection &src, pg::Connection &dst, const catalog::TableDef &t,
                                      copybin::StreamFormat format, const BucketDigest &source,
                                      const BucketDigest &target, i64 budget_rows, bool *truncated, u32 first_bucket,
                                      u32 *next_bucket) {
  std::vector<u32> differing = differing_buckets(source, target);
  std::erase_if(differing, [&](u32 b) { return b < first_bucket; });
  if (truncated) *truncated = false;
  const u32 n = static_cast<u32>(source.rows.size());
  if (next_bucket) *next_bucket = n;
  if (differing.empty()) return {};
  // As many differing buckets as keep the rows held within the budget.
  std::vector<char> wanted(n, 0);
  i64 held = 0;
  size_t taken = 0;
  for (u32 b : differing) {
    i64 rows = source.rows[b] + target.rows[b];
    if (taken > 0 && held + rows > budget_rows) break;
    wanted[b] = 1;
    held += rows;
    ++taken;
  }
  if (taken < differing.size()) {
    if (truncated) *truncated = true;
    if (next_bucket) *next_bucket = differing[taken];
  }
  KeptRows s = keep_rows(src, t, format, n, wanted);
  KeptRows d = keep_rows(dst, t, format, n, wanted);
  std::vector<sql::ComparedColumn> cols = t.compared_columns();
  std::vector<KeyDiff> out;
  for (auto &[bytes, row] : s) {
    auto it = d.find(bytes);
    if (it == d.end()) {
      out.push_back({plan::KeyBound{row.key}, DiffKind::Missing, {}});
      continue;
    }
    if (it->second.hash == row.hash) continue;
    KeyDiff k{plan::KeyBound{row.key}, DiffKind::Different, {}};
    for (size_t i = 0; i < cols.size() && i < row.columns.size(); ++i)
      if (row.columns[i] != it->second.columns[i]) k.columns.push_back(cols[i].name);
    out.push_back(std::move(k));
  }
  for (auto &[bytes, row] : d)
    if (!s.count(bytes)) out.push_back({plan::KeyBound{row.key}, DiffKind::Extra, {}});
  std::sort(out.begin(), out.end(), [](const KeyDiff &a, const KeyDiff &b) { return a.key.values < b.key.values; });
  return out;
}

}  // namespace pgcutover::diff
