#include "rntuple_page.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <optional>
#include <string>

#include "byte_planes.hpp"
#include "xxh3.hpp"

namespace decoflow::detail {

// RNTuple pages are little-endian; decoding them as native values assumes a
// little-endian machine (every platform decoflow builds for).
static_assert(std::endian::native == std::endian::little,
              "RNTuple page decoding assumes a little-endian machine");

namespace {

Error corrupt(std::string what) { return Error(ErrorCode::corrupt_input, std::move(what)); }

std::string hex64(std::uint64_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 60; shift >= 0; shift -= 4) s += digits[(v >> shift) & 0xF];
  return s;
}

template <typename T>
T load(const std::byte* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <typename T>
void store(std::byte* p, T v) noexcept {
  std::memcpy(p, &v, sizeof v);
}

// Split, zigzag or widened pages are made native a block at a time through
// a buffer on the stack (cache-resident) rather than a second page-sized one.
constexpr std::size_t kBlockElements = 512;

// Calls consume(elements, first, count) for consecutive blocks of the page's
// n elements as native elements (`in` itself when nothing needs undoing).
template <typename Consume>
void native_blocks(unsigned width, const std::byte* in, std::size_t n, bool split, bool zigzag,
                   Consume&& consume) {
  if (!split && !zigzag) {
    consume(in, std::size_t{0}, n);
    return;
  }
  alignas(16) std::byte block[kBlockElements * 8];
  for (std::size_t first = 0; first < n; first += kBlockElements) {
    const std::size_t count = std::min(kBlockElements, n - first);
    native_elements(width, in, n, first, count, split, zigzag, block);
    consume(static_cast<const std::byte*>(block), first, count);
  }
}

float half_to_float(std::uint16_t h) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1Fu;
  std::uint32_t mantissa = h & 0x3FFu;
  if (exponent == 0x1F) return std::bit_cast<float>(sign | 0x7F800000u | mantissa << 13);
  if (exponent != 0) return std::bit_cast<float>(sign | (exponent + 112) << 23 | mantissa << 13);
  if (mantissa == 0) return std::bit_cast<float>(sign);
  // Subnormal half: normalise it.
  std::uint32_t e = 113;
  while ((mantissa & 0x400u) == 0) {
    mantissa <<= 1;
    --e;
  }
  return std::bit_cast<float>(sign | e << 23 | (mantissa & 0x3FFu) << 13);
}

template <typename S, typename V>
void widen_as(const std::byte* in, std::size_t n, std::byte* out) {
  for (std::size_t i = 0; i < n; ++i) store(out + i * sizeof(V), static_cast<V>(load<S>(in + i * sizeof(S))));
}

template <typename V>
void widen_half(const std::byte* in, std::size_t n, std::byte* out) {
  for (std::size_t i = 0; i < n; ++i) {
    store(out + i * sizeof(V), static_cast<V>(half_to_float(load<std::uint16_t>(in + 2 * i))));
  }
}

// Native elements of `from` as values of `to` (the wider type of a field's
// representations, as uproot makes them). Same types: a copy.
void widen(RootType from, RootType to, const std::byte* in, std::size_t n, std::byte* out) {
  using T = RootType;
  if (from == to) {
    std::memcpy(out, in, n * root_type_width(from));
    return;
  }
  const auto bad = [&] {
    return Error(ErrorCode::unsupported_format, "a " + std::string(to_string(from)) +
                                                    " column read as " + std::string(to_string(to)));
  };
#define DECOFLOW_WIDEN_INT(S, s_enum)                                          \
  case s_enum:                                                                 \
    switch (to) {                                                              \
      case T::int16: return widen_as<S, std::int16_t>(in, n, out);             \
      case T::uint16: return widen_as<S, std::uint16_t>(in, n, out);           \
      case T::int32: return widen_as<S, std::int32_t>(in, n, out);             \
      case T::uint32: return widen_as<S, std::uint32_t>(in, n, out);           \
      case T::int64: return widen_as<S, std::int64_t>(in, n, out);             \
      case T::uint64: return widen_as<S, std::uint64_t>(in, n, out);           \
      case T::float64: return widen_as<S, double>(in, n, out);                 \
      default: throw bad();                                                    \
    }
  switch (from) {
    DECOFLOW_WIDEN_INT(std::int8_t, T::int8)
    DECOFLOW_WIDEN_INT(std::uint8_t, T::uint8)
    DECOFLOW_WIDEN_INT(std::int16_t, T::int16)
    DECOFLOW_WIDEN_INT(std::uint16_t, T::uint16)
    DECOFLOW_WIDEN_INT(std::int32_t, T::int32)
    DECOFLOW_WIDEN_INT(std::uint32_t, T::uint32)
    case T::float16:
      if (to == T::float32) return widen_half<float>(in, n, out);
      if (to == T::float64) return widen_half<double>(in, n, out);
      throw bad();
    case T::float32:
      if (to == T::float64) return widen_as<float, double>(in, n, out);
      throw bad();
    default: throw bad();
  }
#undef DECOFLOW_WIDEN_INT
}

// `nbits` bits of element i of a little-endian bit stream (bits packed
// least significant first) of `size` bytes.
std::uint32_t packed_bits(const std::byte* in, std::size_t size, std::uint64_t i, unsigned nbits) {
  const std::uint64_t bit = i * nbits;
  const std::size_t byte = static_cast<std::size_t>(bit / 8);
  std::uint64_t word = 0;
  const std::size_t have = std::min<std::size_t>(8, size - byte);
  std::memcpy(&word, in + byte, have);
  return static_cast<std::uint32_t>((word >> (bit % 8)) & ((std::uint64_t{1} << nbits) - 1));
}

template <typename V>
void real32_packed(const ColumnChunk& c, const std::byte* in, std::size_t size, std::size_t n,
                   std::byte* out) {
  const unsigned nbits = c.nbits;
  if (c.coding == ElementCoding::le_real32_trunc) {
    for (std::size_t i = 0; i < n; ++i) {
      const float v = std::bit_cast<float>(packed_bits(in, size, i, nbits) << (32 - nbits));
      store(out + i * sizeof(V), static_cast<V>(v));
    }
    return;
  }
  // As uproot: low + q × (high - low) / (2^nbits - 1), in double.
  const double span = c.high - c.low;
  const double steps = static_cast<double>((std::uint64_t{1} << nbits) - 1);
  for (std::size_t i = 0; i < n; ++i) {
    const double q = static_cast<double>(packed_bits(in, size, i, nbits));
    store(out + i * sizeof(V), static_cast<V>(c.low + q * span / steps));
  }
}

// Elements [first, first + count) of an index page (`in`: native elements;
// split pages were delta-encoded, `running` is the sum so far): cluster-
// relative ends made global by value_base, each checked to follow the one
// before and to stay within the cluster's elements. Returns the running end.
template <typename U>
std::uint64_t index_into(const ColumnChunk& c, const std::byte* in, std::size_t first,
                         std::size_t count, std::uint64_t running, std::int64_t* out) {
  const std::uint64_t limit = c.value_limit;
  for (std::size_t k = 0; k < count; ++k) {
    const std::uint64_t previous = running;
    const std::uint64_t raw = load<U>(in + k * sizeof(U));
    // Deltas of a split page may be "negative" in U: the sum wraps as ROOT's does.
    running = c.split ? static_cast<std::uint64_t>(static_cast<U>(running + raw)) : raw;
    if (running < previous || running > limit) [[unlikely]] {
      const std::size_t i = first + k;
      throw corrupt("index element " + std::to_string(c.entry_begin + i) + " (page element " +
                    std::to_string(i) + ") is " +
                    std::to_string(static_cast<std::int64_t>(running)) + ": " +
                    (running < previous ? "the offsets go backwards (the one before is " +
                                              std::to_string(previous) + ")"
                                        : "beyond the cluster's " + std::to_string(limit) +
                                              " collection elements"));
    }
    out[first + k] = c.value_base + static_cast<std::int64_t>(running);
  }
  return running;
}

// Decompresses (or copies, when stored raw) a page into exactly `out`.
void decompress(Decoder& decoder, ConstBytes page, MutableBytes out, BlockChecksums checksums) {
  if (page.size() == out.size()) {
    if (!out.empty()) std::memcpy(out.data(), page.data(), out.size());
    return;
  }
  const std::size_t written = decoder.root_blocks_into(page, out, checksums);
  if (written != out.size()) {
    throw Error(ErrorCode::size_mismatch, "the page decodes to " + std::to_string(written) +
                                              " bytes, its element count says " +
                                              std::to_string(out.size()));
  }
}

}  // namespace

std::optional<std::uint64_t> root_blocks_decoded_size(ConstBytes stored) noexcept {
  // Each block: 3 bytes naming the codec, 3 little-endian bytes of payload,
  // 3 of decoded size, then the payload.
  const auto le24 = [&](std::size_t at) {
    return std::to_integer<std::uint64_t>(stored[at]) | std::to_integer<std::uint64_t>(stored[at + 1]) << 8 |
           std::to_integer<std::uint64_t>(stored[at + 2]) << 16;
  };
  std::uint64_t total = 0;
  std::size_t at = 0;
  while (at < stored.size()) {
    if (stored.size() - at < 9) return std::nullopt;
    const std::uint64_t payload = le24(at + 3);
    total += le24(at + 6);
    if (payload > stored.size() - at - 9) return std::nullopt;
    at += 9 + static_cast<std::size_t>(payload);
  }
  return total;
}

std::uint64_t rntuple_page_bytes(const ColumnChunk& c, std::uint64_t elements) noexcept {
  switch (c.coding) {
    case ElementCoding::le_bits: return (elements + 7) / 8;
    case ElementCoding::le_real32_trunc:
    case ElementCoding::le_real32_quant: return (elements * c.nbits + 7) / 8;
    case ElementCoding::le_switch: return elements * 12;
    default: return elements * root_type_width(c.stored_type);
  }
}

void decode_rntuple_page(const ColumnChunk& c, ConstBytes stored, MutableBytes content,
                         Decoder& decoder, ScratchPool& scratch) {
  const auto n = static_cast<std::size_t>(c.entries);
  if (content.size() != n * c.width) {
    throw Error(ErrorCode::internal, "a page of " + std::to_string(n) + " elements given a " +
                                         std::to_string(content.size()) + "-byte slice");
  }
  if (c.framing == ChunkFraming::rntuple_zeros) {
    if (c.coding == ElementCoding::le_index) {
      auto* out = reinterpret_cast<std::int64_t*>(content.data());
      for (std::size_t i = 0; i < n; ++i) out[i] = c.value_base;
    } else if (!content.empty()) {
      std::memset(content.data(), 0, content.size());
    }
    return;
  }
  ConstBytes page = stored;
  if (c.page_checksum) {
    if (stored.size() < 8) throw corrupt("a page with a checksum of " + std::to_string(stored.size()) + " bytes");
    page = stored.first(stored.size() - 8);
    const std::uint64_t want = load<std::uint64_t>(stored.data() + page.size());
    const std::uint64_t got = xxh3_64(page.data(), page.size());
    if (want != got) {
      throw Error(ErrorCode::checksum_mismatch, "page xxHash3 " + hex64(got) + ", stored " + hex64(want));
    }
  }
  // A page whose xxHash3 matched had every byte checked, its lz4 blocks'
  // XXH64s included: those are not hashed again.
  const BlockChecksums checksums = c.page_checksum ? BlockChecksums::covered : BlockChecksums::verify;
  const auto packed = static_cast<std::size_t>(rntuple_page_bytes(c, n));
  if (page.size() != packed) {
    // Compressed: its blocks must say they hold the page's elements before
    // scratch is taken for them (an element count that lies is caught here).
    const auto decoded = root_blocks_decoded_size(page);
    if (decoded && *decoded != packed) {
      throw Error(ErrorCode::size_mismatch,
                  "the page's compression blocks hold " + std::to_string(*decoded) + " bytes, its " +
                      std::to_string(n) + " elements " + std::to_string(packed));
    }
  }
  if (c.coding == ElementCoding::le_values && !c.split && !c.zigzag &&
      c.stored_type == c.value_type) {
    decompress(decoder, page, content, checksums);  // already the values
    return;
  }
  if (c.coding == ElementCoding::le_index && !c.split && c.stored_type == RootType::uint64) {
    // Index64: 8-byte ends, decompressed into the slice and made global in
    // place (each element is read before it is written).
    decompress(decoder, page, content, checksums);
    auto* ends = reinterpret_cast<std::int64_t*>(content.data());
    index_into<std::uint64_t>(c, content.data(), 0, n, 0, ends);
    return;
  }
  // A page stored raw is decoded from the file's bytes; a compressed one is
  // decompressed into scratch first.
  std::optional<ScratchPool::Lease> lease;
  ConstBytes bytes = page;
  if (page.size() != packed) {
    lease.emplace(scratch, packed);
    decompress(decoder, page, lease->bytes(), checksums);
    bytes = lease->bytes();
  }
  std::byte* out = content.data();
  switch (c.coding) {
    case ElementCoding::le_values: {
      const unsigned w = root_type_width(c.stored_type);
      if (c.stored_type == c.value_type) {
        native_elements(w, bytes.data(), n, 0, n, c.split, c.zigzag, out);  // straight into the slice
        return;
      }
      const unsigned out_width = root_type_width(c.value_type);
      native_blocks(w, bytes.data(), n, c.split, c.zigzag,
                    [&](const std::byte* elements, std::size_t first, std::size_t count) {
                      widen(c.stored_type, c.value_type, elements, count, out + first * out_width);
                    });
      return;
    }
    case ElementCoding::le_index: {
      auto* ends = reinterpret_cast<std::int64_t*>(out);
      const unsigned w = root_type_width(c.stored_type);
      std::uint64_t running = 0;
      native_blocks(w, bytes.data(), n, c.split, false,
                    [&](const std::byte* elements, std::size_t first, std::size_t count) {
                      running = w == 4 ? index_into<std::uint32_t>(c, elements, first, count, running, ends)
                                       : index_into<std::uint64_t>(c, elements, first, count, running, ends);
                    });
      return;
    }
    case ElementCoding::le_switch: {
      auto* values = reinterpret_cast<std::int64_t*>(out);
      for (std::size_t i = 0; i < n; ++i) {
        const auto index = load<std::uint64_t>(bytes.data() + 12 * i);
        const auto tag = load<std::uint32_t>(bytes.data() + 12 * i + 8);
        if (tag == 0) {
          values[i] = 0;
          continue;
        }
        if (tag > c.tag_count || index >= static_cast<std::uint64_t>(c.tag_bases[2 * (tag - 1) + 1])) {
          throw corrupt("switch element " + std::to_string(c.entry_begin + i) + ": tag " + std::to_string(tag) +
                        " index " + std::to_string(index) + " (" + std::to_string(c.tag_count) +
                        " alternatives" +
                        (tag <= c.tag_count ? ", " + std::to_string(c.tag_bases[2 * (tag - 1) + 1]) +
                                                  " elements of it in the cluster)"
                                            : ")"));
        }
        values[i] = static_cast<std::int64_t>((static_cast<std::uint64_t>(c.tag_bases[2 * (tag - 1)]) + index) << 8 | tag);
      }
      return;
    }
    case ElementCoding::le_bits:
      for (std::size_t i = 0; i < n; ++i) {
        out[i] = static_cast<std::byte>((std::to_integer<unsigned>(bytes[i / 8]) >> (i % 8)) & 1u);
      }
      return;
    case ElementCoding::le_real32_trunc:
    case ElementCoding::le_real32_quant:
      if (c.width == 8) {
        real32_packed<double>(c, bytes.data(), bytes.size(), n, out);
      } else {
        real32_packed<float>(c, bytes.data(), bytes.size(), n, out);
      }
      return;
    default:
      throw Error(ErrorCode::internal, "an RNTuple page with coding " + std::string(to_string(c.coding)));
  }
}

}  // namespace decoflow::detail
