#include "decoflow/graph.hpp"

#include <utility>

#include "decoflow/error.hpp"

namespace decoflow {

Graph::Graph(std::string name) : name_(std::move(name)) {}

std::uint32_t Graph::add_input(std::shared_ptr<const InputBuffer> input) {
  if (!input) throw Error(ErrorCode::invalid_argument, "null input", name_, {}, no_chunk);
  inputs_.push_back(std::move(input));
  return static_cast<std::uint32_t>(inputs_.size() - 1);
}

std::uint32_t Graph::add_array(std::shared_ptr<DestinationArray> array) {
  if (!array) throw Error(ErrorCode::invalid_argument, "null array", name_, {}, no_chunk);
  arrays_.push_back(std::move(array));
  return static_cast<std::uint32_t>(arrays_.size() - 1);
}

void Graph::add_stage(Stage stage) { stages_.push_back(std::move(stage)); }

void Graph::add_chunk(const ChunkSpec& chunk) {
  if (chunk.input >= inputs_.size() && !(chunk.input == 0 && chunk.input_size == 0)) {
    throw Error(ErrorCode::invalid_argument, "unknown input id " + std::to_string(chunk.input),
                name_, {}, static_cast<std::int64_t>(chunks_.size()));
  }
  if (chunk.array >= arrays_.size() && chunk.array != scratch_output &&
      !(chunk.array == 0 && chunk.dest_size == 0)) {
    throw Error(ErrorCode::invalid_argument, "unknown array id " + std::to_string(chunk.array),
                name_, {}, static_cast<std::int64_t>(chunks_.size()));
  }
  chunks_.push_back(chunk);
}

void Graph::reserve_chunks(std::size_t count) { chunks_.reserve(count); }

}  // namespace decoflow
