#pragma once

#include <cstddef>
#include <cstdint>

#if DECOFLOW_XXH3_DISPATCH
#define XXH_DISPATCH_DISABLE_REPLACE 1
#include <xxh_x86dispatch.h>
#else
#include <xxhash.h>
#endif

namespace decoflow::detail {

// XXH3-64 (seed 0) of RNTuple envelopes and pages: through libxxhash's x86
// dispatch when the linked library has it (AVX2 / AVX-512 picked at run
// time; graphs/CMakeLists.txt checks), its portable build otherwise. The
// same value either way.
inline std::uint64_t xxh3_64(const void* data, std::size_t size) noexcept {
#if DECOFLOW_XXH3_DISPATCH
  return XXH3_64bits_dispatch(data, size);
#else
  return XXH3_64bits(data, size);
#endif
}

}  // namespace decoflow::detail
