// RNTuple pages as column chunks: each encoding of the specification made by
// hand here (split byte planes, zigzag, delta index, bits, Real16,
// Real32Trunc, Real32Quant, Switch), framed raw or in ROOT zstd blocks, with
// and without their xxHash3; the slice poisoned and its guards checked. And
// a whole read from C++ alone: anchor, envelopes, plan, Executor.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <vector>

#include <xxhash.h>

#include "catch.hpp"
#include "decoflow/column_chunk.hpp"
#include "decoflow/executor.hpp"
#include "decoflow/rntuple.hpp"
#include "decoflow/root_file.hpp"
#include "test_support.hpp"

using namespace decoflow;
using namespace decoflow::test;

namespace {

template <typename T>
Bytes plain_bytes(const std::vector<T>& values) {
  Bytes out(values.size() * sizeof(T));
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

// Byte planes: all first bytes, then all second bytes, ...
Bytes split(const Bytes& plain, std::size_t width) {
  const std::size_t n = plain.size() / width;
  Bytes out(plain.size());
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t b = 0; b < width; ++b) out[b * n + i] = plain[i * width + b];
  }
  return out;
}

Bytes with_checksum(Bytes page) {
  const std::uint64_t sum = XXH3_64bits(page.data(), page.size());
  const auto* p = reinterpret_cast<const std::byte*>(&sum);
  page.insert(page.end(), p, p + 8);
  return page;
}

ColumnChunk page_chunk(ElementCoding coding, RootType stored, RootType value, std::uint64_t n) {
  ColumnChunk c;
  c.framing = ChunkFraming::rntuple_page;
  c.coding = coding;
  c.stored_type = stored;
  c.value_type = value;
  c.width = root_type_width(value);
  c.entries = n;
  c.content_bytes = n * c.width;
  return c;
}

// Decodes `stored` into a guarded, poisoned slice: every byte written, none outside.
Bytes decode(const ColumnChunk& c, const Bytes& stored) {
  GuardedBuffer out(static_cast<std::size_t>(c.content_bytes));
  ScratchPool scratch;
  decode_column_chunk(c, view(stored), out.span(), {}, thread_decoder(), scratch);
  REQUIRE(out.guards_intact());
  return out.prefix(static_cast<std::size_t>(c.content_bytes));
}

template <typename T>
std::vector<T> values_of(const Bytes& bytes) {
  std::vector<T> out(bytes.size() / sizeof(T));
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

std::uint32_t zigzag(std::int32_t v) {
  return (static_cast<std::uint32_t>(v) << 1) ^ static_cast<std::uint32_t>(v >> 31);
}

// Values of `nbits` bits packed least significant first.
Bytes pack_bits(const std::vector<std::uint32_t>& values, unsigned nbits) {
  Bytes out((values.size() * nbits + 7) / 8);
  for (std::size_t i = 0; i < values.size(); ++i) {
    for (unsigned b = 0; b < nbits; ++b) {
      if ((values[i] >> b) & 1u) {
        const std::size_t bit = i * nbits + b;
        out[bit / 8] |= static_cast<std::byte>(1u << (bit % 8));
      }
    }
  }
  return out;
}

// Pages long enough for the vector loops (16 elements a step) and their
// tails, for several blocks of the buffer that widened and index pages are
// made native through (512 elements), and for the streamed stores of pages
// of 256 KiB and more: every length around those edges,
// every split width, zigzag and not, raw and compressed.
template <typename S, typename U>
void check_long_split_pages(RootType type, bool zigzag) {
  for (const std::size_t n : {std::size_t{1}, std::size_t{15}, std::size_t{16}, std::size_t{17},
                              std::size_t{511}, std::size_t{512}, std::size_t{1040}, std::size_t{4099},
                              std::size_t{140001}}) {
    std::vector<S> values(n);
    std::vector<U> stored(n);
    std::uint64_t x = 0x9E3779B97F4A7C15ull * n;
    for (std::size_t i = 0; i < n; ++i) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      values[i] = static_cast<S>(x >> 17);
      const U u = static_cast<U>(values[i]);
      // Zigzag: 2u for v >= 0, -2v - 1 (all bits of 2u flipped) for v < 0.
      stored[i] = zigzag ? static_cast<U>(static_cast<U>(u << 1) ^ (values[i] < 0 ? static_cast<U>(~U{0}) : U{0}))
                         : u;
    }
    ColumnChunk c = page_chunk(ElementCoding::le_values, type, type, n);
    c.split = true;
    c.zigzag = zigzag;
    const Bytes page = split(plain_bytes(stored), sizeof(U));
    INFO("width " << sizeof(U) << ", zigzag " << zigzag << ", " << n << " elements");
    REQUIRE(values_of<S>(decode(c, page)) == values);
    REQUIRE(values_of<S>(decode(c, root_blocks(view(page), "ZS"))) == values);
    {
      // A slice that starts one element past a 16-byte boundary (pages of
      // 256 KiB and more are written with aligned streaming stores, after a
      // few elements one at a time): every byte of it, none before it.
      GuardedBuffer out(n * sizeof(U) + 16);
      const MutableBytes slice = out.span().subspan(sizeof(U), n * sizeof(U));
      ScratchPool scratch;
      decode_column_chunk(c, view(page), slice, {}, thread_decoder(), scratch);
      REQUIRE(out.guards_intact());
      const Bytes all = out.prefix(out.size());
      for (std::size_t b = 0; b < sizeof(U); ++b) REQUIRE(all[b] == GuardedBuffer::poison);
      for (std::size_t b = sizeof(U) + n * sizeof(U); b < all.size(); ++b) REQUIRE(all[b] == GuardedBuffer::poison);
      REQUIRE(values_of<S>(Bytes(all.begin() + sizeof(U), all.begin() + static_cast<std::ptrdiff_t>(sizeof(U) + n * sizeof(U)))) == values);
    }
    if constexpr (sizeof(S) < 8) {
      // Widened: through the block buffer.
      ColumnChunk wide = c;
      wide.value_type = RootType::int64;
      wide.width = 8;
      wide.content_bytes = n * 8;
      const std::vector<std::int64_t> got = values_of<std::int64_t>(decode(wide, page));
      REQUIRE(std::equal(got.begin(), got.end(), values.begin(), values.end(),
                         [](std::int64_t g, S v) { return g == static_cast<std::int64_t>(v); }));
    }
  }
}

}  // namespace

TEST_CASE("RNTuple split pages of every width, around the vector and block edges") {
  check_long_split_pages<std::int16_t, std::uint16_t>(RootType::int16, true);
  check_long_split_pages<std::uint16_t, std::uint16_t>(RootType::uint16, false);
  check_long_split_pages<std::int32_t, std::uint32_t>(RootType::int32, true);
  check_long_split_pages<std::uint32_t, std::uint32_t>(RootType::uint32, false);
  check_long_split_pages<std::int64_t, std::uint64_t>(RootType::int64, true);
  check_long_split_pages<std::uint64_t, std::uint64_t>(RootType::uint64, false);
}

TEST_CASE("RNTuple split delta index pages over several blocks, 32- and 64-bit") {
  for (const std::size_t n : {std::size_t{511}, std::size_t{512}, std::size_t{513}, std::size_t{2000}}) {
    std::vector<std::uint64_t> deltas(n);
    std::vector<std::int64_t> want(n);
    std::uint64_t end = 0;
    for (std::size_t i = 0; i < n; ++i) {
      deltas[i] = (i * 7919) % 13;
      end += deltas[i];
      want[i] = 1000 + static_cast<std::int64_t>(end);
    }
    ColumnChunk c = page_chunk(ElementCoding::le_index, RootType::uint64, RootType::int64, n);
    c.split = true;
    c.value_base = 1000;
    c.value_limit = end;
    REQUIRE(values_of<std::int64_t>(decode(c, split(plain_bytes(deltas), 8))) == want);
    c.stored_type = RootType::uint32;
    std::vector<std::uint32_t> narrow(deltas.begin(), deltas.end());
    REQUIRE(values_of<std::int64_t>(decode(c, split(plain_bytes(narrow), 4))) == want);
    // Backwards in the last block: located at its page element.
    narrow[n - 2] = static_cast<std::uint32_t>(-1000);
    const std::string back = require_error(ErrorCode::corrupt_input, [&] { decode(c, split(plain_bytes(narrow), 4)); });
    REQUIRE(back.find("(page element " + std::to_string(n - 2) + ")") != std::string::npos);
  }
}
TEST_CASE("RNTuple split zigzag int32 pages decode, raw and in zstd blocks, with a checksum") {
  const std::vector<std::int32_t> values = {-3, 0, 5, -100000, 2147483647, -2147483647 - 1, 7};
  std::vector<std::uint32_t> encoded;
  for (const std::int32_t v : values) encoded.push_back(zigzag(v));
  const Bytes page = split(plain_bytes(encoded), 4);
  ColumnChunk c = page_chunk(ElementCoding::le_values, RootType::int32, RootType::int32, values.size());
  c.split = c.zigzag = true;
  REQUIRE(values_of<std::int32_t>(decode(c, page)) == values);

  c.page_checksum = true;
  const Bytes zstd = with_checksum(root_blocks(view(page), "ZS"));
  REQUIRE(zstd.size() < page.size() + 8 + 64);
  REQUIRE(values_of<std::int32_t>(decode(c, zstd)) == values);
  Bytes flipped = zstd;
  flipped[12] ^= std::byte{0x10};
  require_error(ErrorCode::checksum_mismatch, [&] { decode(c, flipped); });
}

TEST_CASE("RNTuple Real16 and float32 pages widen, split or not") {
  const std::vector<std::uint16_t> halves = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000, 0x7C00};
  const std::vector<float> want = {1.0f, -2.0f, 65504.0f, std::ldexp(1.0f, -24), -0.0f,
                                   std::bit_cast<float>(0x7F800000u)};
  ColumnChunk c = page_chunk(ElementCoding::le_values, RootType::float16, RootType::float32, halves.size());
  const auto got = values_of<float>(decode(c, plain_bytes(halves)));
  for (std::size_t i = 0; i < want.size(); ++i) REQUIRE(std::bit_cast<std::uint32_t>(got[i]) == std::bit_cast<std::uint32_t>(want[i]));
  c.split = true;
  REQUIRE(values_of<float>(decode(c, split(plain_bytes(halves), 2))) == got);

  const std::vector<float> floats = {1.5f, -2.25f, 3e30f};
  ColumnChunk d = page_chunk(ElementCoding::le_values, RootType::float32, RootType::float64, floats.size());
  d.split = true;
  REQUIRE(values_of<double>(decode(d, split(plain_bytes(floats), 4))) == std::vector<double>{1.5, -2.25, double(3e30f)});
}

TEST_CASE("RNTuple split delta index pages become global ends; backwards or past the content fail") {
  const std::vector<std::int64_t> ends = {2, 2, 5, 9};
  std::vector<std::int64_t> deltas = {2, 0, 3, 4};
  ColumnChunk c = page_chunk(ElementCoding::le_index, RootType::uint64, RootType::int64, ends.size());
  c.split = true;
  c.value_base = 100;
  c.value_limit = 9;
  REQUIRE(values_of<std::int64_t>(decode(c, split(plain_bytes(deltas), 8))) ==
          std::vector<std::int64_t>{102, 102, 105, 109});

  ColumnChunk unsplit = page_chunk(ElementCoding::le_index, RootType::uint32, RootType::int64, 4);
  unsplit.value_limit = 9;
  REQUIRE(values_of<std::int64_t>(decode(unsplit, plain_bytes(std::vector<std::uint32_t>{2, 2, 5, 9}))) == ends);
  // Index64 (uproot's): made global in place in the slice, raw or compressed.
  ColumnChunk wide = page_chunk(ElementCoding::le_index, RootType::uint64, RootType::int64, 4);
  wide.value_limit = 9;
  wide.value_base = 7;
  const Bytes wide_ends = plain_bytes(std::vector<std::uint64_t>{2, 2, 5, 9});
  const std::vector<std::int64_t> global = {9, 9, 12, 16};
  REQUIRE(values_of<std::int64_t>(decode(wide, wide_ends)) == global);
  REQUIRE(values_of<std::int64_t>(decode(wide, root_blocks(view(wide_ends), "ZS"))) == global);
  const std::string wide_back = require_error(ErrorCode::corrupt_input, [&] {
    decode(wide, plain_bytes(std::vector<std::uint64_t>{2, 3, 1, 9}));
  });
  REQUIRE(wide_back.find("(page element 2)") != std::string::npos);

  deltas[2] = -1;  // 2, 2, 1: backwards
  const std::string back = require_error(ErrorCode::corrupt_input, [&] { decode(c, split(plain_bytes(deltas), 8)); });
  REQUIRE(back.find("go backwards") != std::string::npos);
  c.value_limit = 8;  // the last end, 9, is past the cluster's 8 elements
  deltas[2] = 3;
  require_error(ErrorCode::corrupt_input, [&] { decode(c, split(plain_bytes(deltas), 8)); });
}

TEST_CASE("RNTuple bit, Real32Trunc and Real32Quant pages unpack") {
  const std::vector<std::uint32_t> bits = {1, 0, 0, 1, 1, 1, 0, 1, 0, 1, 1};
  ColumnChunk b = page_chunk(ElementCoding::le_bits, RootType::uint8, RootType::boolean, bits.size());
  const Bytes got_bits = decode(b, pack_bits(bits, 1));
  for (std::size_t i = 0; i < bits.size(); ++i) REQUIRE(std::to_integer<unsigned>(got_bits[i]) == bits[i]);

  const std::vector<float> floats = {3.14159f, -1234.5f, 1e-20f, 0.0f, -7.0f};
  for (const unsigned nbits : {10u, 13u, 20u, 31u}) {
    std::vector<std::uint32_t> kept;
    std::vector<float> want;
    for (const float f : floats) {
      kept.push_back(std::bit_cast<std::uint32_t>(f) >> (32 - nbits));
      want.push_back(std::bit_cast<float>(kept.back() << (32 - nbits)));
    }
    ColumnChunk t = page_chunk(ElementCoding::le_real32_trunc, RootType::uint8, RootType::float32, floats.size());
    t.nbits = static_cast<std::uint8_t>(nbits);
    REQUIRE(values_of<float>(decode(t, pack_bits(kept, nbits))) == want);
  }

  const std::vector<std::uint32_t> q = {0, 15, 7, 1, 8};
  ColumnChunk quant = page_chunk(ElementCoding::le_real32_quant, RootType::uint8, RootType::float32, q.size());
  quant.nbits = 4;
  quant.low = -1;
  quant.high = 1;
  std::vector<float> want;
  for (const std::uint32_t v : q) want.push_back(static_cast<float>(-1.0 + v * 2.0 / 15.0));
  REQUIRE(values_of<float>(decode(quant, pack_bits(q, 4))) == want);
}

TEST_CASE("RNTuple pages whose size disagrees with their elements, and zero chunks") {
  ColumnChunk c = page_chunk(ElementCoding::le_values, RootType::int32, RootType::int32, 4);
  // 12 bytes for 4 elements: not raw, so ROOT blocks, and these are none
  // (their "algorithm" bytes 01 00 00 name no codec).
  require_error(ErrorCode::unsupported_format, [&] { decode(c, plain_bytes(std::vector<std::int32_t>{1, 2, 3})); });
  // Blocks that decode to fewer bytes than the elements need.
  const Bytes short_blocks = root_blocks(view(plain_bytes(std::vector<std::int32_t>{1, 2, 3})), "ZS");
  REQUIRE_THROWS_AS(decode(c, short_blocks), Error);

  ColumnChunk zeros = page_chunk(ElementCoding::le_index, RootType::uint64, RootType::int64, 3);
  zeros.framing = ChunkFraming::rntuple_zeros;
  zeros.value_base = 42;
  REQUIRE(values_of<std::int64_t>(decode(zeros, {})) == std::vector<std::int64_t>{42, 42, 42});
}

TEST_CASE("RNTuple switch pages: each entry's alternative index made global, << 8 | its tag") {
  // (index, tag) as 12-byte elements: alternative 1 (tag 1) starts at 10 in
  // the read, alternative 2 at 100; tag 0 is "no alternative".
  Bytes page;
  const auto put = [&](std::uint64_t index, std::uint32_t tag) {
    const auto* i = reinterpret_cast<const std::byte*>(&index);
    const auto* t = reinterpret_cast<const std::byte*>(&tag);
    page.insert(page.end(), i, i + 8);
    page.insert(page.end(), t, t + 4);
  };
  put(0, 1);
  put(0, 2);
  put(3, 0);
  put(1, 1);
  const std::vector<std::int64_t> bases = {10, 2, 100, 1};  // base, elements per alternative
  ColumnChunk c = page_chunk(ElementCoding::le_switch, RootType::uint64, RootType::int64, 4);
  c.tag_bases = bases.data();
  c.tag_count = 2;
  REQUIRE(values_of<std::int64_t>(decode(c, page)) ==
          std::vector<std::int64_t>{10 << 8 | 1, 100 << 8 | 2, 0, 11 << 8 | 1});
  Bytes bad = page;
  bad[3 * 12 + 8] = std::byte{3};  // tag 3 of 2 alternatives
  require_error(ErrorCode::corrupt_input, [&] { decode(c, bad); });
  bad = page;
  bad[12] = std::byte{1};  // alternative 2 has 1 element: index 1 is past it
  require_error(ErrorCode::corrupt_input, [&] { decode(c, bad); });
}

// ---------------------------------------------------------------- whole reads

TEST_CASE("an RNTuple read from C++ alone: anchor, envelopes, pages, through an Executor") {
  // tests/fixtures/rntuple/rntuple-zstd.root (scripts/make_rntuple_fixtures.py):
  // 1500 entries in 5 clusters, i32 = e % 3 == 0 ? -1000 e : 77 e (SplitInt32),
  // vf a std::vector<float> (SplitIndex64 offsets).
  const auto path = std::filesystem::path(DECOFLOW_FIXTURE_DIR) / "rntuple" / "rntuple-zstd.root";
  const RootFile file = RootFile::open(path.string());
  const RNTuple ntuple(file.file(), read_rntuple_anchor(file, "ntuple"), "ntuple");
  REQUIRE(ntuple.entries() == 1500);
  REQUIRE(ntuple.clusters().size() == 5);
  const auto field = [&](std::string_view name) {
    for (std::uint32_t f = 0; f < ntuple.fields().size(); ++f) {
      if (ntuple.fields()[f].name == name && ntuple.fields()[f].parent == f) return f;
    }
    FAIL("no field " << name);
    return std::uint32_t{0};
  };
  std::vector<RootBranchSpec> specs;
  specs.push_back(ntuple.column_spec(field("i32"), 0, 0, 5, "i32"));
  specs.push_back(ntuple.column_spec(field("vf"), 0, 0, 5, "vf offsets"));
  RootReadPlan plan = RootTree({file.file()}, std::move(specs), "rntuple").plan();
  Executor executor(2);
  executor.run(plan.make_graph());
  plan.check();
  const auto results = plan.collect();
  const auto* i32 = reinterpret_cast<const std::int32_t*>(results[0].content->data());
  REQUIRE(results[0].content_items == 1500);
  for (std::int32_t e = 0; e < 1500; ++e) REQUIRE(i32[e] == (e % 3 == 0 ? -e * 1000 : e * 77));
  // The offsets: a leading 0, then 1500 ends, never backwards, global across clusters.
  REQUIRE(results[1].content->size() == 1501 * sizeof(std::int64_t));
  const auto* ends = reinterpret_cast<const std::int64_t*>(results[1].content->data());
  REQUIRE(ends[0] == 0);
  for (std::size_t e = 1; e <= 1500; ++e) REQUIRE(ends[e] >= ends[e - 1]);
  REQUIRE(ends[1500] > 1500);  // Poisson-ish 0..5 values per entry, a fifth empty

  REQUIRE_THROWS_AS(read_rntuple_anchor(file, "nope"), Error);
}
