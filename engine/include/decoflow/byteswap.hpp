// decoflow/byteswap.hpp: big-endian to native order, in place or while copying.
#pragma once

#include "decoflow/bytes.hpp"

namespace decoflow {

/// Reverses the byte order of every `width`-byte element of `bytes` (width 1:
/// nothing; 2, 4, 8), at any alignment, with the widest vector kernel the CPU
/// runs (SSSE3, AVX2 or AVX-512BW, chosen at the first call; scalar
/// elsewhere). bytes.size() must be a multiple of width (throws
/// Error(invalid_argument) otherwise). Thread-safe for distinct spans.
void byteswap_in_place(MutableBytes bytes, unsigned width);

/// Copies `src` into `dst` reversing each `width`-byte element, with the same
/// kernels; sizes must be equal multiples of width (throws
/// Error(invalid_argument) or Error(size_mismatch) otherwise); the spans must
/// not overlap. Thread-safe for distinct destinations.
void byteswap_copy(ConstBytes src, MutableBytes dst, unsigned width);

}  // namespace decoflow
