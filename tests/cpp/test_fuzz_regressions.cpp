// Regression tests for what the fuzz targets (tests/fuzz/) found; each case
// names the target and the input that showed it. docs/RELIABILITY.md keeps
// the record.
#include <cstring>
#include <string>

#include "catch.hpp"
#include "decoflow/byteswap.hpp"
#include "decoflow/decoder.hpp"
#include "decoflow/error.hpp"
#include "decoflow/executor.hpp"
#include "engine_fixtures.hpp"

using namespace decoflow;
using namespace decoflow::test;

namespace {

// A frame that declares its content size, cut short: LZ4F stops mid-frame
// with part of that size still "remaining".
Bytes truncated_frame_with_content_size() {
  Lz4FrameOptions with_size;
  with_size.content_size = true;
  Bytes frame = lz4_frame_compress(view(physics_bytes(3000, 41)), with_size);
  frame.resize(frame.size() - 12);
  return frame;
}

}  // namespace

// fuzz_lz4_frame: a Decoder reused after an lz4 frame that declared a content
// size and failed refused the next good frame that declares none
// (size_mismatch: LZ4F_resetDecompressionContext keeps the remaining size).
TEST_CASE("lz4 frame: a Decoder that failed mid-frame decodes the next frame", "[fuzz][lz4]") {
  Decoder decoder;
  const Bytes bad = truncated_frame_with_content_size();
  GuardedBuffer scratch(3000);
  require_error(ErrorCode::corrupt_input, [&] { decoder.lz4_frame_into(view(bad), scratch.span()); });

  const Bytes content = physics_bytes(2000, 42);
  const Bytes good = lz4_frame_compress(view(content));  // no content size
  GuardedBuffer out(content.size());
  REQUIRE(decoder.lz4_frame_into(view(good), out.span()) == content.size());
  CHECK(out.prefix(content.size()) == content);
  CHECK(out.guards_intact());

  // The same after a frame whose content overflows the destination.
  Lz4FrameOptions with_size;
  with_size.content_size = true;
  const Bytes big = lz4_frame_compress(view(physics_bytes(5000, 43)), with_size);
  GuardedBuffer small(100);
  require_error(ErrorCode::size_mismatch, [&] { decoder.lz4_frame_into(view(big), small.span()); });
  GuardedBuffer again(content.size());
  REQUIRE(decoder.lz4_frame_into(view(good), again.span()) == content.size());
  CHECK(again.prefix(content.size()) == content);
}

// The same through the engine: one worker thread, so the good graph reuses
// the thread's Decoder that saw the bad chunk.
TEST_CASE("lz4 frame: a failed chunk does not fail a later graph on the same thread", "[fuzz][lz4]") {
  Executor executor(1);
  Graph bad("bad");
  const std::uint32_t in = bad.add_input(InputBuffer::from_bytes(truncated_frame_with_content_size()));
  const std::uint32_t out = bad.add_array(DestinationArray::allocate(3000));
  bad.add_stage(Stage::decode());
  bad.add_chunk({.input = in, .input_offset = 0, .input_size = bad.inputs()[0]->size(), .array = out,
                 .dest_offset = 0, .dest_size = 3000, .codec = Codec::lz4_frame});
  require_error(ErrorCode::corrupt_input, [&] { executor.run(std::move(bad)); });

  const ChunkedData data = make_chunks(6, 4000, {Codec::lz4_frame}, 44);
  BuiltGraph built = build_graph(data, "good");
  executor.run(std::move(built.graph));
  for (std::size_t i = 0; i < data.chunks.size(); ++i) CHECK(slice_matches(data, *built.array, i));
  CHECK(gaps_intact(data, *built.array));
}

// fuzz_graph: scratch outputs of one batch whose sizes wrapped past 2^64
// sized the scratch buffer by the wrapped sum, and a chunk decoded past it.
// Here the planner puts all three chunks in one batch (it aims at 100,500 /
// (2 threads x 16) = 3,140 bytes, and its own running sum wraps to 500 after
// chunk 1), the pool buffer gets 1,000 + (2^64 - 500) + 100,000 = 100,500
// bytes, and chunk 1 decodes 200,000 bytes from offset 1,000 of it: a heap
// overflow before the fix.
TEST_CASE("scratch outputs whose sizes add up past 2^64 are refused at submit", "[fuzz][engine]") {
  Graph graph("wrap");
  const Bytes small = zstd_compress(view(physics_bytes(1000, 45)));
  const Bytes big = zstd_compress(view(Bytes(200000, std::byte{7})));
  const std::uint32_t in = graph.add_input(InputBuffer::from_bytes(concat({view(small), view(big)})));
  graph.add_stage(Stage::decode());
  graph.add_chunk({.input = in, .input_offset = 0, .input_size = small.size(), .array = scratch_output,
                   .dest_offset = 0, .dest_size = 1000, .codec = Codec::zstd});
  for (const std::uint64_t bound : {~std::uint64_t{0} - 499, std::uint64_t{100000}}) {
    graph.add_chunk({.input = in, .input_offset = small.size(), .input_size = big.size(),
                     .array = scratch_output, .dest_offset = 0, .dest_size = bound, .codec = Codec::zstd});
  }
  Executor executor(2);
  try {
    executor.submit(std::move(graph)).wait();
    FAIL("submitted");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(e.chunk() == 1);
    CHECK(e.cause().find("2^64") != std::string::npos);
  }
}

// fuzz_graph: scratch that cannot be allocated threw std::bad_alloc out of a
// flow-graph node, and the caller got that instead of a decoflow::Error.
// (The asan preset sets allocator_may_return_null=1 so that the allocation
// fails instead of aborting the test, as it does in a normal build.)
TEST_CASE("scratch that cannot be allocated fails the run with resource_error", "[fuzz][engine]") {
  Graph graph("huge-scratch");
  const Bytes content = physics_bytes(64, 46);
  const Bytes packed = zstd_compress(view(content), 3, false, false);
  const std::uint32_t in = graph.add_input(InputBuffer::from_bytes(packed));
  graph.add_stage(Stage::decode());
  graph.add_chunk({.input = in, .input_offset = 0, .input_size = packed.size(), .array = scratch_output,
                   .dest_offset = 0, .dest_size = std::uint64_t{1} << 62, .codec = Codec::zstd});
  Executor executor(2);
  GraphRun run = executor.submit(std::move(graph));
  run.wait();
  try {
    run.get();
    FAIL("a 2^62-byte scratch buffer was allocated");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::resource_error);
    CHECK(e.chunk() == 0);
    CHECK(e.node() == "decode");
  }
  CHECK(run.chunk_states()[0] == ChunkState::failed);

  // The executor is still usable.
  const ChunkedData data = make_chunks(4, 2000, {Codec::zstd}, 47);
  BuiltGraph built = build_graph(data);
  executor.run(std::move(built.graph));
  for (std::size_t i = 0; i < data.chunks.size(); ++i) CHECK(slice_matches(data, *built.array, i));
}

// fuzz_graph: a graph whose scratch outputs were all empty had no scratch pool,
// and the decode stage indexed that empty pool and wrote each chunk's produced
// size past the end of an empty vector.
TEST_CASE("empty scratch outputs run without a scratch pool", "[fuzz][engine]") {
  for (const bool swap : {false, true}) {
    Graph graph(swap ? "empty-scratch-swap" : "empty-scratch");
    const Bytes content = physics_bytes(256, 48);
    const std::uint32_t in = graph.add_input(InputBuffer::from_bytes(content));
    const auto array = DestinationArray::allocate(content.size());
    const std::uint32_t out = graph.add_array(array);
    graph.add_stage(Stage::decode());
    if (swap) graph.add_stage(Stage::byteswap(4));
    graph.add_chunk({.input = in, .input_offset = 0, .input_size = 0, .array = scratch_output,
                     .dest_offset = 0, .dest_size = 0, .codec = Codec::raw});
    graph.add_chunk({.input = in, .input_offset = 0, .input_size = content.size(), .array = out,
                     .dest_offset = 0, .dest_size = content.size(), .codec = Codec::raw});
    graph.add_chunk({.input = in, .input_offset = 0, .input_size = 0, .array = scratch_output,
                     .dest_offset = 0, .dest_size = 0, .codec = Codec::zstd});
    Executor executor(2);
    GraphRun run = executor.submit(std::move(graph));
    run.get();
    CHECK(run.progress().chunks_done == 3);
    Bytes expected = content;
    if (swap) byteswap_in_place(expected, 4);
    CHECK(std::memcmp(array->data(), expected.data(), expected.size()) == 0);
  }
}
