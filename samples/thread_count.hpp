// The --threads value of the sample tools: 0 means one per hardware thread,
// as decoflow::Executor(0) and Python's decoflow.Executor(threads=0) do.
#pragma once

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>

namespace decoflow_samples {

/// The number in `text` when it is an integer from 0 to 4096; nullopt
/// otherwise (empty, a sign, other characters, too large). Thread-safe.
inline std::optional<unsigned> parse_thread_count(const std::string& text) {
  if (text.empty() || text[0] < '0' || text[0] > '9') return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const unsigned long value = std::strtoul(text.c_str(), &end, 10);
  if (*end != '\0' || errno != 0 || value > 4096) return std::nullopt;
  return static_cast<unsigned>(value);
}

}  // namespace decoflow_samples
