#include "decoflow/byteswap.hpp"

#include <cstdint>
#include <cstring>
#include <string>

#include "decoflow/error.hpp"

namespace decoflow {

namespace {

// memcpy loads and stores let the compiler vectorise these loops (pshufb) on
// unaligned slices without undefined behaviour.
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

// pshufb (SSSE3) is not in baseline x86-64, so a plain build swaps one word at
// a time (~14 GB/s in cache); an AVX2 clone, picked at load time when the CPU
// has it, swaps 32 bytes per instruction (~80 GB/s), a quarter of lz4 +
// byteswap time. Not under the sanitizers: the clone's ifunc resolver runs
// during relocation, before their runtime starts (under ThreadSanitizer every
// binary linking the engine crashed before main()).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define DECOFLOW_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DECOFLOW_SIMD_CLONES
#endif

DECOFLOW_SIMD_CLONES
void swap_any(const std::byte* src, std::byte* dst, std::size_t size, unsigned width) {
  switch (width) {
    case 2: swap_words<std::uint16_t, swap16>(src, dst, size / 2); break;
    case 4: swap_words<std::uint32_t, swap32>(src, dst, size / 4); break;
    case 8: swap_words<std::uint64_t, swap64>(src, dst, size / 8); break;
    default:
      if (src != dst && size != 0) std::memcpy(dst, src, size);
      break;
  }
}

}  // namespace

void byteswap_in_place(MutableBytes bytes, unsigned width) {
  check(bytes.size(), width);
  swap_any(bytes.data(), bytes.data(), bytes.size(), width);
}

void byteswap_copy(ConstBytes src, MutableBytes dst, unsigned width) {
  check(src.size(), width);
  if (dst.size() != src.size()) {
    throw Error(ErrorCode::size_mismatch, "byteswap copy of " + std::to_string(src.size()) +
                                              " bytes into " + std::to_string(dst.size()));
  }
  swap_any(src.data(), dst.data(), src.size(), width);
}

}  // namespace decoflow
