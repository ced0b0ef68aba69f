#include "decoflow/column_chunk.hpp"

#include <array>
#include <bit>
#include <cstring>
#include <string>
#include <utility>

#include "decoflow/byteswap.hpp"
#include "rntuple_page.hpp"

namespace decoflow {

namespace {

constexpr std::array<std::string_view, 12> kTypeNames = {
    "bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
    "float32", "float64", "float16"};
constexpr std::array<unsigned, 12> kTypeWidths = {1, 1, 1, 2, 2, 4, 4, 8, 8, 4, 8, 2};
// Python's struct / buffer-protocol letters (standard sizes on every platform
// NumPy supports: "l" would be 4 bytes on Windows, "q" is 8 everywhere).
constexpr std::array<std::string_view, 12> kTypeFormats = {
    "?", "b", "B", "h", "H", "i", "I", "q", "Q", "f", "d", "e"};
constexpr std::array<std::string_view, 4> kLayoutNames = {"fixed", "jagged", "strings", "nested"};
constexpr std::array<std::string_view, 13> kCodingNames = {
    "plain",     "float32_to_float64", "scaled",  "truncated",       "record",
    "tobject_bits", "objects",
    "le_values", "le_index",           "le_bits", "le_real32_trunc", "le_real32_quant",
    "le_switch"};

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

// Stored elements (big-endian, chunk.stored_width bytes each) into values
// (native, chunk.width bytes each): `out` holds exactly as many.
void convert_values(const ColumnChunk& chunk, ConstBytes stored, MutableBytes out) {
  const std::size_t n = out.size() / chunk.width;
  const std::byte* in = stored.data();
  std::byte* to = out.data();
  const auto put = [&](std::size_t i, auto value) { std::memcpy(to + i * sizeof value, &value, sizeof value); };
  if (is_rntuple_page_coding(chunk.coding)) {
    throw Error(ErrorCode::invalid_argument,
                "coding " + std::string(to_string(chunk.coding)) + " is for RNTuple pages");
  }
  switch (chunk.coding) {
    case ElementCoding::plain:
      byteswap_copy(stored.first(out.size()), out, chunk.width);
      return;
    case ElementCoding::tobject_bits:
      // In stored order the first referenced object is still where a uint32
      // is expected: its bit says the layout is not 4 bytes an object.
      for (std::size_t i = 0; i < n; ++i) {
        const auto bits = static_cast<std::uint32_t>(load_be<4>(in + 4 * i));
        if (bits & 0x10u) throw varying_size_error(chunk.coding);
        put(i, bits);
      }
      return;
    case ElementCoding::float32_to_float64:
      for (std::size_t i = 0; i < n; ++i) {
        put(i, static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(load_be<4>(in + 4 * i)))));
      }
      return;
    case ElementCoding::scaled: {
      // As uproot: the raw integer in the value's type, times the scale (a
      // double, made the value's type), plus low; two roundings, no fma.
      const double scale = (chunk.high - chunk.low) / static_cast<double>(std::uint64_t{1} << chunk.nbits);
      if (chunk.width == 8) {
        for (std::size_t i = 0; i < n; ++i) {
          double v = static_cast<double>(load_be<4>(in + 4 * i));
          v = v * scale;
          v = v + chunk.low;
          put(i, v);
        }
      } else {
        const auto scale32 = static_cast<float>(scale);
        const auto low32 = static_cast<float>(chunk.low);
        for (std::size_t i = 0; i < n; ++i) {
          float v = static_cast<float>(load_be<4>(in + 4 * i));
          v = v * scale32;
          v = v + low32;
          put(i, v);
        }
      }
      return;
    }
    case ElementCoding::truncated: {
      const unsigned nbits = chunk.nbits;
      const std::uint32_t keep = (std::uint32_t{1} << (nbits + 1)) - 1;
      const std::uint32_t sign = std::uint32_t{1} << (nbits + 1);
      for (std::size_t i = 0; i < n; ++i) {
        const auto exponent = std::to_integer<std::uint32_t>(in[3 * i]);
        const auto mantissa = static_cast<std::uint32_t>(load_be<2>(in + 3 * i + 1));
        float v = std::bit_cast<float>(exponent << 23 | (mantissa & keep) << (23 - nbits));
        if ((mantissa & sign) != 0) v = -v;
        if (chunk.width == 8) {
          put(i, static_cast<double>(v));
        } else {
          put(i, v);
        }
      }
      return;
    }
    default:  // RNTuple page codings: refused above
      break;
    case ElementCoding::record:
    case ElementCoding::objects: {
      std::size_t at = 0;
      for (std::size_t row = 0; row < n; ++row) {
        for (std::uint32_t f = 0; f < chunk.field_count; ++f) {
          const std::size_t w = chunk.fields[f];
          for (std::size_t b = 0; b < w; ++b) to[at + b] = in[at + w - 1 - b];
          at += w;
        }
      }
      return;
    }
  }
}

// The trailer is [count, start_0 + fKeylen, ..., start_{n-1} + fKeylen, x]
// (big-endian int32; ROOT writes count = n and x = 0, uproot count = n + 1
// and x = fLast), as uproot's TBasket.py reads it. Entry j spans
// [start_j, start_{j+1}) of the decoded values, the last one up to the border.
class EntryExtents {
 public:
  // Without a trailer, ROOT's baskets of equal-size entries imply the
  // offsets (fNevBufSize each: TBasket's kGenerateOffsetMap, what uproot
  // reads the same way).
  EntryExtents(const ColumnChunk& chunk, ConstBytes trailer, std::uint64_t keylen,
               std::uint64_t border, std::uint64_t entry_size)
      : chunk_(chunk), keylen_(keylen), border_(border) {
    const std::uint64_t n = chunk.entries;
    if (trailer.empty()) {
      if (n != 0 && (entry_size == 0 || entry_size * n != border)) {
        throw corrupt("a " + std::string(to_string(chunk.layout)) + " basket of " +
                      std::to_string(n) + " entries without its entry-offsets trailer (and " +
                      std::to_string(border) + " value bytes are not " + std::to_string(n) +
                      " × fNevBufSize " + std::to_string(entry_size) + ")");
      }
      implied_ = entry_size;
      return;
    }
    starts_ = trailer.data() + 4;
    if (trailer.size() < 4 * (n + 1)) {
      throw corrupt("entry-offsets trailer of " + std::to_string(trailer.size()) + " bytes for " +
                    std::to_string(n) + " entries");
    }
    const auto count = load_be<4>(trailer.data());
    if (count != n && count != n + 1) {
      throw corrupt("entry-offsets trailer counts " + std::to_string(count) + " offsets for " +
                    std::to_string(n) + " entries");
    }
  }

  // Entry j's [start, end) in the decoded bytes, checked to follow entry j - 1
  // (whose end was `previous`) and to lie inside the values. Unsigned
  // wrap-around makes a start below fKeylen fail here too.
  std::pair<std::uint64_t, std::uint64_t> at(std::uint64_t j, std::uint64_t previous) const {
    if (starts_ == nullptr) return {j * implied_, (j + 1) * implied_};
    const std::uint64_t start = load_be<4>(starts_ + 4 * j) - keylen_;
    const std::uint64_t end =
        j + 1 < chunk_.entries ? load_be<4>(starts_ + 4 * (j + 1)) - keylen_ : border_;
    if (start != previous || end < start || end > border_) {
      throw corrupt("entry " + std::to_string(chunk_.entry_begin + j) + " spans value bytes [" +
                    std::to_string(static_cast<std::int64_t>(start)) + ", " +
                    std::to_string(static_cast<std::int64_t>(end)) + ") of " +
                    std::to_string(border_));
    }
    return {start, end};
  }

  Error bad_entry(std::uint64_t j, const std::string& what) const {
    return corrupt("entry " + std::to_string(chunk_.entry_begin + j) + ": " + what);
  }

 private:
  const ColumnChunk& chunk_;
  const std::byte* starts_ = nullptr;  // null: offsets implied, `implied_` bytes per entry
  std::uint64_t implied_ = 0;
  std::uint64_t keylen_;
  std::uint64_t border_;
};

// A jagged chunk: each entry's values (after its header) byteswapped into the
// slice one after another, and the column's offsets of its entries' ends,
// offsets[entry_slot + 1 .. entry_slot + n] (each chunk writes only its own
// entries; offsets[0] = 0 is written when planning).
void decode_jagged(const ColumnChunk& chunk, ConstBytes values, const EntryExtents& extents,
                   MutableBytes content, std::int64_t* offsets) {
  const std::uint64_t width = chunk.stored_width;  // the extents count stored bytes
  const std::uint64_t header = chunk.header_bytes;
  std::int64_t* out = offsets + chunk.entry_slot + 1;
  if (header == 0) {
    convert_values(chunk, values, content);
    std::uint64_t previous = 0;
    for (std::uint64_t j = 0; j < chunk.entries; ++j) {
      const auto [start, end] = extents.at(j, previous);
      if (end % width != 0) {
        if (sizes_may_vary(chunk.coding)) throw varying_size_error(chunk.coding);
        throw extents.bad_entry(j, "ends at value byte " + std::to_string(end) +
                                       ", not a multiple of the element width " +
                                       std::to_string(width));
      }
      out[j] = static_cast<std::int64_t>(chunk.content_item + end / width);
      previous = end;
    }
    return;
  }
  std::uint64_t previous = 0, written = 0;
  for (std::uint64_t j = 0; j < chunk.entries; ++j) {
    const auto [start, end] = extents.at(j, previous);
    if (end - start < header || (end - start - header) % width != 0) {
      if (end - start >= header && sizes_may_vary(chunk.coding)) {
        throw varying_size_error(chunk.coding);
      }
      throw extents.bad_entry(j, std::to_string(end - start) + " bytes: not " +
                                     std::to_string(header) + " header bytes and whole " +
                                     std::to_string(width) + "-byte values");
    }
    const std::uint64_t count = (end - start - header) / width;
    if (header == 10) {
      // std::vector<T>: byte count (with ROOT's 0x40000000 flag) of what
      // follows it, a version, the element count.
      const std::uint64_t byte_count = load_be<4>(values.data() + start);
      const std::uint64_t elements = load_be<4>(values.data() + start + 6);
      if (byte_count == ((end - start - 4) | 0x40000000u) && elements != count &&
          sizes_may_vary(chunk.coding)) {
        throw varying_size_error(chunk.coding);
      }
      if (byte_count != ((end - start - 4) | 0x40000000u) || elements != count) {
        throw extents.bad_entry(j, "its std::vector header says " + std::to_string(elements) +
                                       " elements in " +
                                       std::to_string(byte_count & ~std::uint64_t{0x40000000}) +
                                       " bytes, its extent holds " + std::to_string(count) +
                                       " in " + std::to_string(end - start - 4));
      }
    }
    const std::uint64_t bytes = count * chunk.width;
    if (written + bytes > content.size()) {
      throw extents.bad_entry(j, "more values than the basket's planned " +
                                     std::to_string(content.size()) + " bytes");
    }
    convert_values(chunk,
                   values.subspan(static_cast<std::size_t>(start + header),
                                  static_cast<std::size_t>(count * width)),
                   content.subspan(static_cast<std::size_t>(written), static_cast<std::size_t>(bytes)));
    written += bytes;
    out[j] = static_cast<std::int64_t>(chunk.content_item + written / chunk.width);
    previous = end;
  }
  if (written != content.size()) {
    throw Error(ErrorCode::size_mismatch, "the entries hold " + std::to_string(written) +
                                              " value bytes, planned " +
                                              std::to_string(content.size()));
  }
}

// A strings chunk: the bytes as stored, and per entry its end offset and the
// start of its characters — after its header bytes and its length (one byte,
// or 255 then four big-endian bytes), which must agree with its extent.
void decode_strings(const ColumnChunk& chunk, ConstBytes values, const EntryExtents& extents,
                    MutableBytes content, const ColumnTargets& targets) {
  if (!content.empty()) std::memcpy(content.data(), values.data(), content.size());
  const std::int64_t base = static_cast<std::int64_t>(chunk.content_item);
  std::int64_t* ends = targets.offsets + chunk.entry_slot + 1;
  std::int64_t* starts = targets.starts + chunk.entry_slot;
  std::uint64_t previous = 0;
  for (std::uint64_t j = 0; j < chunk.entries; ++j) {
    const auto [entry_start, end] = extents.at(j, previous);
    const auto bad = [&](const std::string& what) {
      return corrupt("string at entry " + std::to_string(chunk.entry_begin + j) + ": " + what);
    };
    const std::uint64_t head = entry_start + chunk.header_bytes;
    if (end <= head) throw bad(chunk.header_bytes ? "no header and length byte" : "no length byte");
    std::uint64_t length = std::to_integer<std::uint64_t>(values[head]);
    std::uint64_t start = head + 1;
    if (length == 255) {
      if (head + 5 > end) throw bad("a long string's length cut short");
      length = load_be<4>(values.data() + head + 1);
      start = head + 5;
    }
    if (start + length != end) {
      throw bad("its length bytes say " + std::to_string(length) + " bytes, its extent is " +
                std::to_string(end - start));
    }
    starts[j] = base + static_cast<std::int64_t>(start);
    ends[j] = base + static_cast<std::int64_t>(end);
    previous = end;
  }
}

// A nested chunk: walks each entry's lists (the levels of ColumnChunk::depth,
// then values or strings), writing each element compactly into the chunk's
// room at its level: a list's or string's end (in the reserved coordinates
// of the level below) into ColumnTargets::lists, values or string bytes into
// the content. collect() later closes the gaps between chunks' rooms.
class NestedWriter {
 public:
  NestedWriter(const ColumnChunk& chunk, ConstBytes values, MutableBytes content,
               const ColumnTargets& targets, const EntryExtents& extents)
      : chunk_(chunk), values_(values), content_(content), extents_(extents),
        levels_(reserved_levels(chunk)) {
    for (unsigned k = 0; k < levels_; ++k) {
      out_[k] = targets.lists[k] + chunk.lists[k] + 1;
      room_[k] = nested_room(chunk, k);
    }
  }

  // Entry j's lists, in [start, end) of the decoded values.
  void entry(std::uint64_t j, std::uint64_t start, std::uint64_t end, std::int64_t* entry_end) {
    entry_ = j;
    const std::uint64_t header = chunk_.header_bytes;
    if (end - start < header) {
      throw extents_.bad_entry(j, std::to_string(end - start) + " bytes: not even its " +
                                      std::to_string(header) + " header bytes");
    }
    const std::byte* p = values_.data() + start;
    const std::uint64_t byte_count = load_be<4>(p);
    const std::uint64_t version = load_be<2>(p + 4);
    if (version & 0x4000) {
      throw Error(ErrorCode::unsupported_format,
                  "entry " + std::to_string(chunk_.entry_begin + j) +
                      ": a collection stored member-wise (version " + std::to_string(version) +
                      "), which decoflow does not decode");
    }
    if (byte_count != ((end - start - 4) | 0x40000000u)) {
      throw extents_.bad_entry(j, "its header's byte count says " +
                                      std::to_string(byte_count & ~std::uint64_t{0x40000000}) +
                                      " bytes, its extent holds " +
                                      std::to_string(end - start - 4));
    }
    const std::uint64_t after = walk(0, count_at(start + header - 4, end), start + header, end);
    if (after != end) {
      throw extents_.bad_entry(j, "its lists end at value byte " + std::to_string(after) +
                                      ", its extent at " + std::to_string(end));
    }
    *entry_end = coordinate(0);
  }

  void finish(std::uint64_t* used) const {
    if (!chunk_.leaf_strings && chunk_.coding == ElementCoding::plain) {
      byteswap_in_place(content_.first(static_cast<std::size_t>(values_used_ * chunk_.width)),
                        chunk_.width);
    }
    for (unsigned k = 0; k < levels_; ++k) used[k] = used_[k];
    used[levels_] = values_used_;
  }

 private:
  // A list's element count at `at` (a big-endian int32 that must fit before `end`).
  std::uint64_t count_at(std::uint64_t at, std::uint64_t end) const {
    if (at > end || end - at < 4) throw bad("a list's count cut short at value byte " + std::to_string(at));
    const auto count = static_cast<std::int32_t>(load_be<4>(values_.data() + at));
    if (count < 0) throw bad("a list counts " + std::to_string(count) + " elements");
    return static_cast<std::uint64_t>(count);
  }

  // `count` elements of a list at `level` (0: an entry's) from byte `at`;
  // returns the byte after them.
  std::uint64_t walk(unsigned level, std::uint64_t count, std::uint64_t at, std::uint64_t end) {
    if (level < chunk_.depth) {
      for (std::uint64_t i = 0; i < count; ++i) {
        const std::uint64_t inner = count_at(at, end);
        at = walk(level + 1, inner, at + 4, end);
        put(level, coordinate(level + 1));
      }
      return at;
    }
    if (chunk_.leaf_strings) {
      const unsigned level_of_strings = chunk_.depth;
      for (std::uint64_t i = 0; i < count; ++i) {
        if (at >= end) throw bad("a string's length cut short at value byte " + std::to_string(at));
        std::uint64_t length = std::to_integer<std::uint64_t>(values_[at]);
        at += 1;
        if (length == 255) {
          if (end - at < 4) throw bad("a long string's length cut short");
          length = load_be<4>(values_.data() + at);
          at += 4;
        }
        if (length > end - at) {
          throw bad("a string of " + std::to_string(length) + " bytes at value byte " +
                    std::to_string(at) + " runs past its entry's end " + std::to_string(end));
        }
        take(length);
        if (length != 0) std::memcpy(content_.data() + values_used_, values_.data() + at, length);
        values_used_ += length;
        at += length;
        put(level_of_strings, coordinate(levels_));
      }
      return at;
    }
    const std::uint64_t width = chunk_.stored_width;
    if (count > (end - at) / width) {
      throw bad("a list of " + std::to_string(count) + " values at value byte " +
                std::to_string(at) + " runs past its entry's end " + std::to_string(end));
    }
    take(count);
    const auto out = content_.subspan(static_cast<std::size_t>(values_used_ * chunk_.width),
                                      static_cast<std::size_t>(count * chunk_.width));
    if (chunk_.coding == ElementCoding::plain) {
      // Copied as stored: finish() byteswaps the whole chunk at once (a few
      // values per list: one vectorised pass beats a call per list).
      if (count != 0) std::memcpy(out.data(), values_.data() + at, out.size());
    } else {
      convert_values(chunk_, values_.subspan(static_cast<std::size_t>(at),
                                             static_cast<std::size_t>(count * width)),
                     out);
    }
    values_used_ += count;
    return at + count * width;
  }

  // The end of an element just written at reserved level `level`.
  void put(unsigned level, std::int64_t end_coordinate) {
    if (used_[level] == room_[level]) throw bad("more elements than its bytes can hold");
    out_[level][used_[level]++] = end_coordinate;
  }

  // Room for `count` more values (or string bytes) in the content.
  void take(std::uint64_t count) const {
    if (count > content_.size() / chunk_.width - values_used_) {
      throw bad("more values than its bytes can hold");
    }
  }

  // Where the next element of reserved level `level` (levels_: the content)
  // goes, in that level's reserved coordinates.
  std::int64_t coordinate(unsigned level) const {
    if (level == levels_) return static_cast<std::int64_t>(chunk_.content_item + values_used_);
    return static_cast<std::int64_t>(chunk_.lists[level] + used_[level]);
  }

  Error bad(const std::string& what) const { return extents_.bad_entry(entry_, what); }

  const ColumnChunk& chunk_;
  ConstBytes values_;
  MutableBytes content_;
  const EntryExtents& extents_;
  unsigned levels_;
  std::int64_t* out_[max_nested_depth + 1] = {};
  std::uint64_t room_[max_nested_depth + 1] = {};
  std::uint64_t used_[max_nested_depth + 1] = {};
  std::uint64_t values_used_ = 0;
  std::uint64_t entry_ = 0;
};

void decode_nested(const ColumnChunk& chunk, ConstBytes values, const EntryExtents& extents,
                   MutableBytes content, const ColumnTargets& targets) {
  NestedWriter writer(chunk, values, content, targets, extents);
  std::int64_t* ends = targets.offsets + chunk.entry_slot + 1;
  std::uint64_t previous = 0;
  for (std::uint64_t j = 0; j < chunk.entries; ++j) {
    const auto [start, end] = extents.at(j, previous);
    writer.entry(j, start, end, ends + j);
    previous = end;
  }
  writer.finish(targets.used);
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

// Values, offsets and starts from decoded bytes: [0, border) values as
// stored, then the trailer (keylen: what its starts count from).
void decode_values(const ColumnChunk& chunk, ConstBytes decoded, std::uint64_t border,
                   std::uint64_t keylen, std::uint64_t entry_size, MutableBytes content,
                   const ColumnTargets& targets) {
  const ConstBytes values = decoded.first(static_cast<std::size_t>(border));
  if (chunk.layout == ColumnLayout::fixed) {
    convert_values(chunk, values, content);
    return;
  }
  const EntryExtents extents(chunk, decoded.subspan(static_cast<std::size_t>(border)), keylen,
                             border, entry_size);
  if (chunk.layout == ColumnLayout::jagged) {
    decode_jagged(chunk, values, extents, content, targets.offsets);
  } else if (chunk.layout == ColumnLayout::nested) {
    decode_nested(chunk, values, extents, content, targets);
  } else {
    decode_strings(chunk, values, extents, content, targets);
  }
}

}  // namespace

// ------------------------------------------------------------------ types

namespace {

// An enum's entry in a table indexed by its values, or `fallback`.
template <typename Enum, typename Table, typename Value>
Value lookup(const Table& table, Enum value, Value fallback) noexcept {
  const auto i = static_cast<std::size_t>(value);
  return i < table.size() ? table[i] : fallback;
}

// The enum value whose name in `names` is `name`.
template <typename Enum, std::size_t N>
std::optional<Enum> parse_name(const std::array<std::string_view, N>& names,
                               std::string_view name) noexcept {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(RootType type) noexcept {
  return lookup(kTypeNames, type, std::string_view("unknown"));
}
std::optional<RootType> root_type_from_string(std::string_view name) noexcept {
  return parse_name<RootType>(kTypeNames, name);
}
unsigned root_type_width(RootType type) noexcept { return lookup(kTypeWidths, type, 1u); }
std::string_view root_type_format(RootType type) noexcept {
  return lookup(kTypeFormats, type, std::string_view("B"));
}
std::string_view to_string(ElementCoding coding) noexcept {
  return lookup(kCodingNames, coding, std::string_view("unknown"));
}
std::optional<ElementCoding> element_coding_from_string(std::string_view name) noexcept {
  return parse_name<ElementCoding>(kCodingNames, name);
}
std::string_view to_string(ColumnLayout layout) noexcept {
  return lookup(kLayoutNames, layout, std::string_view("unknown"));
}
std::optional<ColumnLayout> column_layout_from_string(std::string_view name) noexcept {
  return parse_name<ColumnLayout>(kLayoutNames, name);
}

bool sizes_may_vary(ElementCoding coding) noexcept {
  return coding == ElementCoding::tobject_bits || coding == ElementCoding::objects;
}

Error varying_size_error(ElementCoding coding) {
  return Error(ErrorCode::unsupported_format,
               coding == ElementCoding::tobject_bits
                   ? "TObject fBits of referenced objects (bit kIsReferenced: ROOT writes 2 more "
                     "bytes after each), which decoflow does not decode"
                   : "objects whose stored bytes are not whole rows of their members (a "
                     "referenced TObject's 2 more bytes, or a collection stored member-wise), "
                     "which decoflow does not decode");
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
  const std::int32_t nevbufsize = be32s(h + 6);
  const std::int32_t nevbuf = be32s(h + 10);
  const std::int32_t last = be32s(h + 14);
  if (nevbuf < 0) throw bad("negative fNevBuf " + std::to_string(nevbuf));
  if (last < keylen || static_cast<std::uint64_t>(last) - klen > static_cast<std::uint64_t>(objlen)) {
    throw bad("fLast " + std::to_string(last) + " outside [fKeylen " + std::to_string(keylen) +
              ", fKeylen + fObjlen " + std::to_string(std::int64_t{keylen} + objlen) + "]");
  }
  return RootBasketKey{static_cast<std::uint64_t>(nbytes), static_cast<std::uint64_t>(objlen), klen,
                       static_cast<std::uint64_t>(nevbuf),
                       nevbufsize > 0 ? static_cast<std::uint64_t>(nevbufsize) : 0,
                       static_cast<std::uint64_t>(last) - klen};
}

// ------------------------------------------------------------------ nested

std::uint64_t nested_room(const ColumnChunk& chunk, unsigned level) noexcept {
  const std::uint64_t headers = std::uint64_t{chunk.header_bytes} * chunk.entries;
  const std::uint64_t bytes = chunk.stored_border > headers ? chunk.stored_border - headers : 0;
  if (level < chunk.depth) return bytes / 4;    // a list: its count at least
  if (level < reserved_levels(chunk)) return bytes;  // a string: its length byte at least
  return chunk.leaf_strings ? bytes : bytes / chunk.stored_width;
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
  if (chunk.framing == ChunkFraming::rntuple_page || chunk.framing == ChunkFraming::rntuple_zeros) {
    detail::decode_rntuple_page(chunk, stored, content, decoder, scratch);
    return;
  }
  const bool fixed = chunk.layout == ColumnLayout::fixed;
  const bool nested = chunk.layout == ColumnLayout::nested;
  const bool plain = chunk.coding == ElementCoding::plain;  // decodable in place
  // The values' bytes as stored: the slice's, less the headers, at the
  // stored width.
  const std::uint64_t header_total =
      chunk.layout == ColumnLayout::jagged ? chunk.header_bytes * chunk.entries : 0;
  const std::uint64_t stored_values = content.size() / chunk.width * chunk.stored_width;
  if (chunk.framing == ChunkFraming::embedded) {
    // Values then (not fixed) a trailer of 4 bytes per entry and two more.
    const std::uint64_t trailer = fixed ? 0 : 4 * (chunk.entries + 2);
    if (stored.size() != chunk.stored_border + trailer) {
      throw corrupt("the embedded basket holds " + std::to_string(stored.size()) +
                    " bytes, its record says " + std::to_string(chunk.stored_border) +
                    " value bytes" + (fixed ? "" : " and a trailer of " + std::to_string(trailer)));
    }
    if (!nested && chunk.stored_border != stored_values + header_total) {
      if (sizes_may_vary(chunk.coding)) throw varying_size_error(chunk.coding);
      throw Error(ErrorCode::size_mismatch,
                  "the embedded basket holds " + std::to_string(chunk.stored_border) +
                      " value bytes, planned " + std::to_string(stored_values + header_total));
    }
    decode_values(chunk, stored, chunk.stored_border, 0, 0, content, targets);
    return;
  }

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
  // nested: the room was planned from this key's fLast (read at plan time).
  const std::uint64_t planned = nested ? chunk.stored_border : stored_values + header_total;
  if (key.border != planned) {
    if (sizes_may_vary(chunk.coding)) throw varying_size_error(chunk.coding);
    throw Error(ErrorCode::size_mismatch,
                "TBasket values are " + std::to_string(key.border) + " bytes (fLast - fKeylen), " +
                    (fixed ? "entries × items × width = " : "planned ") + std::to_string(planned));
  }
  const ConstBytes payload = stored.subspan(static_cast<std::size_t>(key.keylen));
  const auto objlen = static_cast<std::size_t>(key.objlen);

  if (plain && objlen == content.size() && (fixed || key.entries == 0) && !nested) {
    // No trailer: decode straight into the slice, then native order in place.
    decode_payload(decoder, payload, content, objlen);
    byteswap_in_place(content, chunk.width);
    return;
  }

  // Values + trailer (or headers to leave out): decode into scratch, then
  // the values into the slice and the trailer into the column's offsets.
  ScratchPool::Lease lease(scratch, objlen);
  const MutableBytes decoded = lease.bytes();
  decode_payload(decoder, payload, decoded, objlen);
  if (fixed) {
    convert_values(chunk, decoded.first(static_cast<std::size_t>(stored_values)), content);
    return;  // a trailer a fixed layout ignores
  }
  decode_values(chunk, decoded, key.border, key.keylen, key.entry_size, content, targets);
}

}  // namespace decoflow
