// RNTuple's split encoding undone: byte planes back to little-endian
// elements, zigzag undone on the way (internal to decoflow_graphs).
#pragma once

#include <cstddef>

namespace decoflow::detail {

/// Elements [begin, begin + count) of a decompressed page `in` of `n`
/// elements of `width` bytes (1, 2, 4 or 8) as native little-endian
/// elements in `out` (count × width bytes): with `split`, un-split from byte
/// planes (element i's byte b at in[b × n + i]), else copied; with `zigzag`,
/// each element's zigzag encoding undone too (u >> 1 ^ -(u & 1)). `in` and
/// `out` must not overlap. Thread-safe; allocates nothing.
void native_elements(unsigned width, const std::byte* in, std::size_t n, std::size_t begin,
                     std::size_t count, bool split, bool zigzag, std::byte* out) noexcept;

}  // namespace decoflow::detail
