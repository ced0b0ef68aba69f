// decoflow-bench-byteswap: MB/s of every byteswap kernel this CPU runs, in
// place and copying, widths 4 and 8, on a 32 KiB (L1/L2) and a 1 MiB buffer,
// side by side in one run. "previous" is the loop decoflow shipped before the
// explicit kernels (a memcpy/bswap loop the compiler vectorises, with a GCC
// target_clones("avx2", "default") clone): the baseline of docs/PERFORMANCE.md.
// Every output is checked against the reference before it is timed.
//
//   decoflow-bench-byteswap [seconds per cell, default 0.2]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "decoflow/byteswap.hpp"
#include "decoflow/detail/byteswap_kernels.hpp"

namespace {

using decoflow::detail::ByteswapKernel;

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define PREVIOUS_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PREVIOUS_CLONES
#endif

template <typename Word, Word (*Swap)(Word)>
void previous_words(const std::byte* src, std::byte* dst, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    Word w;
    std::memcpy(&w, src + i * sizeof(Word), sizeof(Word));
    w = Swap(w);
    std::memcpy(dst + i * sizeof(Word), &w, sizeof(Word));
  }
}
std::uint32_t swap32(std::uint32_t w) { return __builtin_bswap32(w); }
std::uint64_t swap64(std::uint64_t w) { return __builtin_bswap64(w); }

PREVIOUS_CLONES
void previous_swap(const std::byte* src, std::byte* dst, std::size_t size, unsigned width) {
  if (width == 4) previous_words<std::uint32_t, swap32>(src, dst, size / 4);
  if (width == 8) previous_words<std::uint64_t, swap64>(src, dst, size / 8);
}

struct Variant {
  std::string name;
  void (*run)(const void* self, const std::byte* src, std::byte* dst, std::size_t size,
              unsigned width);
  ByteswapKernel kernel;
};

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Best MB/s over 5 rounds of `budget / 5` seconds each.
template <typename F>
double measure(F&& once, std::size_t bytes, double budget) {
  double best = 0;
  for (int round = 0; round < 5; ++round) {
    std::size_t reps = 0;
    const double start = seconds_now();
    double now = start;
    do {
      for (int k = 0; k < 16; ++k) once();
      reps += 16;
      now = seconds_now();
    } while (now - start < budget / 5);
    best = std::max(best, static_cast<double>(bytes) * static_cast<double>(reps) /
                              (now - start) / 1e6);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const double budget = argc > 1 ? std::atof(argv[1]) : 0.2;
  std::vector<Variant> variants;
  variants.push_back({"previous", [](const void*, const std::byte* s, std::byte* d,
                                     std::size_t n, unsigned w) { previous_swap(s, d, n, w); },
                      ByteswapKernel::scalar});
  for (ByteswapKernel k : decoflow::detail::supported_byteswap_kernels()) {
    variants.push_back({decoflow::detail::byteswap_kernel_name(k),
                        [](const void* self, const std::byte* s, std::byte* d, std::size_t n,
                           unsigned w) {
                          decoflow::detail::byteswap_with(
                              static_cast<const Variant*>(self)->kernel, s, d, n, w);
                        },
                        k});
  }
  std::printf("byteswap MB/s (best of 5 x %.2f s); selected kernel: %s\n", budget / 5,
              decoflow::detail::byteswap_kernel_name(decoflow::detail::selected_byteswap_kernel()));
  std::printf("%-8s %-5s %-8s", "mode", "width", "buffer");
  for (const auto& v : variants) std::printf(" %10s", v.name.c_str());
  std::printf("\n");
  int failures = 0;
  for (const char* mode : {"in-place", "copy"}) {
    const bool copy = std::strcmp(mode, "copy") == 0;
    for (unsigned width : {4u, 8u}) {
      for (std::size_t bytes : {std::size_t{32} << 10, std::size_t{1} << 20}) {
        std::vector<std::byte> src(bytes), dst(bytes), expected(bytes);
        for (std::size_t i = 0; i < bytes; ++i) src[i] = static_cast<std::byte>(i * 131 + 7);
        for (std::size_t e = 0; e < bytes; e += width) {
          for (unsigned b = 0; b < width; ++b) expected[e + b] = src[e + width - 1 - b];
        }
        std::printf("%-8s %-5u %-8s", mode, width, bytes >= (1u << 20) ? "1 MiB" : "32 KiB");
        for (const auto& v : variants) {
          // Check first: one pass into dst (copy), or an even number of
          // in-place passes leaves the source as it was.
          std::memset(dst.data(), 0, bytes);
          v.run(&v, src.data(), dst.data(), bytes, width);
          if (dst != expected) {
            std::printf(" %10s", "WRONG");
            ++failures;
            continue;
          }
          double mbs = copy ? measure([&] { v.run(&v, src.data(), dst.data(), bytes, width); },
                                      bytes, budget)
                            : measure([&] { v.run(&v, dst.data(), dst.data(), bytes, width); },
                                      bytes, budget);
          std::printf(" %10.0f", mbs);
        }
        std::printf("\n");
      }
    }
  }
  return failures ? 1 : 0;
}
