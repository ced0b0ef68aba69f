#include "decoflow/graph_run.hpp"

#include "decoflow/error.hpp"
#include "detail/run_state.hpp"

namespace decoflow {

namespace {

detail::RunState& checked(const std::shared_ptr<detail::RunState>& state) {
  if (!state) throw Error(ErrorCode::invalid_argument, "empty GraphRun handle");
  return *state;
}

}  // namespace

GraphRun::GraphRun(std::shared_ptr<detail::RunState> state) : state_(std::move(state)) {}

bool GraphRun::done() const {
  auto& run = checked(state_);
  std::lock_guard lock(run.mutex);
  return run.finished;
}

void GraphRun::wait() const {
  auto& run = checked(state_);
  std::unique_lock lock(run.mutex);
  run.finished_cv.wait(lock, [&] { return run.finished; });
}

bool GraphRun::wait_for(std::chrono::nanoseconds timeout) const {
  auto& run = checked(state_);
  std::unique_lock lock(run.mutex);
  return run.finished_cv.wait_for(lock, timeout, [&] { return run.finished; });
}

void GraphRun::get() const {
  wait();
  if (auto e = error()) std::rethrow_exception(e);
}

std::exception_ptr GraphRun::error() const {
  auto& run = checked(state_);
  std::lock_guard lock(run.mutex);
  return run.error;
}

void GraphRun::cancel() {
  auto& run = checked(state_);
  run.cancel_requested.store(true);
  run.stop.store(true);
}

Progress GraphRun::progress() const {
  auto& run = checked(state_);
  return Progress{run.chunks_done.load(std::memory_order_relaxed), run.chunks_total,
                  run.bytes_done.load(std::memory_order_relaxed), run.bytes_total};
}

std::vector<ChunkState> GraphRun::chunk_states() const {
  auto& run = checked(state_);
  std::lock_guard lock(run.mutex);
  if (!run.finished) {
    throw Error(ErrorCode::invalid_argument, "chunk_states() called before the run is done");
  }
  return run.chunk_states;
}

std::vector<std::int64_t> GraphRun::results() const {
  auto& run = checked(state_);
  std::lock_guard lock(run.mutex);
  if (!run.finished) {
    throw Error(ErrorCode::invalid_argument, "results() called before the run is done");
  }
  return run.results;
}

void GraphRun::on_done(std::function<void()> fn) {
  auto& run = checked(state_);
  {
    std::lock_guard lock(run.mutex);
    if (!run.finished) {
      run.on_done.push_back(std::move(fn));
      return;
    }
  }
  fn();
}

}  // namespace decoflow
