// Pinned stage bodies: batches leave the flow graph for threads of the body's
// own (as Python glue does) and come back; failures and cancellation still
// work, and no TBB worker waits for them.
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "catch.hpp"
#include "decoflow/error.hpp"
#include "decoflow/executor.hpp"
#include "engine_fixtures.hpp"

using namespace decoflow;
using namespace decoflow::test;

namespace {

// A body with two threads of its own that each chunk must run on.
class TwoThreadBody final : public PinnedStageBody {
 public:
  explicit TwoThreadBody(std::function<void(const ChunkView&)> fn) : fn_(std::move(fn)) {
    for (int k = 0; k < 2; ++k) threads_.emplace_back([this] { loop(); });
  }
  ~TwoThreadBody() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void post(const PinnedJob& job) override {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(job);
    }
    cv_.notify_one();
  }
  void run(const ChunkView& view) override {
    {
      std::lock_guard lock(mutex_);
      seen_threads.insert(std::this_thread::get_id());
    }
    fn_(view);
  }
  std::set<std::thread::id> own_threads() const {
    std::set<std::thread::id> ids;
    for (auto& t : threads_) ids.insert(t.get_id());
    return ids;
  }
  std::set<std::thread::id> seen_threads;

 private:
  void loop() {
    for (;;) {
      PinnedJob job;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = jobs_.front();
        jobs_.pop_front();
      }
      job.execute();
      job.finish();
    }
  }
  std::function<void(const ChunkView&)> fn_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<PinnedJob> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace

TEST_CASE("pinned bodies run every chunk on their own threads, between native stages", "[pinned]") {
  const ChunkedData data = make_chunks(2000, 8192, {Codec::zstd, Codec::lz4_block});
  auto body = std::make_shared<TwoThreadBody>([](const ChunkView& v) {
    for (auto& b : v.output) b = ~b;  // invert, so that the next stage's inversion restores
    *v.result = static_cast<std::int64_t>(v.output.size());
  });
  BuiltGraph built = build_graph(data);
  built.graph.add_stage(Stage::custom("pinned-invert", body));
  built.graph.add_stage(Stage::native("invert-back", [](const ChunkView& v) {
    for (auto& b : v.output) b = ~b;
  }));
  Executor executor(2);
  GraphRun run = executor.submit(std::move(built.graph));
  run.get();
  for (std::size_t i = 0; i < data.chunks.size(); ++i) REQUIRE(slice_matches(data, *built.array, i));
  REQUIRE(gaps_intact(data, *built.array));
  const auto own = body->own_threads();
  for (auto id : body->seen_threads) REQUIRE(own.count(id) == 1);
  const auto results = run.results();
  for (std::size_t i = 0; i < data.chunks.size(); ++i) {
    REQUIRE(results[i] == static_cast<std::int64_t>(data.chunks[i].dest_size));
  }
}

TEST_CASE("a pinned body's failure names its chunk and stops the graph", "[pinned]") {
  const ChunkedData data = make_chunks(500, 4096, {Codec::raw});
  auto body = std::make_shared<TwoThreadBody>([](const ChunkView& v) {
    if (v.index == 123) throw Error(ErrorCode::glue_error, "refused chunk 123");
  });
  BuiltGraph built = build_graph(data, "pinned-fail");
  built.graph.add_stage(Stage::custom("pinned", body));
  Executor executor(2);
  GraphRun run = executor.submit(std::move(built.graph));
  try {
    run.get();
    FAIL("no error");
  } catch (const Error& e) {
    REQUIRE(e.code() == ErrorCode::glue_error);
    REQUIRE(e.node() == "pinned");
    REQUIRE(e.chunk() == 123);
  }
  REQUIRE(run.chunk_states()[123] == ChunkState::failed);
  // Still usable: the same body in a new graph.
  const ChunkedData good = make_chunks(100, 4096, {Codec::raw}, 3);
  BuiltGraph again = build_graph(good);
  again.graph.add_stage(Stage::custom("pinned", body));
  executor.run(std::move(again.graph));
  for (std::size_t i = 0; i < good.chunks.size(); ++i) REQUIRE(slice_matches(good, *again.array, i));
}

namespace {

// A pinned body that cannot take work: its post() throws.
class RefusingBody final : public PinnedStageBody {
 public:
  void post(const PinnedJob&) override { throw std::runtime_error("no thread can take it"); }
  void run(const ChunkView&) override {}
};

}  // namespace

TEST_CASE("a pinned body whose post() throws fails the run instead of hanging it", "[pinned]") {
  const ChunkedData data = make_chunks(300, 4096, {Codec::raw});
  BuiltGraph built = build_graph(data, "refused");
  built.graph.add_stage(Stage::custom("refusing", std::make_shared<RefusingBody>()));
  Executor executor(2);
  GraphRun run = executor.submit(std::move(built.graph));
  REQUIRE(run.wait_for(std::chrono::seconds(60)));
  try {
    run.get();
    FAIL("no error");
  } catch (const Error& e) {
    REQUIRE(e.code() == ErrorCode::stage_error);
    REQUIRE(e.node() == "refusing");
    REQUIRE(e.chunk() >= 0);
    REQUIRE(e.cause().find("no thread can take it") != std::string::npos);
    REQUIRE(run.chunk_states()[static_cast<std::size_t>(e.chunk())] == ChunkState::failed);
  }
  REQUIRE(gaps_intact(data, *built.array));
  // Still usable.
  BuiltGraph again = build_graph(data);
  executor.run(std::move(again.graph));
  for (std::size_t i = 0; i < data.chunks.size(); ++i) REQUIRE(slice_matches(data, *again.array, i));
}
