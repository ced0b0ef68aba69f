#include "decoflow/byteswap.hpp"

#include <cstdint>
#include <cstring>
#include <string>

#include "decoflow/detail/byteswap_kernels.hpp"
#include "decoflow/error.hpp"

// Vector kernels for x86 with GCC or clang: each function is compiled for its
// instruction set (target attribute) and chosen at run time from cpuid, so the
// default build stays baseline x86-64 (which lacks pshufb) and runs anywhere.
// No target_clones / ifunc: an ifunc resolver runs during relocation, before a
// sanitizer's runtime has started (under ThreadSanitizer every binary linking
// the engine crashed before main()); a function-local static does not.
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define DECOFLOW_X86_KERNELS 1
#include <immintrin.h>
#else
#define DECOFLOW_X86_KERNELS 0
#endif

namespace decoflow {

namespace detail {

namespace {

// memcpy loads and stores: any alignment, no undefined behaviour.
template <typename Word, Word (*Swap)(Word)>
void swap_words(const std::byte* src, std::byte* dst, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    Word w;
    std::memcpy(&w, src + i * sizeof(Word), sizeof(Word));
    w = Swap(w);
    std::memcpy(dst + i * sizeof(Word), &w, sizeof(Word));
  }
}

std::uint16_t swap16(std::uint16_t w) { return __builtin_bswap16(w); }
std::uint32_t swap32(std::uint32_t w) { return __builtin_bswap32(w); }
std::uint64_t swap64(std::uint64_t w) { return __builtin_bswap64(w); }

void scalar_swap(const std::byte* src, std::byte* dst, std::size_t size, unsigned width) {
  switch (width) {
    case 2: swap_words<std::uint16_t, swap16>(src, dst, size / 2); break;
    case 4: swap_words<std::uint32_t, swap32>(src, dst, size / 4); break;
    case 8: swap_words<std::uint64_t, swap64>(src, dst, size / 8); break;
    default: break;
  }
}

#if DECOFLOW_X86_KERNELS

// pshufb controls reversing every element: byte i takes byte
// (i / width) * width + width - 1 - i % width of its 16-byte lane. The 32- and
// 64-byte shuffles work lane by lane; 64 bytes are stored so that every kernel
// loads its control whole (GCC 12 warns on _mm512_broadcast_i32x4's
// undefined upper part under -Werror).
struct alignas(64) LaneMask {
  std::uint8_t bytes[64];
};

constexpr LaneMask make_lane_mask(unsigned width) {
  LaneMask m{};
  for (unsigned i = 0; i < 64; ++i) {
    const unsigned in_lane = i % 16;
    m.bytes[i] = static_cast<std::uint8_t>(in_lane / width * width + width - 1 - in_lane % width);
  }
  return m;
}

constexpr LaneMask lane_masks[3] = {make_lane_mask(2), make_lane_mask(4), make_lane_mask(8)};

const std::uint8_t* lane_mask(unsigned width) {
  return lane_masks[width == 2 ? 0 : width == 4 ? 1 : 2].bytes;
}

// Each step loads before it stores, so dst == src (in place) is fine. The
// tails shorter than a vector go to the narrower kernels, then scalar.
__attribute__((target("ssse3"))) void ssse3_swap(const std::byte* src, std::byte* dst,
                                                 std::size_t size, unsigned width) {
  const __m128i mask = _mm_load_si128(reinterpret_cast<const __m128i*>(lane_mask(width)));
  std::size_t i = 0;
  for (; i + 32 <= size; i += 32) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 16));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_shuffle_epi8(a, mask));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + 16), _mm_shuffle_epi8(b, mask));
  }
  if (i + 16 <= size) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_shuffle_epi8(a, mask));
    i += 16;
  }
  scalar_swap(src + i, dst + i, size - i, width);
}

__attribute__((target("avx2"))) void avx2_swap(const std::byte* src, std::byte* dst,
                                               std::size_t size, unsigned width) {
  const __m128i lane = _mm_load_si128(reinterpret_cast<const __m128i*>(lane_mask(width)));
  const __m256i mask = _mm256_load_si256(reinterpret_cast<const __m256i*>(lane_mask(width)));
  std::size_t i = 0;
  for (; i + 64 <= size; i += 64) {
    __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
    __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 32));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_shuffle_epi8(a, mask));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i + 32), _mm256_shuffle_epi8(b, mask));
  }
  if (i + 32 <= size) {
    __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_shuffle_epi8(a, mask));
    i += 32;
  }
  if (i + 16 <= size) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_shuffle_epi8(a, lane));
    i += 16;
  }
  scalar_swap(src + i, dst + i, size - i, width);
}

// The tail is one masked load and store: masked-off bytes are neither read
// (no fault past the end) nor written.
__attribute__((target("avx512f,avx512bw"))) void avx512bw_swap(const std::byte* src,
                                                                std::byte* dst, std::size_t size,
                                                                unsigned width) {
  const __m512i mask = _mm512_load_si512(lane_mask(width));
  std::size_t i = 0;
  for (; i + 128 <= size; i += 128) {
    __m512i a = _mm512_loadu_si512(src + i);
    __m512i b = _mm512_loadu_si512(src + i + 64);
    _mm512_storeu_si512(dst + i, _mm512_shuffle_epi8(a, mask));
    _mm512_storeu_si512(dst + i + 64, _mm512_shuffle_epi8(b, mask));
  }
  if (i + 64 <= size) {
    _mm512_storeu_si512(dst + i, _mm512_shuffle_epi8(_mm512_loadu_si512(src + i), mask));
    i += 64;
  }
  if (i < size) {
    const __mmask64 keep = (__mmask64{1} << (size - i)) - 1;  // size - i < 64
    __m512i a = _mm512_maskz_loadu_epi8(keep, src + i);
    _mm512_mask_storeu_epi8(dst + i, keep, _mm512_shuffle_epi8(a, mask));
  }
}

#endif  // DECOFLOW_X86_KERNELS

bool cpu_has(ByteswapKernel kernel) noexcept {
#if DECOFLOW_X86_KERNELS
  __builtin_cpu_init();
  switch (kernel) {
    case ByteswapKernel::scalar: return true;
    case ByteswapKernel::ssse3: return __builtin_cpu_supports("ssse3");
    case ByteswapKernel::avx2: return __builtin_cpu_supports("avx2");
    case ByteswapKernel::avx512bw:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  }
  return false;
#else
  return kernel == ByteswapKernel::scalar;
#endif
}

ByteswapKernel best_kernel() noexcept {
  for (ByteswapKernel k : {ByteswapKernel::avx512bw, ByteswapKernel::avx2, ByteswapKernel::ssse3}) {
    if (cpu_has(k)) return k;
  }
  return ByteswapKernel::scalar;
}

}  // namespace

const char* byteswap_kernel_name(ByteswapKernel kernel) noexcept {
  switch (kernel) {
    case ByteswapKernel::scalar: return "scalar";
    case ByteswapKernel::ssse3: return "ssse3";
    case ByteswapKernel::avx2: return "avx2";
    case ByteswapKernel::avx512bw: return "avx512bw";
  }
  return "?";
}

std::vector<ByteswapKernel> supported_byteswap_kernels() {
  std::vector<ByteswapKernel> out;
  for (ByteswapKernel k : {ByteswapKernel::scalar, ByteswapKernel::ssse3, ByteswapKernel::avx2,
                           ByteswapKernel::avx512bw}) {
    if (cpu_has(k)) out.push_back(k);
  }
  return out;
}

ByteswapKernel selected_byteswap_kernel() noexcept {
  static const ByteswapKernel selected = best_kernel();  // once; thread-safe
  return selected;
}

void byteswap_with(ByteswapKernel kernel, const std::byte* src, std::byte* dst, std::size_t size,
                   unsigned width) noexcept {
  if (width != 2 && width != 4 && width != 8) {  // 1: a copy
    if (src != dst && size != 0) std::memcpy(dst, src, size);
    return;
  }
  switch (kernel) {
#if DECOFLOW_X86_KERNELS
    case ByteswapKernel::ssse3: ssse3_swap(src, dst, size, width); return;
    case ByteswapKernel::avx2: avx2_swap(src, dst, size, width); return;
    case ByteswapKernel::avx512bw: avx512bw_swap(src, dst, size, width); return;
#endif
    default: scalar_swap(src, dst, size, width); return;
  }
}

}  // namespace detail

namespace {

void check(std::size_t size, unsigned width) {
  if (width != 1 && width != 2 && width != 4 && width != 8) {
    throw Error(ErrorCode::invalid_argument,
                "byteswap width must be 1, 2, 4 or 8, not " + std::to_string(width));
  }
  if (size % width != 0) {
    throw Error(ErrorCode::invalid_argument, "byteswap of " + std::to_string(size) +
                                                 " bytes: not a multiple of the width " +
                                                 std::to_string(width));
  }
}

}  // namespace

void byteswap_in_place(MutableBytes bytes, unsigned width) {
  check(bytes.size(), width);
  detail::byteswap_with(detail::selected_byteswap_kernel(), bytes.data(), bytes.data(),
                        bytes.size(), width);
}

void byteswap_copy(ConstBytes src, MutableBytes dst, unsigned width) {
  check(src.size(), width);
  if (dst.size() != src.size()) {
    throw Error(ErrorCode::size_mismatch, "byteswap copy of " + std::to_string(src.size()) +
                                              " bytes into " + std::to_string(dst.size()));
  }
  detail::byteswap_with(detail::selected_byteswap_kernel(), src.data(), dst.data(), src.size(),
                        width);
}

}  // namespace decoflow
