// decoflow/executor.hpp: runs graphs on a pool of engine-owned threads.
#pragma once

#include <memory>

#include "decoflow/graph.hpp"
#include "decoflow/graph_run.hpp"

namespace decoflow {

namespace detail {
class ExecutorCore;
}

/// Runs graphs on a oneTBB task arena of `threads` TBB worker threads. Each
/// graph becomes a tbb::flow::graph (a source, a limiter bounding the batches
/// in flight, one node per stage); many graphs run one after another or at
/// once. Node bodies run only on the arena's worker threads, never on the
/// thread that submits or waits, so a short-lived caller thread never needs
/// per-thread state (codec contexts, Python interpreters).
///
/// Thread-safety: submit() and run() may be called from any thread at once.
class Executor {
 public:
  /// Creates an executor of `threads` workers (0: one per hardware thread).
  explicit Executor(unsigned threads = 0);
  /// Waits for every graph still running, then releases the arena.
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  unsigned threads() const noexcept;

  /// Validates `graph` and starts it. Throws decoflow::Error, naming the
  /// chunk, for an empty stage list, an input range outside its input, a slice
  /// outside its array, two slices that overlap (in this graph, or in a graph
  /// still running on the same array), a slice length that a byteswap stage
  /// cannot divide, or scratch outputs (scratch_output chunks) of one batch
  /// whose sizes add up past 2^64; nothing is written then. Scratch memory is
  /// allocated as batches start: when it cannot be, the run fails with
  /// ErrorCode::resource_error naming the batch's first chunk.
  GraphRun submit(std::shared_ptr<const Graph> graph);
  GraphRun submit(Graph graph);

  /// submit() then GraphRun::get().
  void run(Graph graph);

 private:
  std::shared_ptr<detail::ExecutorCore> core_;
};

}  // namespace decoflow
