// Every basket of the real uproot-HZZ files, decoded with Decoder::root_blocks_into
// and checked against two references:
//  - tests/fixtures/hzz_baskets.tsv (made by scripts/make_hzz_fixture.py with
//    uproot): position, sizes and the XXH64 of the payload as uproot decompresses it;
//  - the same (branch, basket) stored raw in uproot-HZZ-uncompressed.root, which
//    needs no uproot at all (see testdata/README.md).
// The TKey header at each basket's seek is parsed too, so that the fixture cannot
// drift from the files. The files live in DECOFLOW_TESTDATA_DIR/root/; where they
// are absent (a fresh clone) the tests skip with a visible reason.
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "decoflow/decoder.hpp"
#include "decoflow/error.hpp"

#ifndef DECOFLOW_TESTDATA_DIR
#error "compile with -DDECOFLOW_TESTDATA_DIR=\"<project>/../shared/testdata\""
#endif
#ifndef DECOFLOW_FIXTURE_DIR
#error "compile with -DDECOFLOW_FIXTURE_DIR=\"<project>/tests/fixtures\""
#endif

namespace {

namespace fs = std::filesystem;

constexpr std::array<std::string_view, 5> kFiles = {
    "uproot-HZZ-zstd.root", "uproot-HZZ-lz4.root", "uproot-HZZ-zlib.root",
    "uproot-HZZ-lzma.root", "uproot-HZZ-uncompressed.root"};
constexpr std::string_view kUncompressed = "uproot-HZZ-uncompressed.root";
constexpr std::size_t kGuard = 64;
constexpr auto kGuardDiff = static_cast<std::ptrdiff_t>(kGuard);
constexpr std::byte kGuardByte{0xA5};

// One line of hzz_baskets.tsv (its first eight columns).
struct Row {
  std::string file;
  std::string branch;
  std::uint64_t basket = 0;
  std::uint64_t seek = 0;              // fBasketSeek[basket]: where the TKey starts
  std::uint64_t compressed_bytes = 0;  // TKey + compressed payload
  std::uint64_t keylen = 0;            // fKeylen
  std::uint64_t objlen = 0;            // fObjlen: decompressed payload size
  std::uint64_t xxh64 = 0;             // of the decompressed payload, seed 0
  std::size_t line = 0;                // in the fixture, for messages
};

std::vector<std::string_view> split_tabs(std::string_view s) {
  std::vector<std::string_view> out;
  for (;;) {
    const std::size_t tab = s.find('\t');
    out.push_back(s.substr(0, tab));
    if (tab == std::string_view::npos) return out;
    s.remove_prefix(tab + 1);
  }
}

bool parse_u64(std::string_view s, std::uint64_t& out, int base = 10) {
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, out, base);
  return ec == std::errc{} && ptr == end && !s.empty();
}

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Reads the fixture; a malformed line is a test failure (the fixture is committed).
std::vector<Row> load_fixture(const fs::path& path) {
  std::ifstream in(path);
  INFO("reading the fixture " << path.string());
  REQUIRE(in.good());
  std::vector<Row> rows;
  std::string text;
  std::size_t line_no = 0;
  while (std::getline(in, text)) {
    ++line_no;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.empty() || text.front() == '#') continue;
    const auto cols = split_tabs(text);
    INFO(path.string() << ":" << line_no << ": " << text);
    Row r;
    const bool well_formed =
        cols.size() >= 8 && !cols[0].empty() && !cols[1].empty() &&
        parse_u64(cols[2], r.basket) && parse_u64(cols[3], r.seek) &&
        parse_u64(cols[4], r.compressed_bytes) && parse_u64(cols[5], r.keylen) &&
        parse_u64(cols[6], r.objlen) && cols[7].size() == 16 &&
        parse_u64(cols[7], r.xxh64, 16) && r.keylen <= r.compressed_bytes;
    if (!well_formed) FAIL("malformed fixture line");
    r.file = std::string(cols[0]);
    r.branch = std::string(cols[1]);
    r.line = line_no;
    rows.push_back(std::move(r));
  }
  REQUIRE(!rows.empty());
  return rows;
}

std::vector<std::byte> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  INFO("reading " << path.string());
  REQUIRE(in.good());
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::size_t>(in.tellg());
  in.seekg(0, std::ios::beg);
  std::vector<std::byte> data(size);
  in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(size));
  REQUIRE(static_cast<std::size_t>(in.gcount()) == size);
  return data;
}

std::uint32_t be32(std::span<const std::byte> b, std::size_t at) {
  return (std::to_integer<std::uint32_t>(b[at]) << 24) |
         (std::to_integer<std::uint32_t>(b[at + 1]) << 16) |
         (std::to_integer<std::uint32_t>(b[at + 2]) << 8) |
         std::to_integer<std::uint32_t>(b[at + 3]);
}
std::uint16_t be16(std::span<const std::byte> b, std::size_t at) {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(b[at]) << 8) |
                                    std::to_integer<unsigned>(b[at + 1]));
}

// The start of a TKey: fNbytes int32, fVersion int16, fObjlen int32, fDatime
// uint32, fKeylen int16, fCycle int16 (big-endian; the seeks that follow are 32-
// or 64-bit, which does not move these fields).
struct KeyHeader {
  std::int64_t nbytes;
  std::int64_t objlen;
  std::int64_t keylen;
};
constexpr std::size_t kKeyHeaderSize = 18;

KeyHeader parse_key(std::span<const std::byte> at) {
  return KeyHeader{static_cast<std::int32_t>(be32(at, 0)),
                   static_cast<std::int32_t>(be32(at, 6)),
                   static_cast<std::int16_t>(be16(at, 14))};
}

// Where the test data is, or why it cannot be used.
struct TestData {
  fs::path root_dir;
  std::string missing;  // empty when every file is there
};

TestData locate_testdata() {
  TestData td{fs::path(DECOFLOW_TESTDATA_DIR) / "root", {}};
  std::error_code ec;
  if (!fs::is_directory(td.root_dir, ec)) {
    td.missing = td.root_dir.string();
    return td;
  }
  for (const auto name : kFiles) {
    if (!fs::is_regular_file(td.root_dir / name, ec)) {
      td.missing = (td.root_dir / name).string();
      break;
    }
  }
  return td;
}

std::string key_of(const Row& r) { return r.branch + "#" + std::to_string(r.basket); }

// A basket's payload in its file: bytes [seek + keylen, seek + compressed_bytes).
std::span<const std::byte> payload_of(const std::vector<std::byte>& file, const Row& r) {
  return std::span<const std::byte>(file).subspan(
      static_cast<std::size_t>(r.seek + r.keylen),
      static_cast<std::size_t>(r.compressed_bytes - r.keylen));
}

}  // namespace

TEST_CASE("HZZ baskets decode to uproot's bytes and to the uncompressed file's",
          "[hzz][root_blocks]") {
  const TestData td = locate_testdata();
  if (!td.missing.empty()) {
    DECOFLOW_SKIP("skipped: HZZ test data " << td.missing << " not found");
  }
  const std::vector<Row> rows =
      load_fixture(fs::path(DECOFLOW_FIXTURE_DIR) / "hzz_baskets.tsv");

  std::map<std::string, std::vector<std::byte>, std::less<>> files;
  for (const auto name : kFiles) files[std::string(name)] = read_file(td.root_dir / name);

  // The uncompressed file's raw payloads, by (branch, basket).
  std::map<std::string, const Row*> reference;
  for (const Row& r : rows) {
    if (r.file == kUncompressed) reference[key_of(r)] = &r;
  }
  const std::vector<std::byte>& uncompressed = files.at(std::string(kUncompressed));

  std::map<std::string, std::size_t> checked;  // baskets per file
  std::size_t stored_raw = 0;
  decoflow::Decoder decoder;
  std::vector<std::byte> out;

  for (const Row& r : rows) {
    INFO(r.file << " branch " << r.branch << " basket " << r.basket << " (fixture line "
                << r.line << ")");
    const auto file_it = files.find(r.file);
    REQUIRE(file_it != files.end());  // the fixture names only the five files
    const std::vector<std::byte>& file = file_it->second;

    // The basket lies inside its file and its TKey agrees with the fixture.
    REQUIRE(r.compressed_bytes >= kKeyHeaderSize);
    REQUIRE(r.seek + r.compressed_bytes <= file.size());
    const KeyHeader key =
        parse_key(std::span<const std::byte>(file).subspan(static_cast<std::size_t>(r.seek)));
    CHECK(key.nbytes == static_cast<std::int64_t>(r.compressed_bytes));
    CHECK(key.keylen == static_cast<std::int64_t>(r.keylen));
    CHECK(key.objlen == static_cast<std::int64_t>(r.objlen));

    const std::span<const std::byte> src = payload_of(file, r);
    const auto objlen = static_cast<std::size_t>(r.objlen);
    if (src.size() == objlen) ++stored_raw;

    // Decode between guard bytes.
    out.assign(objlen + 2 * kGuard, kGuardByte);
    const std::span<std::byte> dst = std::span<std::byte>(out).subspan(kGuard, objlen);
    std::size_t written = 0;
    try {
      written = decoder.root_blocks_into(src, dst);
    } catch (const decoflow::Error& e) {
      FAIL_CHECK("root_blocks_into threw " << decoflow::to_string(e.code()) << ": "
                                           << e.what());
      continue;
    }
    CHECK(written == objlen);
    const auto guard_ok = [](std::byte b) { return b == kGuardByte; };
    CHECK(std::all_of(out.begin(), out.begin() + kGuardDiff, guard_ok));
    CHECK(std::all_of(out.end() - kGuardDiff, out.end(), guard_ok));

    // Reference 1: uproot's decompressed bytes (via their hash).
    CHECK(hex64(XXH64(dst.data(), dst.size(), 0)) == hex64(r.xxh64));

    // Reference 2: the same basket stored raw in the uncompressed file.
    const auto ref_it = reference.find(key_of(r));
    REQUIRE(ref_it != reference.end());
    const Row& ref = *ref_it->second;
    REQUIRE(ref.objlen == r.objlen);
    REQUIRE(ref.compressed_bytes - ref.keylen == ref.objlen);  // stored raw there
    REQUIRE(ref.seek + ref.compressed_bytes <= uncompressed.size());
    const std::span<const std::byte> expected = payload_of(uncompressed, ref);
    const auto mismatch = std::mismatch(dst.begin(), dst.end(), expected.begin());
    INFO("first differing byte at " << (mismatch.first - dst.begin()) << " of " << objlen);
    CHECK(mismatch.first == dst.end());

    ++checked[r.file];
  }

  for (const auto name : kFiles) {
    INFO(name);
    CHECK(checked[std::string(name)] > 0);
  }
  // Every file holds the same baskets as the uncompressed one.
  for (const auto name : kFiles) {
    INFO(name);
    CHECK(checked[std::string(name)] == reference.size());
  }
  // The uncompressed file's baskets are all stored raw (and some lz4 ones are).
  CHECK(stored_raw >= reference.size());
}

TEST_CASE("HZZ compressed baskets never write past a destination one byte short",
          "[hzz][root_blocks]") {
  const TestData td = locate_testdata();
  if (!td.missing.empty()) {
    DECOFLOW_SKIP("skipped: HZZ test data " << td.missing << " not found");
  }
  const std::vector<Row> rows =
      load_fixture(fs::path(DECOFLOW_FIXTURE_DIR) / "hzz_baskets.tsv");

  decoflow::Decoder decoder;
  std::vector<std::byte> out;
  std::size_t tried = 0;
  std::map<std::string, std::vector<std::byte>, std::less<>> files;
  for (const Row& r : rows) {
    auto [it, inserted] = files.try_emplace(r.file);
    if (inserted) it->second = read_file(td.root_dir / r.file);
    const std::vector<std::byte>& file = it->second;
    REQUIRE(r.seek + r.compressed_bytes <= file.size());
    const std::span<const std::byte> src = payload_of(file, r);
    const auto objlen = static_cast<std::size_t>(r.objlen);
    // Only compressed baskets (a stored-raw one of objlen - 1 bytes would be copied).
    if (src.size() == objlen || src.size() + 1 == objlen || objlen == 0) continue;
    INFO(r.file << " branch " << r.branch << " basket " << r.basket);

    const std::size_t short_len = objlen - 1;
    out.assign(short_len + 2 * kGuard, kGuardByte);
    const std::span<std::byte> dst = std::span<std::byte>(out).subspan(kGuard, short_len);
    bool threw = false;
    try {
      (void)decoder.root_blocks_into(src, dst);
    } catch (const decoflow::Error& e) {
      threw = true;
      CHECK(e.code() == decoflow::ErrorCode::size_mismatch);
    }
    CHECK(threw);
    const auto guard_ok = [](std::byte b) { return b == kGuardByte; };
    CHECK(std::all_of(out.begin(), out.begin() + kGuardDiff, guard_ok));
    CHECK(std::all_of(out.end() - kGuardDiff, out.end(), guard_ok));
    ++tried;
  }
  CHECK(tried > 0);

  // The decoder is still usable after all those errors.
  const Row& first = rows.front();
  const std::vector<std::byte>& file = files.at(first.file);
  out.assign(static_cast<std::size_t>(first.objlen), std::byte{0});
  CHECK(decoder.root_blocks_into(payload_of(file, first), out) == out.size());
  CHECK(XXH64(out.data(), out.size(), 0) == first.xxh64);
}
