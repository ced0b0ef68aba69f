// Byteswap: every kernel this CPU runs (scalar, SSSE3, AVX2, AVX-512BW), in
// place and copying, against a byte-reversal reference, for every width,
// every length 0..200 elements' worth of bytes, and misaligned pointers; the
// bytes around the destination stay untouched.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "catch.hpp"
#include "decoflow/byteswap.hpp"
#include "decoflow/detail/byteswap_kernels.hpp"
#include "decoflow/error.hpp"

using namespace decoflow;
using decoflow::detail::ByteswapKernel;

namespace {

// Reference: reverse each element's bytes one byte at a time.
std::vector<std::byte> reversed(const std::byte* src, std::size_t size, unsigned width) {
  std::vector<std::byte> out(size);
  for (std::size_t e = 0; e + width <= size; e += width) {
    for (unsigned b = 0; b < width; ++b) out[e + b] = src[e + width - 1 - b];
  }
  return out;
}

std::vector<std::byte> pattern(std::size_t size, std::uint32_t seed) {
  std::vector<std::byte> out(size);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::byte>(x & 0xff);
  }
  return out;
}

constexpr std::size_t guard = 72;  // poisoned bytes either side: more than a vector
constexpr std::byte poison{0xa5};

}  // namespace

TEST_CASE("every byteswap kernel equals the reference: widths, lengths 0..200, misalignments") {
  const auto kernels = detail::supported_byteswap_kernels();
  REQUIRE(!kernels.empty());
  REQUIRE(kernels.front() == ByteswapKernel::scalar);
  REQUIRE(kernels.back() == detail::selected_byteswap_kernel());
  for (ByteswapKernel kernel : kernels) {
    INFO("kernel " << detail::byteswap_kernel_name(kernel));
    for (unsigned width : {2u, 4u, 8u}) {
      for (std::size_t bytes = 0; bytes <= 200; bytes += width) {
        for (std::size_t src_shift = 0; src_shift < 8; ++src_shift) {
          for (std::size_t dst_shift : {std::size_t{0}, std::size_t{1}, std::size_t{3},
                                        std::size_t{5}}) {
            INFO("width " << width << ", " << bytes << " bytes, src +" << src_shift << ", dst +"
                          << dst_shift);
            auto src_buf = pattern(bytes + 2 * guard, static_cast<std::uint32_t>(bytes + src_shift));
            const std::byte* src = src_buf.data() + guard + src_shift;
            const auto expected = reversed(src, bytes, width);

            // Copy: dst elsewhere, with poison around it.
            std::vector<std::byte> dst_buf(bytes + 2 * guard, poison);
            std::byte* dst = dst_buf.data() + guard + dst_shift;
            detail::byteswap_with(kernel, src, dst, bytes, width);
            REQUIRE(std::equal(dst, dst + bytes, expected.begin()));
            for (std::size_t i = 0; i < dst_buf.size(); ++i) {
              if (i < guard + dst_shift || i >= guard + dst_shift + bytes) {
                REQUIRE(dst_buf[i] == poison);
              }
            }

            // In place, at the same misalignment.
            std::vector<std::byte> inplace_buf(bytes + 2 * guard, poison);
            std::byte* at = inplace_buf.data() + guard + src_shift;
            if (bytes) std::memcpy(at, src, bytes);
            detail::byteswap_with(kernel, at, at, bytes, width);
            REQUIRE(std::equal(at, at + bytes, expected.begin()));
            for (std::size_t i = 0; i < inplace_buf.size(); ++i) {
              if (i < guard + src_shift || i >= guard + src_shift + bytes) {
                REQUIRE(inplace_buf[i] == poison);
              }
            }
          }
        }
      }
    }
  }
}

TEST_CASE("every byteswap kernel handles long buffers (every loop and tail of the vector paths)") {
  for (ByteswapKernel kernel : detail::supported_byteswap_kernels()) {
    INFO("kernel " << detail::byteswap_kernel_name(kernel));
    for (unsigned width : {2u, 4u, 8u}) {
      for (std::size_t bytes : {std::size_t{4096}, std::size_t{4096 + 8}, std::size_t{65536 - 8},
                                std::size_t{1 << 20}}) {
        auto src = pattern(bytes + 1, static_cast<std::uint32_t>(bytes));
        const auto expected = reversed(src.data() + 1, bytes, width);
        std::vector<std::byte> dst(bytes);
        detail::byteswap_with(kernel, src.data() + 1, dst.data(), bytes, width);
        REQUIRE(dst == expected);
        detail::byteswap_with(kernel, src.data() + 1, src.data() + 1, bytes, width);
        REQUIRE(std::memcmp(src.data() + 1, expected.data(), bytes) == 0);
      }
    }
  }
}

TEST_CASE("byteswap_in_place and byteswap_copy: the selected kernel, and their checks") {
  auto src = pattern(8 * 37 + 3, 7);
  for (unsigned width : {1u, 2u, 4u, 8u}) {
    const std::size_t bytes = 8 * 37;
    const auto expected = width == 1 ? std::vector<std::byte>(src.begin() + 3, src.begin() + 3 + bytes)
                                     : reversed(src.data() + 3, bytes, width);
    std::vector<std::byte> dst(bytes, poison);
    byteswap_copy(ConstBytes(src.data() + 3, bytes), dst, width);
    REQUIRE(dst == expected);
    std::vector<std::byte> inplace(src.begin() + 3, src.begin() + 3 + bytes);
    byteswap_in_place(inplace, width);
    REQUIRE(inplace == expected);
  }
  std::vector<std::byte> odd(6);
  REQUIRE_THROWS_AS(byteswap_in_place(odd, 4), Error);
  REQUIRE_THROWS_AS(byteswap_in_place(odd, 3), Error);
  std::vector<std::byte> shorter(4);
  REQUIRE_THROWS_AS(byteswap_copy(ConstBytes(odd.data(), 4), MutableBytes(shorter.data(), 2), 2),
                    Error);
}
