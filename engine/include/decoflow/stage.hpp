// decoflow/stage.hpp: the steps every chunk of a graph goes through.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "decoflow/bytes.hpp"
#include "decoflow/codec.hpp"

namespace decoflow {

/// What a stage body sees of one chunk.
struct ChunkView {
  std::size_t index = 0;   ///< chunk index within its graph
  ConstBytes input;        ///< the chunk's compressed input bytes
  MutableBytes output;     ///< the chunk's destination slice (exactly its bytes)
  Codec codec = Codec::raw;
  std::int64_t tag = 0;    ///< caller metadata (an entry number, a basket id, ...)
  /// The chunk's result slot: a stage may store a small result here (a count,
  /// a size) for later stages and for GraphRun::results(). Never null.
  std::int64_t* result = nullptr;
  /// Owner of the memory behind `input` and `output`: a body that lets a
  /// reference to that memory outlive its call (a Python view that escaped)
  /// copies this to keep the memory alive. Never null.
  const std::shared_ptr<const void>* memory_owner = nullptr;
};

namespace detail {
struct RunState;
struct PinnedJobAccess;  // the executor's only way to make a PinnedJob
}

/// One batch of consecutive chunks handed by the flow graph to a
/// PinnedStageBody. A small value: copy it into a queue.
class PinnedJob {
 public:
  /// Runs the stage's body over every chunk of the batch (skipping them once the
  /// graph has stopped), recording failures against their chunks. Call on the
  /// body's own thread, with whatever per-thread state the body needs attached.
  void execute() const;
  /// Passes the batch on to the next stage. Call exactly once, after execute(),
  /// from any thread, holding no interpreter or lock the graph could need.
  void finish() const;
  /// The thread count of the executor running the graph: how many threads the
  /// body should have to keep up.
  unsigned concurrency() const noexcept { return concurrency_; }
  /// True once the graph has stopped (cancelled, or failed elsewhere): a body
  /// may watch it to abandon long work. Valid until finish().
  const std::atomic<bool>* stop_flag() const noexcept;

  /// An empty job (a queue's placeholder); execute() and finish() must not be called on it.
  PinnedJob() = default;

 private:
  friend struct detail::PinnedJobAccess;
  PinnedJob(detail::RunState* run, std::size_t stage, std::uint32_t begin, std::uint32_t end,
            std::uint32_t seq, std::uint32_t scratch, void* gateway, unsigned concurrency)
      : run_(run), stage_(stage), begin_(begin), end_(end), seq_(seq), scratch_(scratch),
        scratch_taken_(scratch), gateway_(gateway), concurrency_(concurrency) {}

  detail::RunState* run_ = nullptr;
  std::size_t stage_ = 0;
  std::uint32_t begin_ = 0;
  std::uint32_t end_ = 0;
  std::uint32_t seq_ = 0;
  std::uint32_t scratch_ = 0;
  mutable std::uint32_t scratch_taken_ = 0;
  mutable std::uint32_t chunks_done_ = 0;
  mutable std::uint64_t bytes_done_ = 0;
  void* gateway_ = nullptr;
  unsigned concurrency_ = 1;
};

/// A stage body the engine can call on its worker threads. Implementations
/// must be safe to call concurrently for different chunks, and must write only
/// inside view.output. Throwing decoflow::Error fails the chunk with that code;
/// any other exception fails it with ErrorCode::stage_error.
class StageBody {
 public:
  virtual ~StageBody() = default;
  virtual void run(const ChunkView& view) = 0;
};

/// A stage body that must run on threads of its own rather than on the
/// executor's workers: Python glue runs on threads that each keep one pinned
/// subinterpreter. The flow graph hands it whole batches through a
/// tbb::flow::async_node, so the worker that hands over never waits.
class PinnedStageBody : public StageBody {
 public:
  /// Queues `job` for one of the body's threads, which calls job.execute()
  /// and then job.finish(). Called on an executor worker; must not block long.
  /// Should not throw: if it does, the job was not taken, the run fails with
  /// ErrorCode::stage_error at the batch's first chunk, and the batch moves on.
  virtual void post(const PinnedJob& job) = 0;
};

/// One stage of a graph. Build with the named constructors.
///
/// Thread-safety: a Stage is an immutable description once added to a graph.
class Stage {
 public:
  enum class Kind : std::uint8_t {
    decode,    ///< decode the chunk's input with its codec straight into its slice
    byteswap,  ///< reverse the byte order of each 2-, 4- or 8-byte element in place
    custom,    ///< a caller's body (a native function, Python glue, ...)
    ordered,   ///< a caller's body run serially, one chunk at a time, in chunk order
  };

  /// Decodes each chunk's input with the chunk's codec into its destination
  /// slice; the decoded size must equal the slice length (size_mismatch
  /// otherwise). A chunk with empty input and empty slice is a no-op. A
  /// scratch_output chunk may produce fewer bytes than its capacity.
  static Stage decode(std::string name = "decode");

  /// Reverses byte order in place for elements of `width` bytes (2, 4 or 8);
  /// every chunk's slice length must be a multiple of the width (checked at
  /// submit). Throws Error(invalid_argument) for another width.
  static Stage byteswap(unsigned width, std::string name = {});

  /// Calls `fn` for each chunk (on engine worker threads, concurrently).
  static Stage native(std::string name, std::function<void(const ChunkView&)> fn);

  /// Runs `body` for each chunk (on the body's own threads when it is a
  /// PinnedStageBody).
  static Stage custom(std::string name, std::shared_ptr<StageBody> body);

  /// Calls `fn` for each chunk serially and in chunk-index order (a sequencer
  /// restores the order; the calls never overlap). For placing variable-size
  /// outputs with a running offset, computing global offsets, writing a file.
  static Stage ordered(std::string name, std::function<void(const ChunkView&)> fn);

  Kind kind() const noexcept { return kind_; }
  const std::string& name() const noexcept { return name_; }
  unsigned width() const noexcept { return width_; }
  StageBody* body() const noexcept { return body_.get(); }

 private:
  Stage(Kind kind, std::string name, unsigned width, std::shared_ptr<StageBody> body);
  Kind kind_;
  std::string name_;
  unsigned width_;
  std::shared_ptr<StageBody> body_;
};

}  // namespace decoflow
