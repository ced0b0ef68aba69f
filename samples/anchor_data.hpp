// anchor_data.hpp: the anchors' physics-like test data, byte for byte as
// ../shared/anchors/native_roofline.cpp makes it, so that figures measured here
// compare with the anchor's on the same bytes. Used by samples and benchmarks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace decoflow::samples {

/// `total` bytes of (int32 count, float32 momentum) pairs, big-endian: counts
/// exponential (rate 0.3), momenta Gaussian (30, 10) with the 12 low mantissa
/// bits dropped, as lossy physics floats often are. Same seed as the anchor.
inline std::vector<std::byte> anchor_physics_data(std::size_t total) {
  std::vector<std::byte> src(total);
  std::mt19937 rng(1);
  std::exponential_distribution<float> counts(0.3f);
  std::normal_distribution<float> momenta(30.f, 10.f);
  for (std::size_t i = 0; i + 8 <= total; i += 8) {
    const std::uint32_t count = __builtin_bswap32(static_cast<std::uint32_t>(counts(rng)));
    const float momentum = momenta(rng);
    std::uint32_t bits = 0;
    std::memcpy(&bits, &momentum, 4);
    bits = __builtin_bswap32(bits & 0xFFFFF000u);
    std::memcpy(&src[i], &count, 4);
    std::memcpy(&src[i + 4], &bits, 4);
  }
  return src;
}

}  // namespace decoflow::samples
