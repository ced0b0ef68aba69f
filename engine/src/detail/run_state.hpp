// The shared state of one submitted graph: what the flow graph's nodes update
// and what GraphRun handles read.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "decoflow/graph.hpp"
#include "decoflow/graph_run.hpp"
#include "detail/slice_reservation.hpp"

namespace decoflow::detail {

/// A run of consecutive chunks handled by one flow-graph message: batching
/// keeps the per-message cost of the flow graph off small chunks.
struct Batch {
  static constexpr std::uint32_t no_scratch = 0xFFFFFFFFu;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  std::uint32_t seq = 0;                  // batch number: ordered stages sequence on it
  std::uint32_t scratch = no_scratch;     // scratch pool slot, taken by the first stage
  std::uint32_t chunks_done = 0;          // filled by the last stage
  std::uint64_t bytes_done = 0;
};

struct RunState {
  std::shared_ptr<const Graph> graph;  // dropped when the run ends
  std::shared_ptr<const void> memory_owner;  // the graph again, for ChunkView::memory_owner
  std::vector<std::int64_t> results;         // ChunkView::result slots, one per chunk
  std::uint64_t chunks_total = 0;
  std::uint64_t bytes_total = 0;
  std::vector<std::uint32_t> batch_starts;  // batches + 1 entries
  std::size_t max_batches_in_flight = 0;
  unsigned threads = 1;  // of the executor running it
  std::vector<std::unique_ptr<SliceReservation>> reservations;
  std::vector<ChunkState> chunk_states;  // each entry written by one thread only

  // Scratch outputs (ChunkSpec::array == scratch_output): one pool buffer per
  // batch in flight (the limiter bounds them), each big enough for the scratch
  // chunks of any batch, allocated on first use and reused after.
  std::size_t scratch_capacity = 0;  // 0: the graph has no scratch chunks
  std::vector<std::unique_ptr<std::byte[]>> scratch_buffers;
  std::mutex scratch_mutex;
  std::vector<std::uint32_t> free_scratch;
  std::vector<std::uint64_t> produced;  // per chunk: bytes its decode produced into scratch

  // Set by cancel() or the first failure; every stage skips chunks once set.
  // Read for every chunk, so it sits on a cache line of its own: the counters
  // below change with every batch.
  alignas(64) std::atomic<bool> stop{false};
  std::atomic<bool> cancel_requested{false};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;  // written once, by whoever set `failed`
  alignas(64) std::atomic<std::uint64_t> chunks_done{0};
  std::atomic<std::uint64_t> bytes_done{0};

  alignas(64) std::mutex mutex;  // guards the fields below
  std::condition_variable finished_cv;
  bool finished = false;
  std::exception_ptr error;  // the run's outcome
  std::vector<std::function<void()>> on_done;

  void fail(std::exception_ptr e) {
    if (!failed.exchange(true)) first_error = std::move(e);
    stop.store(true, std::memory_order_relaxed);
  }
};

}  // namespace decoflow::detail
