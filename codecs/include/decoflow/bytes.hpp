// decoflow/bytes.hpp: the byte-span vocabulary shared by codecs and engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace decoflow {

/// Read-only bytes (compressed input, a file mapping).
using ConstBytes = std::span<const std::byte>;
/// Writable bytes (a destination slice, scratch). Decoders never write outside it.
using MutableBytes = std::span<std::byte>;

/// The big-endian unsigned integer of `N` bytes at `p` (ROOT's byte order).
/// The caller checks that the bytes exist.
template <std::size_t N>
constexpr std::uint64_t load_be(const std::byte* p) noexcept {
  static_assert(N >= 1 && N <= 8);
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < N; ++i) value = value << 8 | static_cast<std::uint64_t>(p[i]);
  return value;
}

}  // namespace decoflow
