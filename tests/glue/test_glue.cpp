// Python glue in pinned own-GIL subinterpreters, seen from C++.
#include <Python.h>

#include <algorithm>
#include <cstring>
#include <chrono>
#include <fstream>
#include <thread>
#include <string>

#include "catch.hpp"
#include "decoflow/error.hpp"
#include "decoflow/executor.hpp"
#include "decoflow/glue.hpp"
#include "decoflow/python_host.hpp"
#include "engine_fixtures.hpp"
#include "interpreter_pool.hpp"

using namespace decoflow;
using namespace decoflow::test;

namespace {

GlueSpec source_glue(std::string function, std::string source) {
  GlueSpec spec;
  spec.function = std::move(function);
  spec.source = std::move(source);
  return spec;
}

// Inverts every byte of the slice in place and returns its length; pure Python
// on the memoryview, as glue must be without NumPy.
const char* invert_source = R"(
def invert(src, dst, index, tag):
    dst[:] = bytes(b ^ 0xFF for b in dst)
    return len(dst) + 1000 * tag
)";

// Runs `data` through glue that inverts every byte, then a native stage that
// inverts it back, and requires every slice to hold its original bytes.
void run_inverted_and_back(Executor& executor, const ChunkedData& data, const char* name) {
  BuiltGraph built = build_graph(data, name);
  built.graph.add_stage(glue_stage("invert", source_glue("invert", invert_source)));
  built.graph.add_stage(Stage::native("invert-back", [](const ChunkView& v) {
    for (auto& b : v.output) b = ~b;
  }));
  executor.run(std::move(built.graph));
  for (std::size_t i = 0; i < data.chunks.size(); ++i) REQUIRE(slice_matches(data, *built.array, i));
}

Error run_expecting_error(Executor& executor, Graph graph) {
  try {
    executor.run(std::move(graph));
  } catch (const Error& e) {
    return e;
  }
  FAIL("the graph did not fail");
  return Error(ErrorCode::internal, "unreachable");
}

}  // namespace

TEST_CASE("glue runs between native stages in subinterpreters", "[glue]") {
  const ChunkedData data = make_chunks(300, 2048, {Codec::zstd, Codec::lz4_block});
  for (unsigned threads : {1u, 2u, 3u}) {
    CAPTURE(threads);
    Executor executor(threads);
    BuiltGraph built = build_graph(data, "glue-graph");
    built.graph.add_stage(glue_stage("invert", source_glue("invert", invert_source)));
    built.graph.add_stage(Stage::native("invert-back", [](const ChunkView& v) {
      for (auto& b : v.output) b = ~b;
    }));
    GraphRun run = executor.submit(std::move(built.graph));
    run.get();
    for (std::size_t i = 0; i < data.chunks.size(); ++i) REQUIRE(slice_matches(data, *built.array, i));
    REQUIRE(gaps_intact(data, *built.array));
    const auto results = run.results();
    for (std::size_t i = 0; i < data.chunks.size(); ++i) {
      REQUIRE(results[i] == static_cast<std::int64_t>(data.chunks[i].dest_size + 1000 * i));
    }
    REQUIRE(glue_interpreter_count() >= 1);
  }
}

TEST_CASE("each glue thread has an interpreter of its own", "[glue]") {
  // Interpreter ids differ between pool threads and never include the main one.
  const char* source = R"(
import _interpreters
def which(src, dst, index, tag):
    return _interpreters.get_current()[0] if isinstance(_interpreters.get_current(), tuple) else _interpreters.get_current()
)";
  Executor executor(2);
  Graph g("ids");
  g.add_array(DestinationArray::allocate(1));
  g.add_stage(glue_stage("which", source_glue("which", source)));
  for (int i = 0; i < 200; ++i) g.add_chunk({0, 0, 0, 0, 0, 0, Codec::raw, i});
  GraphRun run = executor.submit(std::move(g));
  run.get();
  for (std::int64_t id : run.results()) REQUIRE(id > 0);  // 0 is the main interpreter
}

TEST_CASE("a Python exception in glue becomes a located glue_error with its traceback",
          "[glue]") {
  const char* source = R"(
def picky(src, dst, index, tag):
    if index == 42:
        raise ValueError(f"chunk {index} is not welcome")
)";
  const ChunkedData data = make_chunks(100, 1024, {Codec::raw});
  Executor executor(2);
  for (int round = 0; round < 2; ++round) {  // the interpreters stay usable
    BuiltGraph built = build_graph(data, "raising");
    built.graph.add_stage(glue_stage("picky", source_glue("picky", source)));
    const Error e = run_expecting_error(executor, std::move(built.graph));
    REQUIRE(e.code() == ErrorCode::glue_error);
    REQUIRE(e.node() == "picky");
    REQUIRE(e.chunk() == 42);
    REQUIRE(e.cause().rfind("ValueError: chunk 42 is not welcome", 0) == 0);
    REQUIRE(e.cause().find("Traceback (most recent call last)") != std::string::npos);
    REQUIRE(e.cause().find("raise ValueError(f\"chunk {index} is not welcome\")") !=
            std::string::npos);  // linecache shows the glue's own line
  }
}

TEST_CASE("glue that keeps a view fails its chunk, and the memory stays valid", "[glue]") {
  const char* source = R"(
kept = []
def keeper(src, dst, index, tag):
    if index == 7:
        kept.append(dst[2:10])   # a slice outlives the call
        dst[0] = 1
)";
  const ChunkedData data = make_chunks(20, 1024, {Codec::raw}, 5);
  Executor executor(1);
  std::weak_ptr<DestinationArray> watch;
  {
    BuiltGraph built = build_graph(data, "keeper");
    watch = built.array;
    built.graph.add_stage(glue_stage("keeper", source_glue("keeper", source)));
    const Error e = run_expecting_error(executor, std::move(built.graph));
    REQUIRE(e.code() == ErrorCode::glue_error);
    REQUIRE(e.chunk() == 7);
    REQUIRE(e.cause().find("kept a view of the chunk's destination") != std::string::npos);
  }
  // Every handle of ours is gone; the escaped slice keeps the memory alive.
  REQUIRE_FALSE(watch.expired());
  // The interpreter that kept the view goes on running glue.
  BuiltGraph again = build_graph(data, "after-keeper");
  again.graph.add_stage(glue_stage("invert", source_glue("invert", invert_source)));
  again.graph.add_stage(Stage::native("invert-back", [](const ChunkView& v) {
    for (auto& b : v.output) b = ~b;
  }));
  executor.run(std::move(again.graph));
  for (std::size_t i = 0; i < data.chunks.size(); ++i) REQUIRE(slice_matches(data, *again.array, i));
}

TEST_CASE("glue from a module:function target on an extended sys.path", "[glue]") {
  const std::string folder = std::string(DECOFLOW_GLUE_TMPDIR);
  {
    std::ofstream module(folder + "/decoflow_test_glue_mod.py");
    module << "import struct\n"
              "def first_word(src, dst, index, tag):\n"
              "    return struct.unpack_from('>I', src, 0)[0] if len(src) >= 4 else -1\n";
  }
  GlueSpec spec;
  spec.target = "decoflow_test_glue_mod:first_word";
  spec.sys_path = {folder};
  const ChunkedData data = make_chunks(50, 4096, {Codec::raw}, 9, 16, 8);
  BuiltGraph built = build_graph(data);
  built.graph.add_stage(glue_stage("first_word", spec));
  Executor executor(2);
  GraphRun run = executor.submit(std::move(built.graph));
  run.get();
  const auto results = run.results();
  for (std::size_t i = 0; i < data.chunks.size(); ++i) {
    const ChunkSpec& c = data.chunks[i];
    std::int64_t expected = -1;
    if (c.input_size >= 4) {
      const auto* p = reinterpret_cast<const unsigned char*>(data.compressed.data() + c.input_offset);
      expected = (std::int64_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
    }
    REQUIRE(results[i] == expected);
  }
}

TEST_CASE("glue that cannot load says why", "[glue]") {
  Executor executor(1);
  GlueSpec missing;
  missing.target = "no_such_module_anywhere:fn";
  Graph g("missing");
  g.add_array(DestinationArray::allocate(1));
  g.add_stage(glue_stage("missing", missing));
  g.add_chunk({0, 0, 0, 0, 0, 0, Codec::raw, 0});
  const Error e = run_expecting_error(executor, std::move(g));
  REQUIRE(e.code() == ErrorCode::glue_error);
  REQUIRE(e.cause().find("ModuleNotFoundError") != std::string::npos);
  REQUIRE(e.cause().find("no_such_module_anywhere") != std::string::npos);

  // A single-phase extension module cannot load in an own-GIL interpreter.
  GlueSpec isolated = source_glue("f", "import _testsinglephase\ndef f(s, d, i, t):\n    pass\n");
  Graph g2("isolated");
  g2.add_array(DestinationArray::allocate(1));
  g2.add_stage(glue_stage("isolated", isolated));
  g2.add_chunk({0, 0, 0, 0, 0, 0, Codec::raw, 0});
  const Error e2 = run_expecting_error(executor, std::move(g2));
  REQUIRE(e2.code() == ErrorCode::glue_error);
  INFO(e2.cause());
  REQUIRE(e2.cause().find("NumPy") != std::string::npos);  // the hint
}

TEST_CASE("glue results must be int or None", "[glue]") {
  Executor executor(1);
  Graph g("bad-result");
  g.add_array(DestinationArray::allocate(8));
  g.add_stage(glue_stage("str", source_glue("f", "def f(s, d, i, t):\n    return 'no'\n")));
  g.add_chunk({0, 0, 0, 0, 0, 8, Codec::raw, 0});
  const Error e = run_expecting_error(executor, std::move(g));
  REQUIRE(e.code() == ErrorCode::glue_error);
  REQUIRE(e.cause().find("returned a str") != std::string::npos);
}

TEST_CASE("bad glue specs are refused when the stage is made", "[glue]") {
  require_error(ErrorCode::invalid_argument, [] { glue_stage("x", GlueSpec{}); });
  GlueSpec no_colon;
  no_colon.target = "module_only";
  require_error(ErrorCode::invalid_argument, [&] { glue_stage("x", no_colon); });
}

namespace {

// Two chunks large enough to travel in separate batches, each calling the
// test barrier from glue; returns the two results.
std::vector<std::int64_t> meet_from_two_threads(double timeout_s) {
  GlueSpec spec = source_glue("meet", "import _decoflow_gil_barrier as barrier\n"
                                      "def meet(src, dst, index, tag):\n"
                                      "    return 1 if barrier.meet(2, " +
                                          std::to_string(timeout_s) + ") else 0\n");
  spec.sys_path = {DECOFLOW_GLUE_MODULES};
  GlueSpec reset = source_glue("reset", "import _decoflow_gil_barrier as barrier\n"
                                        "def reset(src, dst, index, tag):\n"
                                        "    barrier.reset()\n");
  reset.sys_path = spec.sys_path;
  Executor executor(2);
  {
    Graph g("reset");
    g.add_array(DestinationArray::allocate(1));
    g.add_stage(glue_stage("reset", reset));
    g.add_chunk({0, 0, 0, 0, 0, 0, Codec::raw, 0});
    executor.run(std::move(g));
  }
  Graph g("meet");
  g.add_array(DestinationArray::allocate(2 << 20));
  g.add_stage(glue_stage("meet", spec));
  g.add_chunk({0, 0, 0, 0, 0, 1 << 20, Codec::raw, 0});
  g.add_chunk({0, 0, 0, 0, 1 << 20, 1 << 20, Codec::raw, 1});
  GraphRun run = executor.submit(std::move(g));
  run.get();
  return run.results();
}

}  // namespace

TEST_CASE("glue interpreters run truly in parallel, each with its own GIL", "[glue]") {
  // The barrier never releases the GIL: both calls return True only if two
  // interpreters ran Python at the same time.
  const auto met = meet_from_two_threads(20.0);
  REQUIRE(met == std::vector<std::int64_t>{1, 1});
}

TEST_CASE("under one shared GIL the same barrier cannot be met (the control)", "[glue]") {
  end_glue_interpreters();
  PyInterpreterConfig shared = {};
  shared.use_main_obmalloc = 1;
  shared.allow_threads = 1;
  shared.gil = PyInterpreterConfig_SHARED_GIL;
  detail::set_interpreter_config_for_tests(shared);
  const auto met = meet_from_two_threads(1.0);
  detail::set_interpreter_config_for_tests(std::nullopt);
  end_glue_interpreters();  // later tests get own-GIL interpreters again
  REQUIRE(met != std::vector<std::int64_t>{1, 1});
}

TEST_CASE("an interpreter that cannot be created is reported, and glue recovers", "[glue]") {
  end_glue_interpreters();
  // Refused by CPython 3.12 and 3.13: "per-interpreter obmalloc does not
  // support single-phase init extension modules". (use_main_obmalloc=1 with an
  // own GIL, which should be refused too, is accepted by 3.13.0 and crashes.)
  PyInterpreterConfig invalid = {};
  invalid.use_main_obmalloc = 0;
  invalid.check_multi_interp_extensions = 0;
  invalid.gil = PyInterpreterConfig_OWN_GIL;
  detail::set_interpreter_config_for_tests(invalid);
  // Created up front: none lives, and saying so is not an error.
  REQUIRE(start_glue_interpreters(2) == 0);
  Executor executor(2);
  const ChunkedData data = make_chunks(50, 1024, {Codec::raw});
  {
    BuiltGraph built = build_graph(data, "no-interpreter");
    built.graph.add_stage(glue_stage("invert", source_glue("invert", invert_source)));
    const Error e = run_expecting_error(executor, std::move(built.graph));
    detail::set_interpreter_config_for_tests(std::nullopt);
    REQUIRE(e.code() == ErrorCode::resource_error);
    REQUIRE(e.node() == "invert");
    REQUIRE(e.chunk() >= 0);
    REQUIRE(e.cause().find("cannot create a subinterpreter") != std::string::npos);
  }
  end_glue_interpreters();
  REQUIRE(glue_interpreter_count() == 0);
  run_inverted_and_back(executor, data, "recovered");
}

TEST_CASE("glue interpreters created up front serve the first graph, and only once", "[glue]") {
  end_glue_interpreters();
  REQUIRE(glue_interpreter_count() == 0);
  // Returns with every interpreter created: no waiting, no polling.
  REQUIRE(start_glue_interpreters(3) == 3);
  REQUIRE(glue_interpreter_count() == 3);
  REQUIRE(start_glue_interpreters(2) == 3);  // enough already: none made, none ended
  Executor executor(3);
  const ChunkedData data = make_chunks(60, 1024, {Codec::zstd});
  run_inverted_and_back(executor, data, "prewarmed");
  REQUIRE(glue_interpreter_count() == 3);
}

namespace {

// After an interrupted graph: a plain glue graph runs clean on the same
// executor (no interrupt left pending in an interpreter, none lost).
void expect_clean_glue_after(Executor& executor) {
  const ChunkedData data = make_chunks(200, 512, {Codec::zstd});
  run_inverted_and_back(executor, data, "after");
}

BuiltGraph glue_graph(const ChunkedData& data, const char* name, GlueSpec spec) {
  BuiltGraph built = build_graph(data, name);
  built.graph.add_stage(glue_stage("slow", std::move(spec)));
  return built;
}

}  // namespace

TEST_CASE("a glue call past its time limit is interrupted and fails its chunk", "[glue][timeout]") {
  Executor executor(2);
  const ChunkedData data = make_chunks(24, 512, {Codec::raw});
  SECTION("a pure-Python loop") {
    GlueSpec spec = source_glue("spin", R"(
def spin(src, dst, index, tag):
    while index == 7:
        pass
)");
    spec.timeout = std::chrono::milliseconds(300);
    const Error e = run_expecting_error(executor, glue_graph(data, "spin", spec).graph);
    REQUIRE(e.code() == ErrorCode::glue_error);
    REQUIRE(e.node() == "slow");
    REQUIRE(e.chunk() == 7);
    REQUIRE(e.cause().rfind("glue call exceeded its time limit of 0.3 s and was interrupted", 0) == 0);
    REQUIRE(e.cause().find("TimeoutError") != std::string::npos);
    REQUIRE(e.cause().find("while index == 7") != std::string::npos);  // where it was
  }
  SECTION("a call that catches the exception and returns still fails") {
    GlueSpec spec = source_glue("stubborn", R"(
def stubborn(src, dst, index, tag):
    if index == 3:
        try:
            while True:
                pass
        except TimeoutError:
            return 1
)");
    spec.timeout = std::chrono::milliseconds(200);
    const Error e = run_expecting_error(executor, glue_graph(data, "stubborn", spec).graph);
    REQUIRE(e.code() == ErrorCode::glue_error);
    REQUIRE(e.chunk() == 3);
    REQUIRE(e.cause() == "glue call exceeded its time limit of 0.2 s and was interrupted");
  }
  SECTION("calls that end near their limit leave nothing behind") {
    // Each call busies itself for about its limit: some end just before the
    // interrupt, some are hit, some end between its sending and delivery.
    GlueSpec spec = source_glue("near", R"(
import time
def near(src, dst, index, tag):
    end = time.perf_counter() + 0.012 + 0.004 * (index % 3)
    while time.perf_counter() < end:
        pass
)");
    spec.timeout = std::chrono::milliseconds(15);
    for (int round = 0; round < 12; ++round) {
      try {
        executor.run(glue_graph(make_chunks(6, 64, {Codec::raw}), "near", spec).graph);
      } catch (const Error& e) {
        INFO(e.what());
        REQUIRE((e.code() == ErrorCode::glue_error || e.code() == ErrorCode::cancelled));
        if (e.code() == ErrorCode::glue_error) {
          REQUIRE(e.cause().find("time limit") != std::string::npos);
        }
      }
    }
  }
  expect_clean_glue_after(executor);
}

TEST_CASE("cancelling a graph interrupts its glue calls in flight", "[glue][timeout]") {
  Executor executor(2);
  const ChunkedData data = make_chunks(8, 512, {Codec::raw});
  BuiltGraph built = glue_graph(data, "forever", source_glue("forever", R"(
def forever(src, dst, index, tag):
    while True:
        pass
)"));
  GraphRun run = executor.submit(std::move(built.graph));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  run.cancel();
  try {
    run.get();  // returns: the calls were interrupted (a hang here is the failure)
    FAIL("a cancelled graph of endless glue succeeded");
  } catch (const Error& e) {
    REQUIRE(e.code() == ErrorCode::cancelled);
    REQUIRE(e.cause().rfind("cancelled after 0 of 8 chunks", 0) == 0);
  }
  // The calls in flight were interrupted, the rest never started.
  const auto states = run.chunk_states();
  REQUIRE(std::count(states.begin(), states.end(), ChunkState::interrupted) >= 1);
  REQUIRE(std::count(states.begin(), states.end(), ChunkState::failed) == 0);
  REQUIRE(std::count(states.begin(), states.end(), ChunkState::done) == 0);
  expect_clean_glue_after(executor);
}

TEST_CASE("a failing chunk interrupts the graph's other glue calls", "[glue][timeout]") {
  Executor executor(2);
  const ChunkedData data = make_chunks(64, 512, {Codec::raw});
  // Chunk 40 fails once another thread is inside an endless call, which the
  // failure must interrupt; the run reports chunk 40's error, not a cancel.
  BuiltGraph built = glue_graph(data, "one-fails", source_glue("one_fails", R"(
import time
def one_fails(src, dst, index, tag):
    if index == 40:
        time.sleep(0.2)
        raise ValueError("chunk 40 fails")
    if index > 40:
        while True:
            pass
)"));
  const Error e = run_expecting_error(executor, std::move(built.graph));
  REQUIRE(e.code() == ErrorCode::glue_error);
  REQUIRE(e.chunk() == 40);
  REQUIRE(e.cause().rfind("ValueError: chunk 40 fails", 0) == 0);
  expect_clean_glue_after(executor);
}

TEST_CASE("a negative glue timeout is refused", "[glue][timeout]") {
  GlueSpec spec = source_glue("f", "def f(src, dst, index, tag):\n    pass\n");
  spec.timeout = std::chrono::duration<double>(-1);
  const std::string cause =
      require_error(ErrorCode::invalid_argument, [&] { (void)glue_stage("neg", spec); });
  REQUIRE(cause.find("timeout must be zero (none) or positive, not -1 s") != std::string::npos);
}

TEST_CASE("the stdlib modules glue relies on work inside the subinterpreters", "[glue]") {
  const char* source = R"(
import struct, array, zlib, math, itertools, functools, operator, collections
import binascii, bz2, lzma, json, io, re
def everything(src, dst, index, tag):
    words = array.array('I', bytes(src[:64]))
    packed = struct.pack('>4I', *words[:4])
    assert zlib.decompress(zlib.compress(packed)) == packed
    assert bz2.decompress(bz2.compress(packed)) == packed
    assert lzma.decompress(lzma.compress(packed)) == packed
    assert binascii.unhexlify(binascii.hexlify(packed)) == packed
    counts = collections.Counter(itertools.islice(src, 64))
    total = functools.reduce(operator.add, counts.values(), 0)
    text = json.dumps({'n': total, 'root': math.isqrt(total)})
    buf = io.BytesIO(text.encode())
    assert re.match(rb'\{"n": 64', buf.getvalue())
    dst[:] = src
    return total
)";
  const ChunkedData data = make_chunks(40, 4096, {Codec::raw}, 21);
  Graph g("stdlib");
  g.add_input(InputBuffer::from_bytes(data.original));
  auto array = DestinationArray::allocate(data.original.size());
  g.add_array(array);
  g.add_stage(glue_stage("everything", source_glue("everything", source)));
  std::size_t added = 0;
  for (std::size_t i = 0; i < data.chunks.size(); ++i) {
    const std::uint64_t size = data.chunks[i].dest_size;
    if (size < 64) continue;
    g.add_chunk({0, data.original_offset[i], size, 0, data.original_offset[i], size, Codec::raw, 0});
    ++added;
  }
  REQUIRE(added > 10);
  Executor executor(2);
  GraphRun run = executor.submit(std::move(g));
  run.get();
  for (std::int64_t r : run.results()) REQUIRE(r == 64);
}

TEST_CASE("an executor destroyed while glue runs waits for it", "[glue]") {
  const ChunkedData data = make_chunks(200, 2048, {Codec::raw});
  BuiltGraph built = build_graph(data, "slow-glue");
  built.graph.add_stage(glue_stage(
      "slow", source_glue("slow", "import time\ndef slow(s, d, i, t):\n    time.sleep(0.001)\n")));
  GraphRun run;
  {
    Executor executor(2);
    run = executor.submit(std::move(built.graph));
  }  // waits here
  REQUIRE(run.done());
  run.get();
  for (std::size_t i = 0; i < data.chunks.size(); ++i) REQUIRE(slice_matches(data, *built.array, i));
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
TEST_CASE("100 executors with glue reuse the interpreters: RSS stays flat", "[glue][rss]") {
  auto rss_anon = [] {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("RssAnon:", 0) == 0) return std::stoull(line.substr(8)) * 1024;
    }
    return 0ull;
  };
  const ChunkedData data = make_chunks(20, 2048, {Codec::zstd});
  auto cycle = [&] {
    Executor executor(2);
    BuiltGraph built = build_graph(data, "cycle");
    built.graph.add_stage(glue_stage("invert", source_glue("invert", invert_source)));
    executor.run(std::move(built.graph));
  };
  // Both interpreters first (on a loaded machine the second may otherwise
  // still be starting when counted), then warm caches and the allocator.
  REQUIRE(start_glue_interpreters(2) >= 2);
  for (int k = 0; k < 10; ++k) cycle();
  const auto before = rss_anon();
  const unsigned interpreters = glue_interpreter_count();
  for (int k = 0; k < 100; ++k) cycle();
  const auto after = rss_anon();
  INFO("RSS before " << before << ", after " << after);
  REQUIRE(glue_interpreter_count() == interpreters);  // reused, not recreated
  REQUIRE(after < before + 100 * 100 * 1024);         // < 100 KiB per cycle
}
#endif
