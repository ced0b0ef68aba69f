// Bad input through the executor: each case fails with a clear error naming
// the chunk, writes nothing outside the bad chunk's slice, leaves the other
// slices correct or untouched, and leaves the executor usable.
#include <cstring>
#include <string>

#include "catch.hpp"
#include "decoflow/error.hpp"
#include "decoflow/executor.hpp"
#include "engine_fixtures.hpp"

using namespace decoflow;
using namespace decoflow::test;

namespace {

constexpr std::size_t bad_index = 3;

// Eight good zstd chunks, with chunk 3 replaced by `input` decoded as `codec`
// into a slice of `dest_size` bytes.
ChunkedData with_bad_chunk(const Bytes& input, Codec codec, std::size_t dest_size) {
  ChunkedData data = make_chunks(8, 4096, {Codec::zstd}, 5, 32);
  // Rebuild with the bad chunk spliced in, keeping the layout rules of make_chunks.
  ChunkedData out;
  out.gap = data.gap;
  std::size_t dest = data.gap;
  for (std::size_t i = 0; i < data.chunks.size(); ++i) {
    ChunkSpec c = data.chunks[i];
    Bytes packed(data.compressed.begin() + static_cast<std::ptrdiff_t>(c.input_offset),
                 data.compressed.begin() + static_cast<std::ptrdiff_t>(c.input_offset + c.input_size));
    Bytes content(data.original.begin() + static_cast<std::ptrdiff_t>(data.original_offset[i]),
                  data.original.begin() + static_cast<std::ptrdiff_t>(data.original_offset[i] + c.dest_size));
    if (i == bad_index) {
      packed = input;
      content.assign(dest_size, std::byte{0});  // never compared: the chunk fails
      c.codec = codec;
      c.dest_size = dest_size;
    }
    c.input_offset = out.compressed.size();
    c.input_size = packed.size();
    c.dest_offset = dest;
    out.chunks.push_back(c);
    out.original_offset.push_back(out.original.size());
    out.original.insert(out.original.end(), content.begin(), content.end());
    out.compressed.insert(out.compressed.end(), packed.begin(), packed.end());
    dest += c.dest_size + out.gap;
  }
  out.array_size = dest;
  return out;
}

void expect_chunk_error(const Bytes& input, Codec codec, std::size_t dest_size, ErrorCode code) {
  const ChunkedData data = with_bad_chunk(input, codec, dest_size);
  Executor executor(2);
  BuiltGraph built = build_graph(data, "bad-input");
  GraphRun run = executor.submit(std::move(built.graph));
  try {
    run.get();
    FAIL("the bad chunk did not fail");
  } catch (const Error& e) {
    INFO(e.what());
    REQUIRE(e.code() == code);
    REQUIRE(e.chunk() == static_cast<std::int64_t>(bad_index));
    REQUIRE(e.graph() == "bad-input");
    REQUIRE(e.node() == "decode");
  }
  REQUIRE(gaps_intact(data, *built.array));
  const auto states = run.chunk_states();
  REQUIRE(states[bad_index] == ChunkState::failed);
  for (std::size_t i = 0; i < data.chunks.size(); ++i) {
    if (i == bad_index) continue;
    REQUIRE((slice_matches(data, *built.array, i) || slice_untouched(data, *built.array, i)));
    if (states[i] == ChunkState::done) REQUIRE(slice_matches(data, *built.array, i));
  }
  // The executor stays usable.
  const ChunkedData good = make_chunks(50, 4096, {Codec::zstd, Codec::lz4_block}, 9);
  BuiltGraph again = build_graph(good);
  executor.run(std::move(again.graph));
  for (std::size_t i = 0; i < good.chunks.size(); ++i) REQUIRE(slice_matches(good, *again.array, i));
}

Bytes truncated(Bytes b) {
  b.resize(b.size() / 2);
  return b;
}

void expect_submit_error(ErrorCode code, ChunkSpec bad, std::size_t array_size = 4096,
                         const std::string& needle = {}) {
  Executor executor(2);
  auto array = DestinationArray::allocate(array_size);
  std::memset(array->data(), static_cast<int>(poison_byte), array_size);
  Graph g("submit-check");
  g.add_input(InputBuffer::from_bytes(random_bytes(4096)));
  g.add_array(array);
  g.add_stage(Stage::decode());
  g.add_stage(Stage::byteswap(4));
  g.add_chunk({0, 0, 256, 0, 0, 256, Codec::raw, 0});
  g.add_chunk({0, 256, 256, 0, 256, 256, Codec::raw, 0});
  g.add_chunk(bad);
  try {
    executor.submit(std::move(g));
    FAIL("submit accepted a bad graph");
  } catch (const Error& e) {
    INFO(e.what());
    REQUIRE(e.code() == code);
    REQUIRE(e.chunk() == 2);
    if (!needle.empty()) REQUIRE(e.cause().find(needle) != std::string::npos);
  }
  for (std::size_t k = 0; k < array_size; ++k) REQUIRE(array->data()[k] == poison_byte);
  REQUIRE_FALSE(array->in_use());
}

}  // namespace

TEST_CASE("truncated input fails its chunk, for every codec", "[bad-input]") {
  const Bytes content = physics_bytes(20000, 2);
  expect_chunk_error(truncated(zstd_compress(view(content))), Codec::zstd, content.size(),
                     ErrorCode::corrupt_input);
  expect_chunk_error(truncated(lz4_block_compress(view(content))), Codec::lz4_block,
                     content.size(), ErrorCode::corrupt_input);
  expect_chunk_error(truncated(lz4_frame_compress(view(content))), Codec::lz4_frame,
                     content.size(), ErrorCode::corrupt_input);
  for (const char* algo : {"ZS", "L4", "ZL", "XZ"}) {
    CAPTURE(algo);
    expect_chunk_error(truncated(root_blocks(view(content), algo)), Codec::root_blocks,
                       content.size(), ErrorCode::corrupt_input);
  }
}

TEST_CASE("flipped payload bytes fail their chunk", "[bad-input]") {
  const Bytes content = physics_bytes(20000, 4);
  Bytes zstd = zstd_compress(view(content), 3, /*checksum=*/true);
  zstd[zstd.size() / 2] ^= std::byte{0xFF};
  expect_chunk_error(zstd, Codec::zstd, content.size(), ErrorCode::corrupt_input);
  Bytes l4 = root_blocks(view(content), "L4");
  l4[l4.size() / 2] ^= std::byte{0x01};
  expect_chunk_error(l4, Codec::root_blocks, content.size(), ErrorCode::checksum_mismatch);
}

TEST_CASE("declared sizes that disagree with the content fail", "[bad-input]") {
  const Bytes content = physics_bytes(8192, 6);
  // Destination smaller than the content, and larger than it.
  expect_chunk_error(zstd_compress(view(content)), Codec::zstd, 4096, ErrorCode::size_mismatch);
  expect_chunk_error(zstd_compress(view(content)), Codec::zstd, 16384, ErrorCode::size_mismatch);
  expect_chunk_error(root_blocks(view(content), "ZS"), Codec::root_blocks, 8000,
                     ErrorCode::size_mismatch);
  expect_chunk_error(lz4_frame_compress(view(content)), Codec::lz4_frame, 100,
                     ErrorCode::size_mismatch);
  // A chunk declaring zero output with a non-empty payload, and the reverse.
  expect_chunk_error(zstd_compress(view(content)), Codec::zstd, 0, ErrorCode::size_mismatch);
  expect_chunk_error(Bytes{}, Codec::zstd, 4096, ErrorCode::size_mismatch);
}

TEST_CASE("ROOT block headers that lie or that name other algorithms fail", "[bad-input]") {
  const Bytes content = physics_bytes(4096, 8);
  Bytes unknown = root_blocks(view(content), "ZS");
  unknown[0] = std::byte{'Q'};
  unknown[1] = std::byte{'Q'};
  expect_chunk_error(unknown, Codec::root_blocks, content.size(), ErrorCode::unsupported_format);
  Bytes cs = root_blocks(view(content), "ZL");
  cs[0] = std::byte{'C'};
  cs[1] = std::byte{'S'};
  expect_chunk_error(cs, Codec::root_blocks, content.size(), ErrorCode::unsupported_format);
  // A header claiming 16 MiB out of a 10-byte input: refused before any work.
  Bytes bomb = root_block_header("ZS", 1, 1, 0xFFFFFF);
  bomb.push_back(std::byte{0});
  expect_chunk_error(bomb, Codec::root_blocks, 4096, ErrorCode::size_mismatch);
}

TEST_CASE("slices and input ranges are checked at submit, naming the chunk", "[bad-input]") {
  expect_submit_error(ErrorCode::slice_error, {0, 0, 64, 0, 4090, 64, Codec::raw, 0}, 4096,
                      "outside array");
  expect_submit_error(ErrorCode::slice_error, {0, 0, 64, 0, UINT64_MAX - 8, 64, Codec::raw, 0},
                      4096, "outside array");
  expect_submit_error(ErrorCode::slice_error, {0, 0, 64, 0, 300, 64, Codec::raw, 0}, 4096,
                      "overlaps chunk 1");
  expect_submit_error(ErrorCode::invalid_argument, {0, 4000, 200, 0, 1024, 200, Codec::raw, 0},
                      4096, "outside input");
  expect_submit_error(ErrorCode::slice_error, {0, 0, 6, 0, 1024, 6, Codec::raw, 0}, 4096,
                      "byteswap width");
}
