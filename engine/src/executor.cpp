// The executor: validation at submit, and each graph mapped onto a
// tbb::flow::graph inside the executor's task arena.
//
//   input_node ──► limiter_node ──► stage 0 ──► stage 1 ──► ... ──► finish
//   (batches of     (bounds batches     function_nodes, unlimited      │
//    chunk indices)  in flight) ◄──────────── decrementer ─────────────┘
//
// The graph is built and waited for inside one task enqueued into the arena:
// enqueued work runs on the arena's worker threads only (the arena reserves no
// slot for external threads), so the thread that submits or waits never runs a
// node body; it sleeps on the run's condition variable instead.
#include "decoflow/executor.hpp"

#include <tbb/flow_graph.h>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <new>
#include <string>

#include "decoflow/byteswap.hpp"
#include "decoflow/decoder.hpp"
#include "decoflow/error.hpp"
#include "detail/run_state.hpp"

namespace decoflow {

namespace detail {

// Makes the PinnedJobs the flow graph hands to pinned stage bodies (their
// constructor is private: a job is only ever made here).
struct PinnedJobAccess {
  template <typename... Args>
  static PinnedJob make(Args&&... args) {
    return PinnedJob(std::forward<Args>(args)...);
  }
};


class ExecutorCore {
 public:
  explicit ExecutorCore(unsigned threads)
      : threads_(threads),
        arena_(static_cast<int>(threads), /*reserved_for_masters=*/0),
        pid_(::getpid()) {}

  unsigned threads() const noexcept { return threads_; }
  /// The process that created the executor: a forked child has no TBB
  /// workers and no glue threads behind it, only copies of their state.
  pid_t pid() const noexcept { return pid_; }
  tbb::task_arena& arena() noexcept { return arena_; }

  void run_started() {
    std::lock_guard lock(mutex_);
    ++running_;
  }
  void run_finished() {
    std::lock_guard lock(mutex_);
    if (--running_ == 0) idle_.notify_all();
  }
  void wait_idle() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return running_ == 0; });
  }

 private:
  unsigned threads_;
  tbb::task_arena arena_;
  std::mutex mutex_;
  std::condition_variable idle_;
  std::size_t running_ = 0;
  pid_t pid_;
};

namespace {

// TBB starts (default concurrency - 1) workers; an arena that reserves no slot
// for external threads needs `threads` of them. The process-wide limit is a
// global_control, of which the smallest active value wins, so keep exactly one,
// only ever raised, for the life of the process (never destroyed: its
// destructor would run during static destruction, after TBB may be gone).
void ensure_worker_threads(unsigned threads) {
  static std::mutex mutex;
  static tbb::global_control* control = nullptr;
  static std::size_t current = static_cast<std::size_t>(tbb::info::default_concurrency());
  std::lock_guard lock(mutex);
  const std::size_t wanted = std::size_t{threads} + 1;
  if (wanted <= current) return;
  auto* next = new tbb::global_control(tbb::global_control::max_allowed_parallelism, wanted);
  delete control;  // while both exist the smaller value holds; now `next` does
  control = next;
  current = wanted;
}

// Decodes one chunk. Slices must be filled exactly; scratch may be filled in
// part (its size was an upper bound). Returns the bytes produced.
std::size_t decode_chunk(const ChunkSpec& chunk, ConstBytes in, MutableBytes out, bool exact) {
  if (in.empty()) {
    if (out.empty() || !exact) return 0;  // an empty chunk: nothing in, nothing out
    throw Error(ErrorCode::size_mismatch, "empty input for a slice of " +
                                              std::to_string(out.size()) + " bytes");
  }
  const std::size_t written = thread_decoder().decode_into(chunk.codec, in, out);
  if (exact && written != out.size()) {
    throw Error(ErrorCode::size_mismatch,
                std::string(to_string(chunk.codec)) + ": decoded " + std::to_string(written) +
                    " bytes, the slice holds " + std::to_string(out.size()));
  }
  return written;
}

// Takes a scratch buffer for a batch; there is always one free, since the pool
// has one per batch that the limiter lets in flight. Returns false when its
// memory cannot be allocated (the slot stays taken; finish gives it back).
bool take_scratch(RunState& run, Batch& batch) {
  {
    std::lock_guard lock(run.scratch_mutex);
    batch.scratch = run.free_scratch.back();
    run.free_scratch.pop_back();
  }
  auto& buffer = run.scratch_buffers[batch.scratch];
  // Uninitialised on purpose. nothrow: scratch sizes come from the caller's
  // chunks (upper bounds, possibly absurd), and std::bad_alloc escaping a node
  // body would reach the caller as something other than decoflow::Error.
  if (!buffer) buffer.reset(new (std::nothrow) std::byte[run.scratch_capacity]);
  return buffer != nullptr;
}

void give_back_scratch(RunState& run, const Batch& batch) {
  if (batch.scratch == Batch::no_scratch) return;
  std::lock_guard lock(run.scratch_mutex);
  run.free_scratch.push_back(batch.scratch);
}

// Runs one stage over a batch. Failures are caught per chunk, located, and
// stop the run; chunks after a stop are left not_run.
void run_batch(RunState& run, const Graph& graph, std::size_t stage_index, Batch& batch) {
  const Stage& stage = graph.stages()[stage_index];
  const bool last = stage_index + 1 == graph.stages().size();
  if (run.stop.load(std::memory_order_relaxed)) return;
  if (run.scratch_capacity != 0 && batch.scratch == Batch::no_scratch &&
      !take_scratch(run, batch)) {
    // Found by tests/fuzz/fuzz_graph: fail the batch's first chunk, located,
    // like any chunk error.
    run.chunk_states[batch.begin] = ChunkState::failed;
    run.fail(std::make_exception_ptr(
        Error(ErrorCode::resource_error,
              "cannot allocate " + std::to_string(run.scratch_capacity) +
                  " bytes of scratch for the scratch outputs of chunks [" +
                  std::to_string(batch.begin) + ", " + std::to_string(batch.end) + ")",
              graph.name(), stage.name(), batch.begin)));
    return;
  }
  std::size_t scratch_offset = 0;
  for (std::uint32_t i = batch.begin; i < batch.end; ++i) {
    if (run.stop.load(std::memory_order_relaxed)) return;
    const ChunkSpec& chunk = graph.chunks()[i];
    ConstBytes in;
    if (chunk.input_size != 0) {
      in = graph.inputs()[chunk.input]->bytes().subspan(chunk.input_offset, chunk.input_size);
    }
    MutableBytes out;
    const bool scratch = chunk.array == scratch_output;
    if (scratch) {
      // A graph whose scratch outputs are all empty has no scratch buffers
      // (found by tests/fuzz/fuzz_graph: this indexed an empty pool).
      std::byte* base = run.scratch_capacity == 0
                            ? nullptr
                            : run.scratch_buffers[batch.scratch].get() + scratch_offset;
      scratch_offset += chunk.dest_size;
      out = MutableBytes(base, stage.kind() == Stage::Kind::decode ? chunk.dest_size
                                                                   : run.produced[i]);
    } else if (chunk.dest_size != 0) {
      out = graph.arrays()[chunk.array]->bytes().subspan(chunk.dest_offset, chunk.dest_size);
    }
    try {
      switch (stage.kind()) {
        case Stage::Kind::decode: {
          const std::size_t written = decode_chunk(chunk, in, out, !scratch);
          if (scratch) run.produced[i] = written;
          break;
        }
        case Stage::Kind::byteswap:
          byteswap_in_place(out, stage.width());
          break;
        case Stage::Kind::custom:
        case Stage::Kind::ordered:
          stage.body()->run(ChunkView{i, in, out, chunk.codec, chunk.tag, &run.results[i],
                                      &run.memory_owner});
          break;
      }
    } catch (const Error& e) {
      if (e.code() == ErrorCode::cancelled && run.stop.load(std::memory_order_relaxed)) {
        // The body gave the chunk up because the graph had stopped (glue
        // interrupted mid-call): the run's outcome is whatever stopped it.
        run.chunk_states[i] = ChunkState::interrupted;
        return;
      }
      run.chunk_states[i] = ChunkState::failed;
      run.fail(std::make_exception_ptr(e.located(graph.name(), stage.name(), i)));
      return;
    } catch (const std::exception& e) {
      run.chunk_states[i] = ChunkState::failed;
      run.fail(std::make_exception_ptr(
          Error(ErrorCode::stage_error, e.what(), graph.name(), stage.name(), i)));
      return;
    } catch (...) {
      run.chunk_states[i] = ChunkState::failed;
      run.fail(std::make_exception_ptr(Error(ErrorCode::stage_error, "unknown exception",
                                             graph.name(), stage.name(), i)));
      return;
    }
    if (last) {
      run.chunk_states[i] = ChunkState::done;
      ++batch.chunks_done;
      batch.bytes_done += scratch ? run.produced[i] : chunk.dest_size;
    }
  }
}

void execute(RunState& run) {
  using namespace tbb::flow;
  const Graph& graph = *run.graph;
  const std::size_t batch_count = run.batch_starts.size() - 1;
  std::uint32_t next_batch = 0;

  tbb::flow::graph flow;
  input_node<Batch> source(flow, [&](tbb::flow_control& control) -> Batch {
    if (next_batch == batch_count || run.stop.load(std::memory_order_relaxed)) {
      control.stop();
      return {};
    }
    Batch batch;
    batch.begin = run.batch_starts[next_batch];
    batch.end = run.batch_starts[next_batch + 1];
    batch.seq = next_batch++;
    return batch;
  });
  limiter_node<Batch> limiter(flow, run.max_batches_in_flight);
  // Each stage is a function_node; an ordered stage is a sequencer (restoring
  // batch order) feeding a serial function_node.
  // Each stage is a function_node; an ordered stage is a sequencer (restoring
  // batch order) feeding a serial function_node; a pinned stage is an
  // async_node whose batches finish on the body's own threads.
  std::vector<std::unique_ptr<graph_node>> nodes;
  auto add = [&](auto node) {
    auto* raw = node.get();
    nodes.push_back(std::move(node));
    return raw;
  };
  sender<Batch>* previous = &limiter;
  for (std::size_t k = 0; k < graph.stages().size(); ++k) {
    const Stage& stage = graph.stages()[k];
    auto* pinned = dynamic_cast<PinnedStageBody*>(stage.body());
    if (pinned != nullptr) {
      using Async = async_node<Batch, Batch>;
      auto* node = add(std::make_unique<Async>(
          flow, unlimited,
          [&run, &graph, k, pinned](const Batch& batch, Async::gateway_type& gateway) {
            gateway.reserve_wait();  // wait_for_all() now waits for this batch too
            try {
              pinned->post(PinnedJobAccess::make(&run, k, batch.begin, batch.end, batch.seq,
                                                 batch.scratch, &gateway, run.threads));
            } catch (const std::exception& e) {
              // The batch never left: fail the run here and pass the batch on,
              // or wait_for_all() would wait for it forever.
              run.chunk_states[batch.begin] = ChunkState::failed;
              run.fail(std::make_exception_ptr(
                  Error(ErrorCode::stage_error, std::string("cannot hand the batch over: ") + e.what(),
                        graph.name(), graph.stages()[k].name(), batch.begin)));
              gateway.try_put(batch);
              gateway.release_wait();
            }
          }));
      make_edge(*previous, *node);
      previous = &output_port<0>(*node);  // an async_node sends only through its port
      continue;
    }
    const bool ordered = stage.kind() == Stage::Kind::ordered;
    auto* body = add(std::make_unique<function_node<Batch, Batch>>(
        flow, ordered ? serial : unlimited, [&run, &graph, k](Batch batch) {
          run_batch(run, graph, k, batch);
          return batch;
        }));
    if (ordered) {
      auto* sequencer = add(std::make_unique<sequencer_node<Batch>>(
          flow, [](const Batch& batch) { return std::size_t{batch.seq}; }));
      make_edge(*previous, *sequencer);
      make_edge(*sequencer, *body);
    } else {
      make_edge(*previous, *body);
    }
    previous = body;
  }
  function_node<Batch, continue_msg> finish(flow, unlimited, [&run](const Batch& batch) {
    give_back_scratch(run, batch);
    if (batch.chunks_done != 0) {
      run.chunks_done.fetch_add(batch.chunks_done, std::memory_order_relaxed);
      run.bytes_done.fetch_add(batch.bytes_done, std::memory_order_relaxed);
    }
    return continue_msg{};
  });
  make_edge(source, limiter);
  make_edge(*previous, finish);
  make_edge(finish, limiter.decrementer());

  // Isolation keeps this waiting worker on this graph's tasks: it must not pick
  // up another graph's root task and bury this graph's completion under it.
  tbb::this_task_arena::isolate([&] {
    source.activate();
    flow.wait_for_all();
  });
}

void finish_run(RunState& run) {
  run.reservations.clear();  // the slices are free for other graphs again
  const std::string graph_name = run.graph->name();
  run.memory_owner.reset();  // let arrays and inputs go once callers drop them
  run.graph.reset();
  std::exception_ptr outcome;
  if (run.failed.load()) {
    outcome = run.first_error;
  } else if (run.cancel_requested.load() && run.chunks_done.load() < run.chunks_total) {
    outcome = std::make_exception_ptr(
        Error(ErrorCode::cancelled,
              "cancelled after " + std::to_string(run.chunks_done.load()) + " of " +
                  std::to_string(run.chunks_total) + " chunks",
              graph_name, {}, no_chunk));
  }
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard lock(run.mutex);
    run.error = outcome;
    run.finished = true;
    callbacks.swap(run.on_done);
  }
  run.finished_cv.notify_all();
  for (auto& fn : callbacks) {
    try {
      fn();
    } catch (...) {
      // A callback's failure is the callback's business; the run is over.
    }
  }
}

struct RangeOwner {
  std::uint64_t begin;
  std::uint64_t end;
  std::uint32_t chunk;
};

[[noreturn]] void reject(ErrorCode code, const std::string& cause, const Graph& graph,
                         std::int64_t chunk) {
  throw Error(code, cause, graph.name(), {}, chunk);
}

// Checks every chunk, reserves the graph's slices and plans the batches.
std::shared_ptr<RunState> prepare(std::shared_ptr<const Graph> graph_ptr, unsigned threads) {
  const Graph& graph = *graph_ptr;
  if (graph.stages().empty()) reject(ErrorCode::invalid_argument, "the graph has no stages", graph, no_chunk);
  if (graph.chunks().size() >= UINT32_MAX) {
    reject(ErrorCode::invalid_argument, "more than 2^32 - 2 chunks", graph, no_chunk);
  }
  unsigned swap_width = 1;
  for (const Stage& s : graph.stages()) {
    if (s.kind() == Stage::Kind::byteswap) swap_width = std::max(swap_width, s.width());
  }

  auto run = std::make_shared<RunState>();
  std::vector<std::vector<RangeOwner>> ranges(graph.arrays().size());
  std::vector<bool> sorted(graph.arrays().size(), true);
  const auto& chunks = graph.chunks();
  for (std::uint32_t i = 0; i < chunks.size(); ++i) {
    const ChunkSpec& c = chunks[i];
    if (c.input_size != 0) {
      const std::uint64_t have = graph.inputs()[c.input]->size();
      if (c.input_offset > have || c.input_size > have - c.input_offset) {
        reject(ErrorCode::invalid_argument,
               "input bytes [" + std::to_string(c.input_offset) + ", +" +
                   std::to_string(c.input_size) + ") lie outside input " + std::to_string(c.input) +
                   " of " + std::to_string(have) + " bytes",
               graph, i);
      }
    }
    if (c.array == scratch_output) {
      // Decoded size unknown until decoded: the pool buffers must hold the
      // scratch chunks of the largest batch (summed below, per batch).
      run->bytes_total += c.dest_size;
      continue;
    }
    if (c.dest_size == 0) continue;
    const std::uint64_t have = graph.arrays()[c.array]->size();
    if (c.dest_offset > have || c.dest_size > have - c.dest_offset) {
      reject(ErrorCode::slice_error,
             "slice [" + std::to_string(c.dest_offset) + ", +" + std::to_string(c.dest_size) +
                 ") lies outside array " + std::to_string(c.array) + " of " +
                 std::to_string(have) + " bytes",
             graph, i);
    }
    if (c.dest_size % swap_width != 0) {
      reject(ErrorCode::slice_error,
             "slice of " + std::to_string(c.dest_size) +
                 " bytes is not a multiple of the byteswap width " + std::to_string(swap_width),
             graph, i);
    }
    auto& list = ranges[c.array];
    if (!list.empty() && list.back().begin > c.dest_offset) sorted[c.array] = false;
    list.push_back({c.dest_offset, c.dest_offset + c.dest_size, i});
    run->bytes_total += c.dest_size;
  }

  for (std::size_t a = 0; a < ranges.size(); ++a) {
    auto& list = ranges[a];
    if (!sorted[a]) {
      std::sort(list.begin(), list.end(),
                [](const RangeOwner& x, const RangeOwner& y) { return x.begin < y.begin; });
    }
    detail::RangeList merged;
    merged.reserve(list.size());
    for (std::size_t k = 0; k < list.size(); ++k) {
      if (k > 0 && list[k].begin < list[k - 1].end) {
        const auto& p = list[k - 1];
        const auto& q = list[k];
        reject(ErrorCode::slice_error,
               "slice [" + std::to_string(q.begin) + ", " + std::to_string(q.end) +
                   ") of array " + std::to_string(a) + " overlaps chunk " +
                   std::to_string(p.chunk) + "'s slice [" + std::to_string(p.begin) + ", " +
                   std::to_string(p.end) + ")",
               graph, std::max(p.chunk, q.chunk));
      }
      if (!merged.empty() && merged.back().second == list[k].begin) {
        merged.back().second = list[k].end;  // adjacent slices reserve as one range
      } else {
        merged.emplace_back(list[k].begin, list[k].end);
      }
    }
    if (merged.empty()) continue;
    std::unique_ptr<SliceReservation> reservation;
    std::pair<std::uint64_t, std::uint64_t> conflict;
    if (!SliceReservation::try_reserve(graph.arrays()[a], std::move(merged), reservation,
                                       conflict)) {
      reject(ErrorCode::slice_error,
             "bytes [" + std::to_string(conflict.first) + ", " + std::to_string(conflict.second) +
                 ") of array " + std::to_string(a) +
                 " are being written by another running graph",
             graph, no_chunk);
    }
    run->reservations.push_back(std::move(reservation));
  }

  // Batches of consecutive chunks: one flow-graph message each. The source and
  // the limiter are serial, so at 16 threads small batches queue there (measured
  // on the 16-core device: 32 KiB chunks in ~150 KiB batches reached 73% of the
  // roofline). Aim for about 16 batches per thread, of at most 4 MiB, and at
  // most 256 chunks, so that load still balances at the end of a graph.
  std::uint64_t work_total = 0;
  for (const ChunkSpec& c : chunks) work_total += std::max(c.dest_size, c.input_size);
  const std::uint64_t per_batch = work_total / (std::uint64_t{threads} * 16);
  const std::uint64_t target_bytes = std::clamp<std::uint64_t>(per_batch, 1, 4u << 20);
  constexpr std::uint32_t max_chunks_per_batch = 256;
  run->batch_starts.push_back(0);
  std::uint64_t bytes = 0;
  for (std::uint32_t i = 0; i < chunks.size(); ++i) {
    bytes += std::max(chunks[i].dest_size, chunks[i].input_size);
    const std::uint32_t in_batch = i + 1 - run->batch_starts.back();
    if (bytes >= target_bytes || in_batch == max_chunks_per_batch) {
      run->batch_starts.push_back(i + 1);
      bytes = 0;
    }
  }
  if (run->batch_starts.back() != chunks.size()) {
    run->batch_starts.push_back(static_cast<std::uint32_t>(chunks.size()));
  }
  run->max_batches_in_flight = std::size_t{threads} * 2 + 2;
  run->threads = threads;
  for (std::size_t b = 0; b + 1 < run->batch_starts.size(); ++b) {
    std::uint64_t scratch_bytes = 0;
    for (std::uint32_t i = run->batch_starts[b]; i < run->batch_starts[b + 1]; ++i) {
      if (chunks[i].array != scratch_output) continue;
      // A wrapped sum would size the buffer too small for the offsets that
      // run_batch adds up (found by tests/fuzz/fuzz_graph).
      if (chunks[i].dest_size > std::numeric_limits<std::size_t>::max() - scratch_bytes) {
        reject(ErrorCode::invalid_argument,
               "scratch output of " + std::to_string(chunks[i].dest_size) +
                   " bytes: the scratch outputs of its batch add up to more than 2^64 bytes",
               graph, i);
      }
      scratch_bytes += chunks[i].dest_size;
    }
    run->scratch_capacity = std::max(run->scratch_capacity, static_cast<std::size_t>(scratch_bytes));
  }
  if (run->scratch_capacity != 0) {
    run->scratch_buffers.resize(run->max_batches_in_flight);
    for (std::size_t k = run->max_batches_in_flight; k-- > 0;) {
      run->free_scratch.push_back(static_cast<std::uint32_t>(k));
    }
  }
  // Every scratch chunk records what it produced, even when all of them are
  // empty and there is no pool (fuzz_graph: this was an out-of-bounds write).
  if (std::any_of(chunks.begin(), chunks.end(),
                  [](const ChunkSpec& c) { return c.array == scratch_output; })) {
    run->produced.assign(chunks.size(), 0);
  }
  run->chunks_total = chunks.size();
  run->chunk_states.assign(chunks.size(), ChunkState::not_run);
  run->results.assign(chunks.size(), 0);
  run->memory_owner = graph_ptr;
  run->graph = std::move(graph_ptr);
  return run;
}

}  // namespace
}  // namespace detail

void PinnedJob::execute() const {
  detail::Batch batch;
  batch.begin = begin_;
  batch.end = end_;
  batch.seq = seq_;
  batch.scratch = scratch_;
  detail::run_batch(*run_, *run_->graph, stage_, batch);
  chunks_done_ = batch.chunks_done;
  bytes_done_ = batch.bytes_done;
  scratch_taken_ = batch.scratch;
}

const std::atomic<bool>* PinnedJob::stop_flag() const noexcept {
  return run_ != nullptr ? &run_->stop : nullptr;
}

void PinnedJob::finish() const {
  using Gateway = tbb::flow::async_node<detail::Batch, detail::Batch>::gateway_type;
  auto* gateway = static_cast<Gateway*>(gateway_);
  detail::Batch batch;
  batch.begin = begin_;
  batch.end = end_;
  batch.seq = seq_;
  batch.scratch = scratch_taken_;
  batch.chunks_done = chunks_done_;
  batch.bytes_done = bytes_done_;
  gateway->try_put(batch);
  gateway->release_wait();
}

Executor::Executor(unsigned threads) {
  if (threads == 0) threads = static_cast<unsigned>(tbb::info::default_concurrency());
  detail::ensure_worker_threads(threads);
  core_ = std::make_shared<detail::ExecutorCore>(threads);
}

Executor::~Executor() {
  if (::getpid() != core_->pid()) {
    // A forked child: the arena's threads exist only in the parent, so neither
    // waiting for runs nor tearing the arena down can work. Leave it be.
    new std::shared_ptr<detail::ExecutorCore>(std::move(core_));
    return;
  }
  core_->wait_idle();
}

unsigned Executor::threads() const noexcept { return core_->threads(); }

GraphRun Executor::submit(std::shared_ptr<const Graph> graph) {
  if (!graph) throw Error(ErrorCode::invalid_argument, "null graph");
  if (::getpid() != core_->pid()) {
    throw Error(ErrorCode::resource_error,
                "this executor was created in process " + std::to_string(core_->pid()) +
                    " and cannot run in a forked child (" + std::to_string(::getpid()) +
                    "): TBB's threads and Python's subinterpreters do not survive fork(); "
                    "create executors after forking, or use multiprocessing's 'spawn' or "
                    "'forkserver' start method",
                graph->name(), {}, no_chunk);
  }
  auto run = detail::prepare(std::move(graph), core_->threads());
  core_->run_started();
  detail::ExecutorCore* core = core_.get();  // outlives the task: ~Executor waits for it
  // The task drops its reference to the run before it reports the run over:
  // otherwise the last reference (and the scratch buffers) could be released
  // after ~Executor returned, even after main() returned (LeakSanitizer saw
  // that as a leak). TBB keeps an enqueued functor const, hence `mutable`.
  struct RunTask {
    detail::ExecutorCore* core;
    mutable std::shared_ptr<detail::RunState> run;
    void operator()() const {
      if (run->chunks_total != 0) {
        try {
          detail::execute(*run);
        } catch (...) {
          run->fail(std::current_exception());
        }
      }
      detail::finish_run(*run);
      run.reset();
      core->run_finished();
    }
  };
  core_->arena().enqueue(RunTask{core, run});
  return GraphRun(std::move(run));
}

GraphRun Executor::submit(Graph graph) {
  return submit(std::make_shared<const Graph>(std::move(graph)));
}

void Executor::run(Graph graph) { submit(std::move(graph)).get(); }

}  // namespace decoflow
