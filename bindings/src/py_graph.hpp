// decoflow._core's graph: decoflow.Graph's native half, shared by the
// module and the ROOT read (which fills one in a single call).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "decoflow/error.hpp"
#include "decoflow/graph.hpp"
#include "py_array.hpp"

namespace decoflow::python {

struct PyGraph {
  // Copy-on-write: submit() shares this graph with the run; the next change
  // while that run still holds it copies first, so submitting never copies.
  std::shared_ptr<Graph> graph;
  std::unordered_map<const DestinationArray*, std::uint32_t> array_ids;

  explicit PyGraph(std::string name) : graph(std::make_shared<Graph>(std::move(name))) {}

  Graph& edit() {
    if (graph.use_count() > 1) graph = std::make_shared<Graph>(*graph);
    return *graph;
  }

  std::uint32_t array_id(const PyArray& a) {
    auto it = array_ids.find(a.array.get());
    if (it != array_ids.end()) return it->second;
    const std::uint32_t id = edit().add_array(a.array);
    array_ids.emplace(a.array.get(), id);
    return id;
  }

  std::uint32_t input_id(std::int64_t input) const {
    if (input < 0 || static_cast<std::size_t>(input) >= graph->inputs().size()) {
      throw Error(ErrorCode::invalid_argument,
                  "unknown input id " + std::to_string(input) + " (add_input() returns ids)");
    }
    return static_cast<std::uint32_t>(input);
  }
};

}  // namespace decoflow::python
