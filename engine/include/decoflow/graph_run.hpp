// decoflow/graph_run.hpp: the handle to a submitted graph.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <vector>

namespace decoflow {

namespace detail {
struct RunState;
}

/// Counters of a running graph. Chunks are counted when they pass their last
/// stage; bytes are destination bytes of those chunks.
struct Progress {
  std::uint64_t chunks_done = 0;
  std::uint64_t chunks_total = 0;
  std::uint64_t bytes_done = 0;
  std::uint64_t bytes_total = 0;
};

/// What became of each chunk once a run is over.
enum class ChunkState : std::uint8_t {
  not_run = 0,  ///< skipped because the graph was cancelled or failed first
  done = 1,     ///< passed every stage; its slice holds its output
  failed = 2,   ///< raised the graph's error (its slice may be partly written)
  /// abandoned mid-stage once the graph had stopped (a glue call interrupted
  /// by a cancel or by another chunk's failure); its slice may be partly written
  interrupted = 3,
};

/// A submitted graph: wait for it, cancel it, read its progress. Copies share
/// one run. The executor keeps the run alive until it finishes, whether or not
/// a handle remains.
///
/// Thread-safety: all member functions are thread-safe.
class GraphRun {
 public:
  GraphRun() = default;
  explicit GraphRun(std::shared_ptr<detail::RunState> state);

  /// True once every chunk has finished, failed or been skipped.
  bool done() const;
  /// Blocks the calling thread until done (it never runs node bodies).
  void wait() const;
  /// Waits at most `timeout`; returns done().
  bool wait_for(std::chrono::nanoseconds timeout) const;
  /// Waits, then throws the run's error (decoflow::Error: the first chunk's
  /// failure, or ErrorCode::cancelled) or returns normally on success.
  void get() const;
  /// After done(): the error get() would throw, or null on success.
  std::exception_ptr error() const;
  /// Asks the run to stop: chunks that have not started are skipped and the
  /// run ends with ErrorCode::cancelled, unless every chunk already finished.
  /// Returns immediately; wait() for the end.
  void cancel();
  /// Current counters (exact once done()).
  Progress progress() const;
  /// After done(): the state of every chunk, by index.
  std::vector<ChunkState> chunk_states() const;
  /// After done(): each chunk's result slot (ChunkView::result; 0 unless a
  /// stage stored something), by index.
  std::vector<std::int64_t> results() const;
  /// Calls `fn` once when the run is done: at once on this thread when it
  /// already is, otherwise on the engine thread that finished it, just after
  /// waiters are woken (so wait() may return before it has run). Keep it short;
  /// it must not touch Python. Exceptions it throws are swallowed.
  void on_done(std::function<void()> fn);

  /// True when this handle refers to a run.
  explicit operator bool() const noexcept { return static_cast<bool>(state_); }

 private:
  std::shared_ptr<detail::RunState> state_;
};

}  // namespace decoflow
