// decoflow-gen-physics: writes physics-like big-endian test data, the shape of
// ../shared/anchors/native_roofline.cpp's: (int32 count, float32 momentum)
// pairs, counts exponential (mean ~3), momenta Gaussian around 30 GeV with the
// 12 low mantissa bits dropped, as lossy physics floats often are.
//
//   splitmix64 ──► (count, momentum) ──► big-endian ──► OUTPUT, 1 MiB at a time
//
// Deterministic for a seed (no std distributions: those differ between
// standard libraries). Usage: decoflow-gen-physics MIB OUTPUT [SEED]
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "splitmix64.hpp"

namespace {

using Rng = decoflow::samples::SplitMix64;

void put_be32(unsigned char* out, std::uint32_t value) {
  out[0] = static_cast<unsigned char>(value >> 24);
  out[1] = static_cast<unsigned char>(value >> 16);
  out[2] = static_cast<unsigned char>(value >> 8);
  out[3] = static_cast<unsigned char>(value);
}

}  // namespace

int main(int argc, char** argv) {
  const char* usage =
      "usage: decoflow-gen-physics MIB OUTPUT [SEED]\n"
      "writes MIB MiB of big-endian (int32 count, float32 momentum) pairs to OUTPUT ('-': stdout)\n";
  if (argc == 2 && std::strcmp(argv[1], "--help") == 0) {
    std::fputs(usage, stdout);
    return 0;
  }
  if (argc < 3 || argc > 4) {
    std::fputs(usage, stderr);
    return 2;
  }
  char* end = nullptr;
  const unsigned long mib = std::strtoul(argv[1], &end, 10);
  if (*end != '\0' || mib == 0 || mib > (1UL << 20)) {
    std::fprintf(stderr, "decoflow-gen-physics: MIB must be a number from 1 to 1048576\n");
    return 2;
  }
  const std::uint64_t seed = argc == 4 ? std::strtoull(argv[3], nullptr, 10) : 1;
  std::FILE* out = std::strcmp(argv[2], "-") == 0 ? stdout : std::fopen(argv[2], "wb");
  if (out == nullptr) {
    std::fprintf(stderr, "decoflow-gen-physics: cannot create '%s': %s\n", argv[2], std::strerror(errno));
    return 1;
  }
  Rng rng{seed};
  std::vector<unsigned char> block(1 << 20);
  for (unsigned long b = 0; b < mib; ++b) {
    for (std::size_t i = 0; i < block.size(); i += 8) {
      const auto count = static_cast<std::uint32_t>(-std::log(rng.uniform()) / 0.3);
      // Box-Muller: one Gaussian per pair of uniforms (the second is not worth the state).
      const double gauss = std::sqrt(-2.0 * std::log(rng.uniform())) * std::cos(6.283185307179586 * rng.uniform());
      const auto momentum = static_cast<float>(30.0 + 10.0 * gauss);
      std::uint32_t bits = 0;
      std::memcpy(&bits, &momentum, sizeof bits);
      put_be32(&block[i], count);
      put_be32(&block[i + 4], bits & 0xFFFFF000U);
    }
    if (std::fwrite(block.data(), 1, block.size(), out) != block.size()) {
      std::fprintf(stderr, "decoflow-gen-physics: cannot write '%s': %s\n", argv[2], std::strerror(errno));
      return 1;
    }
  }
  if (out != stdout ? std::fclose(out) != 0 : std::fflush(out) != 0) {
    std::fprintf(stderr, "decoflow-gen-physics: cannot write '%s': %s\n", argv[2], std::strerror(errno));
    return 1;
  }
  return 0;
}
