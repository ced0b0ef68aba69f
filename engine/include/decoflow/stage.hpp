// decoflow/stage.hpp: the steps every chunk of a graph goes through.
#pragma once

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

  /// Runs `body` for each chunk.
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
