// decoflow/column_chunk.hpp: the unit of a read plan — one stored chunk of one
// column (a TTree basket today; an RNTuple page is another framing of the same
// unit) — and how it becomes values in its slice.
//
//   stored bytes ──framing──► decoded bytes ──layout──► values in the column's slice
//   (TKey + TBasket header,    (ROOT blocks         fixed:   byteswap in place
//    then ROOT blocks)          ZS/L4/ZL/XZ, or raw) jagged:  values byteswapped into the
//                                                             slice, the entry-offsets trailer
//                                                             ──► global int64 offsets
//                                                    strings: bytes copied, offsets as jagged,
//                                                             each entry's length bytes checked
//                                                             ──► its start
//
// A new layout (a per-entry header, truncated floats, an RNTuple encoding) is
// a new ColumnLayout case here, not a new pipeline: the plan, the graph, the
// arrays and the error locations stay as they are (docs/ARCHITECTURE.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "decoflow/bytes.hpp"
#include "decoflow/decoder.hpp"
#include "decoflow/error.hpp"

namespace decoflow {

/// The element types ROOT writes for numeric branches (big-endian on file).
enum class RootType : std::uint8_t {
  boolean, int8, uint8, int16, uint16, int32, uint32, int64, uint64, float32, float64,
  float16,  ///< RNTuple's Real16 (IEEE half precision)
};

/// NumPy's name of the type ("bool", "int8", ..., "float64"). Thread-safe.
std::string_view to_string(RootType type) noexcept;
/// Parses a name written by to_string(); nullopt for any other. Thread-safe.
std::optional<RootType> root_type_from_string(std::string_view name) noexcept;
/// Bytes per element (1, 2, 4 or 8). Thread-safe.
unsigned root_type_width(RootType type) noexcept;
/// The element's Python buffer-protocol format ("?", "b", "B", "h", ..., "d"). Thread-safe.
std::string_view root_type_format(RootType type) noexcept;

/// How a column's decoded chunk becomes values.
enum class ColumnLayout : std::uint8_t {
  /// Values only, a fixed number per entry (`x/F`, `x[3]/F`): byteswapped in place.
  fixed,
  /// Values, then the basket's entry-offsets trailer (`x[n]/F`): a variable
  /// number of values per entry. With ColumnChunk::header_bytes, each entry
  /// starts with that many bytes that are not values (`std::vector<T>`: 10 —
  /// its byte count with bit 0x40000000, a version and its element count,
  /// checked; a `T* x //[n]` member: 1), left out of the content.
  jagged,
  /// Strings (`char*`, `std::string`, `TString`): per entry its
  /// ColumnChunk::header_bytes (a `std::string` member's byte count and
  /// version: 6), its length (one byte, or 255 and four big-endian bytes)
  /// then its bytes, then the entry-offsets trailer. The content is the bytes
  /// as stored; each entry's start (after its header and length bytes) is
  /// written beside its offsets, once the length agrees with the entry's
  /// extent.
  strings,
  /// Lists of lists (`std::vector<std::vector<T>>`, `std::vector<std::string>`,
  /// deeper ones): per entry its ColumnChunk::header_bytes (10: a byte count
  /// with bit 0x40000000, a version, then the entry's element count), then
  /// its elements. An element at a list level above the last starts with a
  /// big-endian int32 count of its own elements; the last level's elements
  /// are values, or strings (a length of one byte, or 255 and four bytes, then
  /// the bytes). How many there are at each level is known only once
  /// decoded: the plan reserves room for the most a basket's bytes can hold
  /// (ColumnChunk::lists) and compacts the arrays when it collects.
  nested,
};

/// The most list levels inside an entry's list a nested layout has
/// (`std::vector<std::vector<std::vector<std::vector<T>>>>`: 3).
inline constexpr unsigned max_nested_depth = 3;

/// "fixed", "jagged", "strings" or "nested". Thread-safe.
std::string_view to_string(ColumnLayout layout) noexcept;
/// Parses a name written by to_string(); nullopt for any other. Thread-safe.
std::optional<ColumnLayout> column_layout_from_string(std::string_view name) noexcept;

/// How each stored element becomes a value, once the layout has found it.
enum class ElementCoding : std::uint8_t {
  /// The value itself, big-endian, `width` bytes: byteswapped.
  plain,
  /// A big-endian float32 widened to float64 (`Double32_t` with neither range nor bits).
  float32_to_float64,
  /// `Double32_t` / `Float16_t` with a range: a big-endian uint32 `i`, the
  /// value low + i × (high - low) / 2^nbits, computed in the value's type
  /// (float64 / float32) as uproot does.
  scaled,
  /// `Double32_t` / `Float16_t` with bits only: an exponent byte and a
  /// big-endian 16-bit mantissa of which nbits are kept, then the sign bit
  /// (ROOT's TBufferFile::ReadWithNbits).
  truncated,
  /// A leaf list's row (`x/F:y/I`), or a fixed-size row of a jagged branch
  /// (`float x[n][3]`): fields of their own widths, each byteswapped
  /// (ColumnChunk::fields); a jagged layout counts rows.
  record,
  /// A TObject's fBits (a split class's `fBits` member, streamer type
  /// kBits): a big-endian uint32 — unless the object is referenced (bit
  /// kIsReferenced, 0x10), when ROOT writes 2 more bytes after it (its
  /// process id), which decoflow does not decode: such a chunk fails with
  /// unsupported_format, never as corrupt.
  tobject_bits,
  /// Objects of a split class stored whole, one fixed-size row each
  /// (uproot's AsStridedObjects: TLorentzVector, TVector3): decoded as
  /// `record` (ColumnChunk::fields: the headers' and members' widths). A
  /// size that is not whole rows means objects of varying size (a referenced
  /// TObject's 2 more bytes): unsupported_format, never corrupt.
  objects,
  // RNTuple pages (little-endian; ColumnChunk::split: byte planes first, as
  // SplitInt32, SplitReal64, ... store them, each page on its own).
  /// Elements of ColumnChunk::stored_type made values of the value's type
  /// (the same, or wider: Real16 into float32, int16 into int32, ...);
  /// ColumnChunk::zigzag: signed integers zigzag-encoded (the split signed types).
  le_values,
  /// A collection's index column (Index32/64, cluster-relative ends; split:
  /// delta-encoded too, a running sum restores them) made global int64 ends
  /// by adding ColumnChunk::value_base.
  le_index,
  /// Bits, least significant first, each a bool.
  le_bits,
  /// Real32Trunc: floats keeping their `nbits` most significant bits, packed.
  le_real32_trunc,
  /// Real32Quant: `nbits` packed unsigned integers q, each low + q × (high -
  /// low) / (2^nbits - 1).
  le_real32_quant,
  /// A variant's Switch column: 12-byte elements (a uint64 index into the
  /// alternative's elements in the cluster, a uint32 tag: 0 none, k + 1
  /// alternative k) made int64 values (index + ColumnChunk::tag_bases[2k])
  /// << 8 | tag, the index checked against tag_bases[2k + 1].
  le_switch,
};

/// "plain", "float32_to_float64", "scaled", "truncated", "record",
/// "tobject_bits", "objects", "le_values", "le_index", "le_bits",
/// "le_real32_trunc", "le_real32_quant" or "le_switch". Thread-safe.
std::string_view to_string(ElementCoding coding) noexcept;
/// Parses a name written by to_string(); nullopt for any other. Thread-safe.
std::optional<ElementCoding> element_coding_from_string(std::string_view name) noexcept;

/// Whether `coding` is one of an RNTuple page's (le_values ... le_switch:
/// little-endian, each page's coding its own, decoded by rntuple_page), not
/// a TTree basket's. Thread-safe.
constexpr bool is_rntuple_page_coding(ElementCoding coding) noexcept {
  return coding >= ElementCoding::le_values && coding <= ElementCoding::le_switch;
}

/// Whether values of this coding may be stored in sizes that vary from one
/// to the next (tobject_bits, objects: a referenced TObject's 2 more bytes),
/// so that sizes which disagree with whole values mean a layout decoflow does
/// not decode rather than corrupt data. Thread-safe.
bool sizes_may_vary(ElementCoding coding) noexcept;
/// The unsupported_format error for such a chunk. Thread-safe.
Error varying_size_error(ElementCoding coding);

/// How a chunk's stored bytes are framed.
enum class ChunkFraming : std::uint8_t {
  /// A TKey whose TBasket header gives the decoded size (fObjlen), the entry
  /// count (fNevBuf) and where the values end (fLast); then ROOT compression
  /// blocks, or the payload stored raw when it is fObjlen bytes.
  tbasket,
  /// A basket kept inside its TBranch record (ROOT stores it uncompressed
  /// there, within the tree's own key): the stored bytes are its values, then,
  /// for a layout with offsets, the entry-offsets trailer as a TBasket holds
  /// it with fKeylen 0 (count, each entry's start, a last word).
  embedded,
  /// An RNTuple page: ROOT compression blocks, or the elements stored raw
  /// when the page's size is their size; with ColumnChunk::page_checksum, the
  /// last 8 stored bytes are the xxHash3 (little-endian) of the others, verified.
  rntuple_page,
  /// Elements an RNTuple does not store (a deferred column's before its
  /// first): no bytes, zeros (an index column: empty collections).
  rntuple_zeros,
};

/// One stored chunk of one column: where its bytes are, how they are framed
/// and how they become values, and where those land. Plain data: a plan holds
/// one per chunk and the stage finds it by the graph chunk's tag.
struct ColumnChunk {
  // Where its bytes are.
  std::uint32_t file = 0;    ///< index among the read's files
  std::uint64_t offset = 0;  ///< first stored byte (a basket: its TKey, fBasketSeek)
  std::uint64_t size = 0;    ///< stored bytes (a basket: fBasketBytes)
  ChunkFraming framing = ChunkFraming::tbasket;
  // How they become values.
  ColumnLayout layout = ColumnLayout::fixed;
  std::uint32_t width = 1;  ///< bytes per value in the slice (a record: its row)
  std::uint8_t header_bytes = 0;  ///< bytes before each entry's values (jagged, strings)
  ElementCoding coding = ElementCoding::plain;
  std::uint32_t stored_width = 1;  ///< bytes per stored element (= width when plain, record)
  std::uint8_t nbits = 0;         ///< scaled, truncated, le_real32_trunc, le_real32_quant
  double low = 0, high = 0;       ///< scaled, le_real32_quant
  // RNTuple pages.
  RootType stored_type = RootType::uint8;  ///< le_values, le_index: each element's type as stored
  RootType value_type = RootType::uint8;   ///< le_values: the values' type (width bytes)
  bool split = false;          ///< byte planes (le_values, le_index: 2-, 4- or 8-byte elements)
  bool zigzag = false;         ///< le_values: zigzag-encoded signed integers
  bool page_checksum = false;  ///< rntuple_page: an xxHash3 follows the page
  std::int64_t value_base = 0; ///< le_index: added to every end
  /// le_index: the ends are cluster-relative counts of the collection's
  /// elements in its cluster, at most this many (checked: no read past the content)
  std::uint64_t value_limit = 0;
  /// le_switch: per alternative its base and element count (owned by the plan).
  const std::int64_t* tag_bases = nullptr;
  std::uint32_t tag_count = 0;
  /// record: each element's width in a row, `field_count` of them (the
  /// plan's, alive while it is); their sum is `width`.
  const std::uint8_t* fields = nullptr;
  std::uint32_t field_count = 0;
  // Which entries, and where they land.
  std::uint32_t column = 0;        ///< the column's index in its plan
  std::uint64_t entry_begin = 0;   ///< its first entry (of the whole tree)
  std::uint64_t entries = 0;       ///< its entry count (fNevBuf must agree)
  std::uint64_t entry_slot = 0;    ///< where entry_begin sits in the column's offsets/starts
  std::uint64_t content_item = 0;  ///< its first value in the column's content array
  std::uint64_t content_bytes = 0; ///< its values' bytes: the size of its slice
  /// Its values' bytes as stored, headers included (fLast - fKeylen): more
  /// than content_bytes by entries × header_bytes for a jagged layout.
  std::uint64_t stored_border = 0;
  std::uint64_t number = 0;        ///< its number among its column's chunks in its file (errors)
  /// nested: the list levels inside each entry's list (0 for
  /// `std::vector<std::string>`, 1 for `std::vector<std::vector<T>>`), whether
  /// the last level's elements are strings, and where the chunk's room
  /// starts in each reserved offsets array (ColumnTargets::lists).
  std::uint8_t depth = 0;
  bool leaf_strings = false;
  std::uint64_t lists[max_nested_depth + 1] = {};
};

/// Where a chunk writes what is not values: a jagged or strings column's
/// int64 entry offsets (entry j of the chunk ends at offsets[entry_slot + j + 1],
/// counted in values from the column's start) and a strings column's entry
/// starts (starts[entry_slot + j]: the first byte after entry j's length).
/// Null when the layout has none.
struct ColumnTargets {
  std::int64_t* offsets = nullptr;
  std::int64_t* starts = nullptr;
  /// nested: the offsets of each level below the entries' (level k + 1's
  /// lists, then the strings when the leaves are strings), each as reserved
  /// for the whole column: the chunk writes its elements' ends from
  /// ColumnChunk::lists[k] + 1 on, counted in the reserved elements of the
  /// level below (the content's values for the last). `used` gets how many
  /// it wrote at each level (`used[0..levels)`) and of the content (`used[levels]`).
  std::int64_t* const* lists = nullptr;
  std::uint64_t* used = nullptr;
};

/// nested: the reserved offsets arrays a chunk writes (its depth, and one more
/// for strings at the leaves). Thread-safe.
inline unsigned reserved_levels(const ColumnChunk& chunk) noexcept {
  return chunk.depth + (chunk.leaf_strings ? 1u : 0u);
}

/// nested: the most elements a chunk's bytes can hold at reserved level
/// `level` (< reserved_levels: each list has at least its 4-byte count, each
/// string its length byte), or, for `level` == reserved_levels, values (or
/// string bytes) in its content — the room the plan reserves for it, from
/// chunk.stored_border, entries and header_bytes. Thread-safe.
std::uint64_t nested_room(const ColumnChunk& chunk, unsigned level) noexcept;

/// What a basket's TKey (and the TBasket header that ends it) says.
struct RootBasketKey {
  std::uint64_t nbytes = 0;   ///< fNbytes: key + compressed payload
  std::uint64_t objlen = 0;   ///< fObjlen: decompressed payload
  std::uint64_t keylen = 0;   ///< fKeylen: the payload starts here
  std::uint64_t entries = 0;  ///< fNevBuf
  std::uint64_t entry_size = 0;  ///< fNevBufSize: every entry's size when the offsets are implied
  std::uint64_t border = 0;   ///< fLast - fKeylen: content bytes; an offsets trailer follows
};

/// Parses the TKey + TBasket header at the start of `basket` (the bytes from
/// fBasketSeek on; at least the key). Throws Error(corrupt_input) naming the
/// field when the header is truncated or inconsistent (fKeylen beyond fNbytes,
/// fLast outside the payload, ...). Thread-safe.
RootBasketKey parse_root_basket_key(ConstBytes basket);

/// Scratch buffers for chunks whose decoded bytes are more than their values
/// (a trailer follows them): leased per chunk and given back, so that steady
/// state allocates nothing, growing to the number of chunks decoded at once.
/// Thread-safe.
class ScratchPool {
 public:
  class Lease {
   public:
    Lease(ScratchPool& pool, std::size_t size);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    MutableBytes bytes() const noexcept { return {buffer_.data.get(), size_}; }

   private:
    friend class ScratchPool;
    struct Buffer {
      std::unique_ptr<std::byte[]> data;
      std::size_t capacity = 0;
    };
    ScratchPool& pool_;
    Buffer buffer_;
    std::size_t size_;
  };

 private:
  std::mutex mutex_;
  std::vector<Lease::Buffer> free_;
};

/// Decodes `stored` (the chunk's bytes) into `content` (its slice, exactly
/// chunk.content_bytes) in native byte order, and writes its entries'
/// offsets and starts into `targets`. Checks the framing against the chunk
/// (fNbytes, fNevBuf, fLast) and the layout's structure (the trailer's
/// offsets, the per-entry headers, the strings' length bytes); throws Error (corrupt_input,
/// size_mismatch, checksum_mismatch, unsupported_format, resource_error)
/// naming what disagrees — with the entry (of the tree) where there is one.
/// Writes only inside `content` and the chunk's own entries of `targets`.
/// Thread-safe for distinct chunks.
void decode_column_chunk(const ColumnChunk& chunk, ConstBytes stored, MutableBytes content,
                         const ColumnTargets& targets, Decoder& decoder, ScratchPool& scratch);

}  // namespace decoflow
