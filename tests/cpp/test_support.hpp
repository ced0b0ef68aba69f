// test_support.hpp: shared helpers for the Catch2 tests: test_data.hpp (data
// and compressors), guard-byte buffers, expected errors, temporary files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "decoflow/bytes.hpp"
#include "test_data.hpp"
#include "decoflow/error.hpp"

namespace decoflow::test {

/// A destination with poisoned contents and canary bytes before and after it,
/// to prove a decoder writes only inside its span.
class GuardedBuffer {
 public:
  static constexpr std::size_t guard_size = 64;
  static constexpr std::byte poison{0xA5};

  explicit GuardedBuffer(std::size_t size);
  MutableBytes span() { return {storage_.data() + guard_size, size_}; }
  ConstBytes view() const { return {storage_.data() + guard_size, size_}; }
  std::size_t size() const { return size_; }
  /// True while every canary byte before and after the span is unchanged.
  bool guards_intact() const;
  /// The first `n` bytes of the span as a vector.
  Bytes prefix(std::size_t n) const;

 private:
  static std::byte canary(std::size_t index);
  std::vector<std::byte> storage_;
  std::size_t size_;
};

/// Runs `action`, requires it to throw decoflow::Error with `code`, and returns
/// the error's cause (for checks on the message). Fails the test otherwise.
std::string require_error(ErrorCode code, const std::function<void()>& action);

/// Writes bytes to a new temporary file and returns its path (removed by the OS
/// temp cleaner, or explicitly by remove_file).
std::string write_temp_file(ConstBytes data, std::string_view suffix);
Bytes read_file(const std::string& path);
void remove_file(const std::string& path);

}  // namespace decoflow::test
