// decoflow/graph.hpp: a decode graph: chunks, the stages they flow through,
// and the arrays they land in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "decoflow/codec.hpp"
#include "decoflow/destination.hpp"
#include "decoflow/input.hpp"
#include "decoflow/stage.hpp"

namespace decoflow {

/// ChunkSpec::array value for a chunk whose decoded size is not known up
/// front: it decodes into engine scratch of `dest_size` bytes (an upper bound),
/// may produce fewer, and later stages (an ordered stage that places it, for
/// example) see exactly the bytes produced.
inline constexpr std::uint32_t scratch_output = 0xFFFFFFFFu;

/// One chunk: where its input is, how it is compressed, and which slice of
/// which destination array it fills. `input` and `array` are the ids returned
/// by Graph::add_input() and Graph::add_array() (or scratch_output).
struct ChunkSpec {
  std::uint32_t input = 0;
  std::uint64_t input_offset = 0;
  std::uint64_t input_size = 0;
  std::uint32_t array = 0;
  std::uint64_t dest_offset = 0;
  std::uint64_t dest_size = 0;
  Codec codec = Codec::raw;
  std::int64_t tag = 0;
};

/// A description of work: every chunk goes through every stage in order and
/// ends in its destination slice. A Graph is a value; submitting it does not
/// change it, and the same Graph can be submitted again (once its previous run
/// has released its slices).
///
/// Nothing is checked while building except ids: Executor::submit() validates
/// slices and input ranges, and throws there, naming the chunk.
///
/// Thread-safety: building is not thread-safe; a built graph may be submitted
/// from several threads.
class Graph {
 public:
  explicit Graph(std::string name = "graph");

  const std::string& name() const noexcept { return name_; }

  /// Adds an input and returns its id for ChunkSpec::input.
  std::uint32_t add_input(std::shared_ptr<const InputBuffer> input);
  /// Adds a destination array and returns its id for ChunkSpec::array.
  std::uint32_t add_array(std::shared_ptr<DestinationArray> array);
  /// Appends a stage; chunks go through stages in the order they were added.
  void add_stage(Stage stage);
  /// Appends a chunk; its index is the number of chunks added before it.
  /// Throws Error(invalid_argument) for an unknown input or array id.
  void add_chunk(const ChunkSpec& chunk);
  /// Reserves room for `count` chunks.
  void reserve_chunks(std::size_t count);

  const std::vector<std::shared_ptr<const InputBuffer>>& inputs() const noexcept { return inputs_; }
  const std::vector<std::shared_ptr<DestinationArray>>& arrays() const noexcept { return arrays_; }
  const std::vector<Stage>& stages() const noexcept { return stages_; }
  const std::vector<ChunkSpec>& chunks() const noexcept { return chunks_; }

 private:
  std::string name_;
  std::vector<std::shared_ptr<const InputBuffer>> inputs_;
  std::vector<std::shared_ptr<DestinationArray>> arrays_;
  std::vector<Stage> stages_;
  std::vector<ChunkSpec> chunks_;
};

}  // namespace decoflow
