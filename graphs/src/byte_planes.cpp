#include "byte_planes.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace decoflow::detail {

namespace {

template <std::size_t W>
struct Unsigned;
template <> struct Unsigned<1> { using type = std::uint8_t; };
template <> struct Unsigned<2> { using type = std::uint16_t; };
template <> struct Unsigned<4> { using type = std::uint32_t; };
template <> struct Unsigned<8> { using type = std::uint64_t; };

template <typename U>
U unzigzag(U u) noexcept {
  return static_cast<U>((u >> 1) ^ (U{0} - (u & 1)));
}

// One element at a time: the tail of a vector loop, and the whole loop where
// there is no vector path.
template <std::size_t W, bool Zigzag>
void unsplit_scalar(const std::uint8_t* planes, std::size_t n, std::size_t from, std::size_t to,
                    std::byte* out) noexcept {
  using U = typename Unsigned<W>::type;
  for (std::size_t i = from; i < to; ++i) {
    U v = 0;
    for (std::size_t b = 0; b < W; ++b) v = static_cast<U>(v | U{planes[b * n + i]} << (8 * b));
    if constexpr (Zigzag) v = unzigzag(v);
    std::memcpy(out + (i - from) * W, &v, W);
  }
}

#if defined(__SSE2__)
// Outputs at least this large are written with non-temporal stores: a page
// un-split into its slice (fresh memory, far larger than the caches), never
// the small blocks on the stack.
constexpr std::size_t kStreamBytes = 256 * 1024;

// 16 elements a step: one 16-byte load per plane, interleaved by unpacking
// bytes, then 16-bit, then 32-bit lanes (each unpack doubles the bytes of an
// element held together), so every load and store is a whole vector.

__m128i load(const std::uint8_t* p) noexcept {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// Stream: a non-temporal store (p 16-byte aligned), for outputs far larger
// than the caches: no read of the line it overwrites, no cache filled with it.
template <bool Stream>
void store(std::byte* p, __m128i v) noexcept {
  if constexpr (Stream) {
    _mm_stream_si128(reinterpret_cast<__m128i*>(p), v);
  } else {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v);
  }
}

template <std::size_t W, bool Zigzag>
__m128i finish(__m128i v) noexcept {
  if constexpr (!Zigzag) {
    return v;
  } else if constexpr (W == 2) {
    const __m128i sign = _mm_sub_epi16(_mm_setzero_si128(), _mm_and_si128(v, _mm_set1_epi16(1)));
    return _mm_xor_si128(_mm_srli_epi16(v, 1), sign);
  } else if constexpr (W == 4) {
    const __m128i sign = _mm_sub_epi32(_mm_setzero_si128(), _mm_and_si128(v, _mm_set1_epi32(1)));
    return _mm_xor_si128(_mm_srli_epi32(v, 1), sign);
  } else {
    const __m128i sign = _mm_sub_epi64(_mm_setzero_si128(), _mm_and_si128(v, _mm_set1_epi64x(1)));
    return _mm_xor_si128(_mm_srli_epi64(v, 1), sign);
  }
}

// Elements i..i+15 into out (16 × W bytes).
template <std::size_t W, bool Zigzag, bool Stream>
void unsplit_step(const std::uint8_t* p, std::size_t n, std::size_t i, std::byte* out) noexcept {
  const __m128i b0 = load(p + i), b1 = load(p + n + i);
  if constexpr (W == 2) {
    store<Stream>(out, finish<2, Zigzag>(_mm_unpacklo_epi8(b0, b1)));
    store<Stream>(out + 16, finish<2, Zigzag>(_mm_unpackhi_epi8(b0, b1)));
  } else if constexpr (W == 4) {
    const __m128i b2 = load(p + 2 * n + i), b3 = load(p + 3 * n + i);
    // Bytes 0-1 and 2-3 of elements 0-7 and 8-15.
    const __m128i lo01 = _mm_unpacklo_epi8(b0, b1), hi01 = _mm_unpackhi_epi8(b0, b1);
    const __m128i lo23 = _mm_unpacklo_epi8(b2, b3), hi23 = _mm_unpackhi_epi8(b2, b3);
    store<Stream>(out, finish<4, Zigzag>(_mm_unpacklo_epi16(lo01, lo23)));
    store<Stream>(out + 16, finish<4, Zigzag>(_mm_unpackhi_epi16(lo01, lo23)));
    store<Stream>(out + 32, finish<4, Zigzag>(_mm_unpacklo_epi16(hi01, hi23)));
    store<Stream>(out + 48, finish<4, Zigzag>(_mm_unpackhi_epi16(hi01, hi23)));
  } else {
    __m128i b[8] = {b0, b1};
    for (std::size_t k = 2; k < 8; ++k) b[k] = load(p + k * n + i);
    // Pairs of bytes: [k] holds bytes 2k, 2k+1 of elements 0-7, [4 + k] of 8-15.
    __m128i pairs[8];
    for (std::size_t k = 0; k < 4; ++k) {
      pairs[k] = _mm_unpacklo_epi8(b[2 * k], b[2 * k + 1]);
      pairs[4 + k] = _mm_unpackhi_epi8(b[2 * k], b[2 * k + 1]);
    }
    // Quads: bytes 0-3 and 4-7 of elements 4h..4h+3, h = 0..3.
    for (std::size_t h = 0; h < 4; ++h) {
      const __m128i* q = pairs + (h / 2) * 4;  // elements 0-7 or 8-15
      const bool upper = h % 2 == 1;
      const __m128i low = upper ? _mm_unpackhi_epi16(q[0], q[1]) : _mm_unpacklo_epi16(q[0], q[1]);
      const __m128i high = upper ? _mm_unpackhi_epi16(q[2], q[3]) : _mm_unpacklo_epi16(q[2], q[3]);
      store<Stream>(out + 32 * h, finish<8, Zigzag>(_mm_unpacklo_epi32(low, high)));
      store<Stream>(out + 32 * h + 16, finish<8, Zigzag>(_mm_unpackhi_epi32(low, high)));
    }
  }
}
#endif

template <std::size_t W, bool Zigzag>
void unsplit(const std::uint8_t* planes, std::size_t n, std::size_t begin, std::size_t count,
             std::byte* out) noexcept {
  std::size_t i = begin;
  const std::size_t end = begin + count;
#if defined(__SSE2__)
  if constexpr (W > 1) {
    const auto address = reinterpret_cast<std::uintptr_t>(out);
    if (count * W >= kStreamBytes && address % W == 0) {
      // Whole elements up to a 16-byte boundary, then streamed.
      const std::size_t lead = std::min(count, (16 - address % 16) % 16 / W);
      unsplit_scalar<W, Zigzag>(planes, n, i, i + lead, out);
      for (i += lead; i + 16 <= end; i += 16) {
        unsplit_step<W, Zigzag, true>(planes, n, i, out + (i - begin) * W);
      }
      _mm_sfence();  // streamed stores ordered before whatever follows
    } else {
      for (; i + 16 <= end; i += 16) {
        unsplit_step<W, Zigzag, false>(planes, n, i, out + (i - begin) * W);
      }
    }
  }
#endif
  unsplit_scalar<W, Zigzag>(planes, n, i, end, out + (i - begin) * W);
}

template <std::size_t W>
void native(const std::byte* in, std::size_t n, std::size_t begin, std::size_t count, bool split,
            bool zigzag, std::byte* out) noexcept {
  using U = typename Unsigned<W>::type;
  if (split || W == 1) {
    // One byte plane is the elements themselves.
    const auto* planes = reinterpret_cast<const std::uint8_t*>(in);
    if (zigzag) {
      unsplit<W, true>(planes, n, begin, count, out);
    } else {
      unsplit<W, false>(planes, n, begin, count, out);
    }
    return;
  }
  std::memcpy(out, in + begin * W, count * W);
  if (!zigzag) return;
  for (std::size_t i = 0; i < count; ++i) {
    U v;
    std::memcpy(&v, out + i * W, W);
    v = unzigzag(v);
    std::memcpy(out + i * W, &v, W);
  }
}

}  // namespace

void native_elements(unsigned width, const std::byte* in, std::size_t n, std::size_t begin,
                     std::size_t count, bool split, bool zigzag, std::byte* out) noexcept {
  switch (width) {
    case 1: return native<1>(in, n, begin, count, split, zigzag, out);
    case 2: return native<2>(in, n, begin, count, split, zigzag, out);
    case 4: return native<4>(in, n, begin, count, split, zigzag, out);
    default: return native<8>(in, n, begin, count, split, zigzag, out);
  }
}

}  // namespace decoflow::detail
