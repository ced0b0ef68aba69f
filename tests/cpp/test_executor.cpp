// The executor: correctness at 1..N threads with poisoned destinations,
// concurrency between graphs, cancellation, errors, thread placement.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <latch>
#include <mutex>
#include <set>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "catch.hpp"
#include "decoflow/byteswap.hpp"
#include "decoflow/error.hpp"
#include "decoflow/executor.hpp"
#include "engine_fixtures.hpp"

using namespace decoflow;
using namespace decoflow::test;

namespace {

const std::vector<Codec> all_codecs = {Codec::zstd, Codec::lz4_block, Codec::raw,
                                       Codec::root_blocks, Codec::lz4_frame};

// Counts how many times each chunk passed a stage, and on which threads.
struct CallLog {
  explicit CallLog(std::size_t n) : calls(n) {}
  std::vector<std::atomic<int>> calls;
  std::mutex mutex;
  std::set<std::thread::id> threads;
  Stage stage() {
    return Stage::native("count", [this](const ChunkView& v) {
      calls[v.index].fetch_add(1);
      std::lock_guard lock(mutex);
      threads.insert(std::this_thread::get_id());
    });
  }
};

}  // namespace

TEST_CASE("every chunk lands in its slice exactly once, at 1 to 8 threads", "[executor]") {
  const ChunkedData data = make_chunks(3000, 24 * 1024, all_codecs);
  for (unsigned threads : {1u, 2u, 3u, 4u, 8u}) {
    CAPTURE(threads);
    Executor executor(threads);
    REQUIRE(executor.threads() == threads);
    BuiltGraph built = build_graph(data);
    CallLog log(data.chunks.size());
    built.graph.add_stage(log.stage());
    GraphRun run = executor.submit(std::move(built.graph));
    run.get();
    REQUIRE(run.done());
    for (std::size_t i = 0; i < data.chunks.size(); ++i) {
      REQUIRE(slice_matches(data, *built.array, i));
      REQUIRE(log.calls[i].load() == 1);
    }
    REQUIRE(gaps_intact(data, *built.array));
    const Progress p = run.progress();
    REQUIRE(p.chunks_done == data.chunks.size());
    REQUIRE(p.chunks_total == data.chunks.size());
    REQUIRE(p.bytes_done == data.original.size());
    REQUIRE(p.bytes_total == data.original.size());
    auto states = run.chunk_states();
    REQUIRE(std::all_of(states.begin(), states.end(),
                        [](ChunkState s) { return s == ChunkState::done; }));
    REQUIRE_FALSE(built.array->in_use());
  }
}

TEST_CASE("node bodies never run on the thread that submits or waits", "[executor]") {
  const ChunkedData data = make_chunks(500, 4096, {Codec::zstd});
  for (unsigned threads : {1u, 2u}) {
    Executor executor(threads);
    BuiltGraph built = build_graph(data);
    CallLog log(data.chunks.size());
    built.graph.add_stage(log.stage());
    executor.run(std::move(built.graph));
    REQUIRE(log.threads.count(std::this_thread::get_id()) == 0);
    REQUIRE(log.threads.size() <= threads);
  }
}

TEST_CASE("decode then byteswap gives native-order values", "[executor]") {
  for (unsigned width : {2u, 4u, 8u}) {
    CAPTURE(width);
    const ChunkedData data = make_chunks(200, 16 * 1024, {Codec::zstd, Codec::lz4_block}, 3, 16, 8);
    BuiltGraph built = build_graph(data);
    built.graph.add_stage(Stage::byteswap(width));
    Executor executor(2);
    executor.run(std::move(built.graph));
    Bytes expected = data.original;
    byteswap_in_place(MutableBytes(expected.data(), expected.size()), width);
    for (std::size_t i = 0; i < data.chunks.size(); ++i) {
      const ChunkSpec& c = data.chunks[i];
      REQUIRE(std::memcmp(built.array->data() + c.dest_offset,
                          expected.data() + data.original_offset[i], c.dest_size) == 0);
    }
    REQUIRE(gaps_intact(data, *built.array));
  }
}

TEST_CASE("many graphs run at once on one executor", "[executor]") {
  Executor executor(3);
  constexpr std::size_t graphs = 12;
  std::vector<ChunkedData> data;
  std::vector<BuiltGraph> built;
  for (std::size_t g = 0; g < graphs; ++g) {
    data.push_back(make_chunks(300, 8192, all_codecs, static_cast<std::uint64_t>(100 + g)));
  }
  for (std::size_t g = 0; g < graphs; ++g) built.push_back(build_graph(data[g], std::to_string(g).insert(0, "g")));
  std::vector<GraphRun> runs(graphs);
  std::vector<std::thread> submitters;
  for (std::size_t g = 0; g < graphs; ++g) {
    submitters.emplace_back([&, g] { runs[g] = executor.submit(std::move(built[g].graph)); });
  }
  for (auto& t : submitters) t.join();
  for (std::size_t g = 0; g < graphs; ++g) {
    runs[g].get();
    for (std::size_t i = 0; i < data[g].chunks.size(); ++i) {
      REQUIRE(slice_matches(data[g], *built[g].array, i));
    }
    REQUIRE(gaps_intact(data[g], *built[g].array));
  }
}

TEST_CASE("graphs on disjoint slices of one array run together; overlapping ones are refused",
          "[executor]") {
  Executor executor(2);
  auto array = DestinationArray::allocate(1 << 20);
  auto input = InputBuffer::from_bytes(random_bytes(1 << 20));
  std::latch release(1);
  auto make = [&](std::string name, std::uint64_t offset, std::uint64_t size, bool block) {
    Graph g(std::move(name));
    g.add_input(input);
    g.add_array(array);
    g.add_stage(Stage::decode());
    if (block) g.add_stage(Stage::native("hold", [&](const ChunkView&) { release.wait(); }));
    g.add_chunk({0, offset, size, 0, offset, size, Codec::raw, 0});
    return g;
  };
  GraphRun holder = executor.submit(make("holder", 0, 4096, true));
  const std::string cause =
      require_error(ErrorCode::slice_error, [&] { executor.submit(make("clash", 4000, 200, false)); });
  REQUIRE(cause.find("another running graph") != std::string::npos);
  executor.run(make("beside", 4096, 4096, false));  // adjacent, not overlapping
  REQUIRE(array->in_use());
  release.count_down();
  holder.get();
  REQUIRE_FALSE(array->in_use());
  executor.run(make("after", 4000, 200, false));  // the holder's slices are free again
  REQUIRE(std::memcmp(array->data(), input->bytes().data(), 8192) == 0);
}

TEST_CASE("cancelling a run skips the chunks not started and keeps the rest", "[executor]") {
  const ChunkedData data = make_chunks(2000, 4096, {Codec::lz4_block});
  Executor executor(2);
  BuiltGraph built = build_graph(data);
  std::atomic<int> started{0};
  built.graph.add_stage(Stage::native("slow", [&](const ChunkView&) {
    started.fetch_add(1);
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }));
  GraphRun run = executor.submit(std::move(built.graph));
  while (started.load() < 20) std::this_thread::yield();
  run.cancel();
  const std::string cause = require_error(ErrorCode::cancelled, [&] { run.get(); });
  REQUIRE(cause.find("cancelled after") != std::string::npos);
  const auto states = run.chunk_states();
  std::size_t done = 0;
  for (std::size_t i = 0; i < states.size(); ++i) {
    if (states[i] == ChunkState::done) {
      ++done;
      REQUIRE(slice_matches(data, *built.array, i));
    }
  }
  REQUIRE(done == run.progress().chunks_done);
  REQUIRE(done < data.chunks.size());
  REQUIRE(gaps_intact(data, *built.array));
  // The executor goes on.
  BuiltGraph again = build_graph(data);
  executor.run(std::move(again.graph));
  for (std::size_t i = 0; i < data.chunks.size(); ++i) REQUIRE(slice_matches(data, *again.array, i));
}

TEST_CASE("the first error names graph, node and chunk and cancels the rest", "[executor]") {
  ChunkedData data = make_chunks(1000, 8192, {Codec::zstd});
  // Chunk 600's input: garbage where its frame should be.
  const ChunkSpec& bad = data.chunks[600];
  for (std::size_t k = 0; k < bad.input_size; ++k) {
    data.compressed[bad.input_offset + k] = std::byte{0x5A};
  }
  Executor executor(2);
  BuiltGraph built = build_graph(data, "broken");
  GraphRun run = executor.submit(std::move(built.graph));
  try {
    run.get();
    FAIL("no error");
  } catch (const Error& e) {
    REQUIRE(e.code() == ErrorCode::corrupt_input);
    REQUIRE(e.graph() == "broken");
    REQUIRE(e.node() == "decode");
    REQUIRE(e.chunk() == 600);
    REQUIRE(std::string(e.what()).find("chunk 600") != std::string::npos);
  }
  const auto states = run.chunk_states();
  REQUIRE(states[600] == ChunkState::failed);
  for (std::size_t i = 0; i < states.size(); ++i) {
    if (states[i] == ChunkState::done) REQUIRE(slice_matches(data, *built.array, i));
    if (states[i] == ChunkState::not_run && i != 600) {
      REQUIRE((slice_untouched(data, *built.array, i) || slice_matches(data, *built.array, i)));
    }
  }
  REQUIRE(gaps_intact(data, *built.array));
}

TEST_CASE("a native stage's exceptions become located errors", "[executor]") {
  const ChunkedData data = make_chunks(50, 1024, {Codec::raw});
  Executor executor(2);
  BuiltGraph built = build_graph(data, "thrower");
  built.graph.add_stage(Stage::native("explode", [](const ChunkView& v) {
    if (v.index == 17) throw std::runtime_error("boom at 17");
  }));
  try {
    executor.run(std::move(built.graph));
    FAIL("no error");
  } catch (const Error& e) {
    REQUIRE(e.code() == ErrorCode::stage_error);
    REQUIRE(e.node() == "explode");
    REQUIRE(e.chunk() == 17);
    REQUIRE(e.cause() == "boom at 17");
  }
}

TEST_CASE("scratch outputs reach an ordered stage in chunk order", "[executor]") {
  // Sizes are unknown to the graph: each chunk gets a capacity, and the ordered
  // stage appends what was produced, as a frames-file decoder does.
  const ChunkedData data = make_chunks(400, 20000, {Codec::zstd, Codec::lz4_frame}, 11, 0);
  Graph graph("ordered");
  graph.add_input(InputBuffer::from_bytes(data.compressed));
  graph.add_stage(Stage::decode());
  Bytes placed;
  std::vector<std::size_t> order;
  graph.add_stage(Stage::ordered("place", [&](const ChunkView& v) {
    order.push_back(v.index);
    placed.insert(placed.end(), v.output.begin(), v.output.end());
  }));
  for (ChunkSpec c : data.chunks) {
    c.array = scratch_output;
    c.dest_offset = 0;
    c.dest_size = 20000;  // an upper bound
    graph.add_chunk(c);
  }
  Executor executor(3);
  GraphRun run = executor.submit(std::move(graph));
  run.get();
  REQUIRE(order.size() == data.chunks.size());
  REQUIRE(std::is_sorted(order.begin(), order.end()));
  REQUIRE(placed == data.original);
  REQUIRE(run.progress().bytes_done == data.original.size());
}

TEST_CASE("runs report completion through wait_for and on_done", "[executor]") {
  Executor executor(1);
  std::latch release(1);
  Graph g("waiting");
  auto array = DestinationArray::allocate(64);
  g.add_array(array);
  g.add_stage(Stage::native("hold", [&](const ChunkView&) { release.wait(); }));
  g.add_chunk({0, 0, 0, 0, 0, 64, Codec::raw, 0});
  GraphRun run = executor.submit(std::move(g));
  std::atomic<int> callbacks{0};
  run.on_done([&] { callbacks.fetch_add(1); });
  REQUIRE_FALSE(run.wait_for(std::chrono::milliseconds(20)));
  REQUIRE_FALSE(run.done());
  release.count_down();
  REQUIRE(run.wait_for(std::chrono::seconds(30)));
  // Callbacks run on the finishing thread, possibly just after waiters wake.
  for (int spin = 0; spin < 30000 && callbacks.load() == 0; ++spin) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  REQUIRE(callbacks.load() == 1);
  run.on_done([&] { callbacks.fetch_add(1); });  // already done: runs at once
  REQUIRE(callbacks.load() == 2);
  REQUIRE(run.error() == nullptr);
}

TEST_CASE("an empty graph completes and a graph without stages is refused", "[executor]") {
  Executor executor(2);
  Graph empty("empty");
  empty.add_stage(Stage::decode());
  GraphRun run = executor.submit(std::move(empty));
  run.get();
  REQUIRE(run.progress().chunks_total == 0);
  Graph stageless("stageless");
  require_error(ErrorCode::invalid_argument, [&] { executor.submit(std::move(stageless)); });
}

TEST_CASE("executors come and go while others run", "[executor]") {
  const ChunkedData data = make_chunks(300, 4096, all_codecs);
  Executor outer(2);
  BuiltGraph first = build_graph(data);
  GraphRun run = outer.submit(std::move(first.graph));
  for (int k = 0; k < 5; ++k) {
    Executor inner(static_cast<unsigned>(1 + k % 3));
    BuiltGraph b = build_graph(data);
    inner.run(std::move(b.graph));
    for (std::size_t i = 0; i < data.chunks.size(); ++i) REQUIRE(slice_matches(data, *b.array, i));
  }
  run.get();
  for (std::size_t i = 0; i < data.chunks.size(); ++i) REQUIRE(slice_matches(data, *first.array, i));
}

TEST_CASE("an executor refuses to run in a forked child, and the parent goes on", "[executor]") {
  Executor executor(2);
  const ChunkedData data = make_chunks(100, 4096, {Codec::zstd});
  BuiltGraph first = build_graph(data);
  executor.run(std::move(first.graph));  // the arena's threads now exist
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    int status = 3;
    try {
      BuiltGraph in_child = build_graph(data);
      executor.submit(std::move(in_child.graph));
      status = 1;  // it must not run
    } catch (const Error& e) {
      const std::string cause = e.cause();
      status = (e.code() == ErrorCode::resource_error &&
                cause.find("forked child") != std::string::npos)
                   ? 0
                   : 2;
    }
    std::_Exit(status);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  BuiltGraph after = build_graph(data);
  executor.run(std::move(after.graph));
  for (std::size_t i = 0; i < data.chunks.size(); ++i) REQUIRE(slice_matches(data, *after.array, i));
}
