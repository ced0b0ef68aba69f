#include "decoflow/column_chunk.hpp"

#include <array>
#include <string>
#include <utility>

#include "decoflow/byteswap.hpp"

namespace decoflow {

namespace {

constexpr std::array<std::string_view, 11> kTypeNames = {
    "bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
    "float32", "float64"};
constexpr std::array<unsigned, 11> kTypeWidths = {1, 1, 1, 2, 2, 4, 4, 8, 8, 4, 8};
// Python's struct / buffer-protocol letters (standard sizes on every platform
// NumPy supports: "l" would be 4 bytes on Windows, "q" is 8 everywhere).
constexpr std::array<std::string_view, 11> kTypeFormats = {
    "?", "b", "B", "h", "H", "i", "I", "q", "Q", "f", "d"};
constexpr std::array<std::string_view, 3> kLayoutNames = {"fixed", "jagged", "strings"};

// TKey: fNbytes i32, fVersion i16, fObjlen i32, fDatime u32, fKeylen i16,
// fCycle i16, then two seeks (32- or 64-bit), class name, name and title.
// The TBasket header ends the key: fVersion u16, fBufferSize i32, fNevBufSize
// i32, fNevBuf i32, fLast i32, a flag byte (uproot's TBasket.py reads it at
// fKeylen - 19 the same way, skipping the strings).
constexpr std::size_t kKeyFixed = 18;
constexpr std::size_t kBasketHeader = 19;

std::int32_t be32s(const std::byte* p) { return static_cast<std::int32_t>(load_be<4>(p)); }
std::int16_t be16s(const std::byte* p) { return static_cast<std::int16_t>(load_be<2>(p)); }

Error corrupt(std::string what) { return Error(ErrorCode::corrupt_input, std::move(what)); }

// The trailer is [count, start_0 + fKeylen, ..., start_{n-1} + fKeylen, x]
// (big-endian int32; ROOT writes count = n and x = 0, uproot count = n + 1
// and x = fLast), as uproot's TBasket.py reads it. Entry j ends where entry
// j + 1 starts, the last one at the border; the chunk writes the global
// offsets of its entries' ends, offsets[entry_slot + 1 .. entry_slot + n], so
// chunks never write the same element (offsets[0] = 0 is written when
// planning).
void write_offsets(const ColumnChunk& chunk, ConstBytes trailer, std::uint64_t keylen,
                   std::int64_t* offsets) {
  const std::uint64_t n = chunk.entries;
  if (trailer.size() < 4 * (n + 1)) {
    throw corrupt("entry-offsets trailer of " + std::to_string(trailer.size()) + " bytes for " +
                  std::to_string(n) + " entries");
  }
  const auto count = load_be<4>(trailer.data());
  if (count != n && count != n + 1) {
    throw corrupt("entry-offsets trailer counts " + std::to_string(count) + " offsets for " +
                  std::to_string(n) + " entries");
  }
  const std::uint64_t width = chunk.width;
  const std::uint64_t border = chunk.content_bytes;
  std::int64_t* out = offsets + chunk.entry_slot + 1;
  const std::byte* starts = trailer.data() + 4;
  std::uint64_t previous = 0;
  for (std::uint64_t j = 0; j < n; ++j) {
    const std::uint64_t start = load_be<4>(starts + 4 * j) - keylen;
    const std::uint64_t end = j + 1 < n ? load_be<4>(starts + 4 * (j + 1)) - keylen : border;
    // Unsigned wrap-around makes an offset below fKeylen fail here too.
    if (start != previous || end < start || end > border || end % width != 0) {
      throw corrupt("entry " + std::to_string(chunk.entry_begin + j) + " spans content bytes [" +
                    std::to_string(static_cast<std::int64_t>(start)) + ", " +
                    std::to_string(static_cast<std::int64_t>(end)) + ") of " +
                    std::to_string(border) + " (element width " + std::to_string(width) + ")");
    }
    out[j] = static_cast<std::int64_t>(chunk.content_item + end / width);
    previous = end;
  }
}

// Each entry of a strings chunk holds its length (one byte, or 255 then four
// big-endian bytes) and exactly that many bytes: checked against the extent
// the offsets give it, and the start of its bytes written beside its offsets.
void check_strings(const ColumnChunk& chunk, ConstBytes content, const ColumnTargets& targets) {
  const std::int64_t base = static_cast<std::int64_t>(chunk.content_item);
  const std::int64_t* ends = targets.offsets + chunk.entry_slot + 1;
  std::int64_t* starts = targets.starts + chunk.entry_slot;
  std::uint64_t head = 0;  // the entry's first byte, in the chunk's content
  for (std::uint64_t j = 0; j < chunk.entries; ++j) {
    const auto end = static_cast<std::uint64_t>(ends[j] - base);
    const auto bad = [&](const std::string& what) {
      return corrupt("string at entry " + std::to_string(chunk.entry_begin + j) + ": " + what);
    };
    if (end <= head) throw bad("no length byte");
    std::uint64_t length = std::to_integer<std::uint64_t>(content[head]);
    std::uint64_t start = head + 1;
    if (length == 255) {
      if (head + 5 > end) throw bad("a long string's length cut short");
      length = load_be<4>(content.data() + head + 1);
      start = head + 5;
    }
    if (start + length != end) {
      throw bad("its length bytes say " + std::to_string(length) + " bytes, its extent is " +
                std::to_string(end - start));
    }
    starts[j] = base + static_cast<std::int64_t>(start);
    head = end;
  }
}

std::size_t decode_payload(Decoder& decoder, ConstBytes payload, MutableBytes out,
                           std::size_t objlen) {
  const std::size_t written = decoder.root_blocks_into(payload, out);
  if (written != objlen) {
    throw Error(ErrorCode::size_mismatch, "decoded " + std::to_string(written) +
                                              " bytes, fObjlen says " + std::to_string(objlen));
  }
  return written;
}

}  // namespace

// ------------------------------------------------------------------ types

std::string_view to_string(RootType type) noexcept {
  const auto i = static_cast<std::size_t>(type);
  return i < kTypeNames.size() ? kTypeNames[i] : "unknown";
}

std::optional<RootType> root_type_from_string(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == name) return static_cast<RootType>(i);
  }
  return std::nullopt;
}

unsigned root_type_width(RootType type) noexcept {
  const auto i = static_cast<std::size_t>(type);
  return i < kTypeWidths.size() ? kTypeWidths[i] : 1;
}

std::string_view root_type_format(RootType type) noexcept {
  const auto i = static_cast<std::size_t>(type);
  return i < kTypeFormats.size() ? kTypeFormats[i] : "B";
}

std::string_view to_string(ColumnLayout layout) noexcept {
  const auto i = static_cast<std::size_t>(layout);
  return i < kLayoutNames.size() ? kLayoutNames[i] : "unknown";
}

std::optional<ColumnLayout> column_layout_from_string(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kLayoutNames.size(); ++i) {
    if (kLayoutNames[i] == name) return static_cast<ColumnLayout>(i);
  }
  return std::nullopt;
}

// ------------------------------------------------------------------ keys

RootBasketKey parse_root_basket_key(ConstBytes basket) {
  const auto bad = [](const std::string& what) { return corrupt("TKey: " + what); };
  if (basket.size() < kKeyFixed) {
    throw bad("truncated: " + std::to_string(basket.size()) + " bytes, the key needs " +
              std::to_string(kKeyFixed) + "+");
  }
  const std::byte* p = basket.data();
  const std::int32_t nbytes = be32s(p);
  const std::int32_t objlen = be32s(p + 6);
  const std::int16_t keylen = be16s(p + 14);
  if (nbytes < 0 || objlen < 0 || keylen < 0) {
    throw bad("negative size (fNbytes " + std::to_string(nbytes) + ", fObjlen " +
              std::to_string(objlen) + ", fKeylen " + std::to_string(keylen) + ")");
  }
  const auto klen = static_cast<std::uint64_t>(keylen);
  if (klen < kKeyFixed + kBasketHeader || klen > static_cast<std::uint64_t>(nbytes)) {
    throw bad("fKeylen " + std::to_string(keylen) + " outside [" +
              std::to_string(kKeyFixed + kBasketHeader) + ", fNbytes " + std::to_string(nbytes) +
              "]");
  }
  if (basket.size() < klen) {
    throw bad("truncated: " + std::to_string(basket.size()) + " bytes, fKeylen is " +
              std::to_string(keylen));
  }
  const std::byte* h = p + klen - kBasketHeader;
  const std::int32_t nevbuf = be32s(h + 10);
  const std::int32_t last = be32s(h + 14);
  if (nevbuf < 0) throw bad("negative fNevBuf " + std::to_string(nevbuf));
  if (last < keylen || static_cast<std::uint64_t>(last) - klen > static_cast<std::uint64_t>(objlen)) {
    throw bad("fLast " + std::to_string(last) + " outside [fKeylen " + std::to_string(keylen) +
              ", fKeylen + fObjlen " + std::to_string(std::int64_t{keylen} + objlen) + "]");
  }
  return RootBasketKey{static_cast<std::uint64_t>(nbytes), static_cast<std::uint64_t>(objlen), klen,
                       static_cast<std::uint64_t>(nevbuf), static_cast<std::uint64_t>(last) - klen};
}

// ------------------------------------------------------------------ scratch

ScratchPool::Lease::Lease(ScratchPool& pool, std::size_t size) : pool_(pool), size_(size) {
  {
    std::lock_guard lock(pool_.mutex_);
    if (!pool_.free_.empty()) {
      buffer_ = std::move(pool_.free_.back());
      pool_.free_.pop_back();
    }
  }
  if (buffer_.capacity < size) {
    buffer_.data.reset();  // before allocating: never hold both
    buffer_.data = std::make_unique_for_overwrite<std::byte[]>(size);
    buffer_.capacity = size;
  }
}

ScratchPool::Lease::~Lease() {
  std::lock_guard lock(pool_.mutex_);
  pool_.free_.push_back(std::move(buffer_));
}

// ------------------------------------------------------------------ decoding

void decode_column_chunk(const ColumnChunk& chunk, ConstBytes stored, MutableBytes content,
                         const ColumnTargets& targets, Decoder& decoder, ScratchPool& scratch) {
  const RootBasketKey key = parse_root_basket_key(stored);
  // The key must agree with the table: a table that points at the wrong
  // bytes must not decode into some other basket's data.
  if (key.nbytes != stored.size()) {
    throw corrupt("TKey says fNbytes = " + std::to_string(key.nbytes) +
                  ", the basket table fBasketBytes = " + std::to_string(stored.size()));
  }
  if (key.entries != chunk.entries) {
    throw corrupt("TBasket holds " + std::to_string(key.entries) +
                  " entries (fNevBuf), the basket table " + std::to_string(chunk.entries));
  }
  const bool fixed = chunk.layout == ColumnLayout::fixed;
  if (key.border != content.size()) {
    throw Error(ErrorCode::size_mismatch,
                "TBasket content is " + std::to_string(key.border) + " bytes (fLast - fKeylen), " +
                    (fixed ? "entries × items × width = " : "planned ") +
                    std::to_string(content.size()));
  }
  const ConstBytes payload = stored.subspan(static_cast<std::size_t>(key.keylen));
  const auto objlen = static_cast<std::size_t>(key.objlen);

  if (objlen == content.size()) {
    // No trailer: decode straight into the slice, then native order in place.
    if (!fixed && key.entries != 0) {
      throw corrupt("a " + std::string(to_string(chunk.layout)) +
                    " basket without its entry-offsets trailer");
    }
    decode_payload(decoder, payload, content, objlen);
    byteswap_in_place(content, chunk.width);
    return;
  }

  // Values + trailer: decode into scratch, keep the values (byteswapped on
  // the way) and turn the trailer into the column's offsets.
  ScratchPool::Lease lease(scratch, objlen);
  const MutableBytes decoded = lease.bytes();
  decode_payload(decoder, payload, decoded, objlen);
  byteswap_copy(decoded.first(content.size()), content, chunk.width);
  if (fixed) return;  // a trailer a fixed layout does not need (ROOT writes none)
  write_offsets(chunk, decoded.subspan(content.size()), key.keylen, targets.offsets);
  if (chunk.layout == ColumnLayout::strings) check_strings(chunk, content, targets);
}

}  // namespace decoflow
