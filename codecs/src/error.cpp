#include "decoflow/error.hpp"

#include <utility>

namespace decoflow {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::slice_error: return "slice_error";
    case ErrorCode::corrupt_input: return "corrupt_input";
    case ErrorCode::size_mismatch: return "size_mismatch";
    case ErrorCode::unsupported_format: return "unsupported_format";
    case ErrorCode::checksum_mismatch: return "checksum_mismatch";
    case ErrorCode::io_error: return "io_error";
    case ErrorCode::cancelled: return "cancelled";
    case ErrorCode::glue_error: return "glue_error";
    case ErrorCode::resource_error: return "resource_error";
    case ErrorCode::internal: return "internal";
    case ErrorCode::stage_error: return "stage_error";
  }
  return "unknown";
}

namespace {

std::string describe(ErrorCode code, const std::string& cause, const std::string& graph,
                     const std::string& node, std::int64_t chunk) {
  std::string text;
  if (!graph.empty()) text += "graph '" + graph + "', ";
  if (!node.empty()) text += "node '" + node + "', ";
  if (chunk != no_chunk) text += "chunk " + std::to_string(chunk) + ", ";
  if (!text.empty()) text.replace(text.size() - 2, 2, ": ");
  text += to_string(code);
  text += ": ";
  text += cause;
  return text;
}

}  // namespace

Error::Error(ErrorCode code, std::string cause)
    : Error(code, std::move(cause), {}, {}, no_chunk) {}

Error::Error(ErrorCode code, std::string cause, std::string graph, std::string node,
             std::int64_t chunk)
    : std::runtime_error(describe(code, cause, graph, node, chunk)),
      code_(code),
      cause_(std::move(cause)),
      graph_(std::move(graph)),
      node_(std::move(node)),
      chunk_(chunk) {}

Error Error::located(std::string graph, std::string node, std::int64_t chunk) const {
  return Error(code_, cause_, std::move(graph), std::move(node), chunk);
}

}  // namespace decoflow
