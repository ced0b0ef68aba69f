// decoflow/error.hpp: the one error model used end to end.
//
// Every failure is a decoflow::Error: a stable ErrorCode, the cause (a codec's
// message, a Python traceback, ...) and, once the engine has seen it, where it
// happened (graph, node, chunk index). Codecs throw it with a cause only; the
// engine fills in the location before it reaches the caller.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace decoflow {

/// Stable error categories. Values never change meaning (bindings map them to
/// exception classes).
enum class ErrorCode : int {
  invalid_argument = 1,    ///< a parameter that can never be valid (bad width, unknown codec name)
  slice_error = 2,         ///< a destination slice out of range or overlapping another
  corrupt_input = 3,       ///< compressed bytes that do not decode (truncated, flipped, malformed)
  size_mismatch = 4,       ///< decoded size differs from the declared size or the slice length
  unsupported_format = 5,  ///< a format the library recognises but does not decode (ROOT "CS")
  checksum_mismatch = 6,   ///< a checksum in the input (L4 XXH64, lz4 frame) does not match
  io_error = 7,            ///< reading or writing a file failed
  cancelled = 8,           ///< the graph was cancelled before this chunk finished
  glue_error = 9,          ///< Python glue raised, kept a view, or could not be imported
  resource_error = 10,     ///< memory or an interpreter could not be obtained
  internal = 11,           ///< a broken invariant inside decoflow (a bug: please report it)
  stage_error = 12,        ///< a caller-supplied native stage threw something other than Error
};

/// Short lowercase name of a code ("corrupt_input"). Thread-safe.
std::string_view to_string(ErrorCode code) noexcept;

/// Index value meaning "no chunk" in Error::chunk().
inline constexpr std::int64_t no_chunk = -1;

/// The exception every decoflow function throws for a failure it can name.
/// what() reads "graph 'g', node 'decode', chunk 17: corrupt_input: zstd: ...".
class Error : public std::runtime_error {
 public:
  /// An error with a cause and no location yet (what codecs throw).
  Error(ErrorCode code, std::string cause);
  /// An error with its full location (what the engine reports).
  Error(ErrorCode code, std::string cause, std::string graph, std::string node,
        std::int64_t chunk);

  ErrorCode code() const noexcept { return code_; }
  /// What went wrong, without the location.
  const std::string& cause() const noexcept { return cause_; }
  /// Graph name, or empty when the error did not come from a graph.
  const std::string& graph() const noexcept { return graph_; }
  /// Node (stage) name, or empty.
  const std::string& node() const noexcept { return node_; }
  /// Chunk index within its graph, or no_chunk.
  std::int64_t chunk() const noexcept { return chunk_; }

  /// The same error with a location attached (keeps code and cause).
  Error located(std::string graph, std::string node, std::int64_t chunk) const;

 private:
  ErrorCode code_;
  std::string cause_;
  std::string graph_;
  std::string node_;
  std::int64_t chunk_ = no_chunk;
};

}  // namespace decoflow
