// decoflow/input.hpp: the read-only bytes that chunks are read from.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "decoflow/bytes.hpp"

namespace decoflow {

/// Read-only input bytes for a graph's chunks: owned memory, caller memory kept
/// alive by an owner, or a file mapped read-only (the kernel pages it in as
/// chunks are decoded, so no chunk is read into memory by hand).
///
/// Thread-safety: immutable after creation; safe to share between graphs and
/// threads.
class InputBuffer {
 public:
  /// Takes ownership of `bytes`.
  static std::shared_ptr<const InputBuffer> from_bytes(std::vector<std::byte> bytes);
  /// Wraps caller memory, valid while `keepalive` is held (null: the caller
  /// guarantees it outlives every graph using it).
  static std::shared_ptr<const InputBuffer> wrap(ConstBytes bytes,
                                                 std::shared_ptr<const void> keepalive);
  /// Maps the file at `path` read-only. Throws Error(io_error) naming the path
  /// and the system's reason when it cannot be opened or mapped.
  static std::shared_ptr<const InputBuffer> map_file(const std::string& path);

  ~InputBuffer();
  InputBuffer(const InputBuffer&) = delete;
  InputBuffer& operator=(const InputBuffer&) = delete;

  ConstBytes bytes() const noexcept { return bytes_; }
  std::size_t size() const noexcept { return bytes_.size(); }
  /// The file path for mapped inputs, otherwise empty.
  const std::string& path() const noexcept { return path_; }

  struct PrivateTag {};
  InputBuffer(PrivateTag, ConstBytes bytes, std::shared_ptr<const void> owner, std::string path);

 private:
  ConstBytes bytes_;
  std::shared_ptr<const void> owner_;
  std::string path_;
};

}  // namespace decoflow
