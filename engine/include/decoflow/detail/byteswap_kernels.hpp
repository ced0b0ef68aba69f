// decoflow/detail/byteswap_kernels.hpp: the byteswap loops one by one, for
// tests and benchmarks. Not part of the API: use decoflow/byteswap.hpp.
#pragma once

#include <cstddef>
#include <vector>

namespace decoflow::detail {

/// The byteswap loops decoflow carries. Which ones run depends on the CPU:
/// byteswap_in_place / byteswap_copy use the best supported one, chosen once
/// at the first call (cpuid; no ifunc, so sanitizers and clang builds
/// dispatch too).
enum class ByteswapKernel {
  scalar,    ///< one bswap per element (any CPU)
  ssse3,     ///< pshufb, 16 bytes per step (x86)
  avx2,      ///< vpshufb, 32 bytes per step (x86)
  avx512bw,  ///< vpshufb on zmm, 64 bytes per step, masked tail (x86)
};

/// The kernel's name ("scalar", "ssse3", "avx2", "avx512bw"). Thread-safe.
const char* byteswap_kernel_name(ByteswapKernel kernel) noexcept;

/// The kernels this CPU (and this build) can run, scalar first, best last.
/// Thread-safe.
std::vector<ByteswapKernel> supported_byteswap_kernels();

/// The kernel byteswap_in_place / byteswap_copy use here. Thread-safe.
ByteswapKernel selected_byteswap_kernel() noexcept;

/// Reverses each `width`-byte element (2, 4 or 8) of src[0, size) into dst
/// with `kernel`; dst == src swaps in place; otherwise the ranges must not
/// overlap. size must be a multiple of width and the kernel supported (both
/// unchecked: the public functions check). Any alignment. Thread-safe.
void byteswap_with(ByteswapKernel kernel, const std::byte* src, std::byte* dst, std::size_t size,
                   unsigned width) noexcept;

}  // namespace decoflow::detail
