// splitmix64.hpp: the small deterministic generator behind decoflow's
// generated data (samples, tests, fuzz seeds). The same numbers on every
// platform and standard library, which std's distributions do not promise.
#pragma once

#include <cstdint>

namespace decoflow::samples {

/// Sebastiano Vigna's splitmix64: 64 bits per call, any seed is a good one.
struct SplitMix64 {
  std::uint64_t state;

  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  /// Uniform in the open interval (0, 1): safe under log().
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
};

}  // namespace decoflow::samples
