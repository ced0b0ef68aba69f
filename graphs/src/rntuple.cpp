#include "decoflow/rntuple.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <optional>
#include <utility>

#include "decoflow/decoder.hpp"
#include "decoflow/root_file.hpp"
#include "rntuple_page.hpp"
#include "xxh3.hpp"

namespace decoflow {

namespace {

Error corrupt(std::string what) { return Error(ErrorCode::corrupt_input, std::move(what)); }

std::string range(std::uint64_t offset, std::uint64_t size) {
  return "file bytes [" + std::to_string(offset) + ", +" + std::to_string(size) + ")";
}

// Reads an envelope's little-endian records, every read checked against the
// envelope's (or the current frame's) end; errors name the envelope and the
// offset inside it.
class Cursor {
 public:
  Cursor(ConstBytes bytes, std::string what) : bytes_(bytes), end_(bytes.size()), what_(std::move(what)) {}

  std::size_t at() const noexcept { return at_; }
  std::size_t end() const noexcept { return end_; }
  void seek(std::size_t to) {
    if (to > end_) throw fail("skips to byte " + std::to_string(to) + " past its end " + std::to_string(end_));
    at_ = to;
  }

  template <typename T>
  T get(const char* name) {
    need(sizeof(T), name);
    T v;
    std::memcpy(&v, bytes_.data() + at_, sizeof v);
    at_ += sizeof v;
    return v;
  }

  std::string string(const char* name) {
    const auto n = get<std::uint32_t>(name);
    need(n, name);
    std::string s(reinterpret_cast<const char*>(bytes_.data() + at_), n);
    at_ += n;
    return s;
  }

  // A frame's start: its end (set as the current limit; the previous limit
  // is returned to restore with leave()) and, for a list frame, its items.
  struct Frame {
    std::size_t end = 0, outer_end = 0;
    std::uint32_t items = 0;
  };
  Frame enter(bool list, const char* name) {
    const std::size_t start = at_;
    const auto size = get<std::int64_t>(name);
    if ((size < 0) != list) {
      throw fail(std::string(name) + ": a " + (list ? "list" : "record") + " frame expected, its size is " +
                 std::to_string(size));
    }
    const std::uint64_t bytes = size < 0 ? 0 - static_cast<std::uint64_t>(size) : static_cast<std::uint64_t>(size);
    Frame f;
    if (list) f.items = get<std::uint32_t>(name);
    if (bytes < at_ - start || bytes > end_ - start) {
      throw fail(std::string(name) + ": a frame of " + std::to_string(bytes) + " bytes at byte " +
                 std::to_string(start) + ", beyond its enclosing " + std::to_string(end_));
    }
    f.end = start + static_cast<std::size_t>(bytes);
    f.outer_end = end_;
    end_ = f.end;
    return f;
  }
  void leave(const Frame& f) {
    at_ = f.end;  // frames may grow in later versions: skip what is not read
    end_ = f.outer_end;
  }

  Error fail(const std::string& what) const {
    return corrupt(what_ + ": " + what + " (at byte " + std::to_string(at_) + ")");
  }

 private:
  void need(std::size_t n, const char* name) const {
    if (n > end_ - at_) {
      throw fail(std::string(name) + " cut short: " + std::to_string(n) + " bytes needed, " +
                 std::to_string(end_ - at_) + " left");
    }
  }

  ConstBytes bytes_;
  std::size_t at_ = 0;
  std::size_t end_;
  std::string what_;
};

void read_feature_flags(Cursor& c) {
  for (;;) {
    const auto flags = c.get<std::int64_t>("feature flags");
    if ((flags & 0x7FFFFFFFFFFFFFFF) != 0) {
      throw Error(ErrorCode::unsupported_format,
                  "the RNTuple uses feature flags this reader does not know (" + std::to_string(flags) + ")");
    }
    if (flags >= 0) return;
  }
}

struct Locator {
  std::uint64_t offset = 0, size = 0;
};

Locator read_locator(Cursor& c) {
  const auto head = c.get<std::int32_t>("locator");
  if (head >= 0) return {c.get<std::uint64_t>("locator offset"), static_cast<std::uint64_t>(head)};
  const auto raw = static_cast<std::uint32_t>(head);
  const std::uint32_t type = (raw >> 24) & 0x7F;
  const std::uint32_t size = raw & 0xFFFF;
  const std::size_t start = c.at() - 4;
  if (type != 0x01) {
    throw Error(ErrorCode::unsupported_format,
                "a locator of type " + std::to_string(type) + " (only on-disk and large locators are read)");
  }
  Locator l;
  l.size = c.get<std::uint64_t>("large locator size");
  l.offset = c.get<std::uint64_t>("large locator offset");
  c.seek(std::max(c.at(), start + size));
  return l;
}

// An envelope of `type` from the file, its bytes decompressed into `out`,
// its length and xxHash3 checked. Returns its payload (after the preamble,
// before the checksum).
ConstBytes read_envelope(const InputBuffer& file, std::uint64_t offset, std::uint64_t nbytes,
                         std::uint64_t length, std::uint16_t type, const std::string& what,
                         std::vector<std::byte>& out) {
  const std::string where = what + " envelope (" + range(offset, nbytes) + ", " +
                            std::to_string(length) + " bytes decompressed)";
  if (offset > file.size() || nbytes > file.size() - offset) {
    throw corrupt(where + ": outside the " + std::to_string(file.size()) + "-byte file");
  }
  if (length < 16) throw corrupt(where + ": an envelope cannot be " + std::to_string(length) + " bytes");
  const ConstBytes stored = file.bytes().subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(nbytes));
  if (nbytes != length) {
    // Compressed: the blocks' headers must add up to the length before it is allocated.
    const auto decoded = detail::root_blocks_decoded_size(stored);
    if (!decoded) throw corrupt(where + ": its bytes are not whole ROOT compression blocks");
    if (*decoded != length) {
      throw corrupt(where + ": its compression blocks hold " + std::to_string(*decoded) + " bytes");
    }
  }
  out.resize(static_cast<std::size_t>(length));
  try {
    if (nbytes == length) {
      std::memcpy(out.data(), stored.data(), out.size());
    } else {
      const std::size_t written = thread_decoder().root_blocks_into(stored, out);
      if (written != out.size()) {
        throw corrupt("decodes to " + std::to_string(written) + " bytes");
      }
    }
  } catch (const Error& e) {
    throw Error(e.code(), where + ": " + e.cause());
  }
  std::uint64_t preamble;
  std::memcpy(&preamble, out.data(), 8);
  if ((preamble & 0xFFFF) != type) {
    throw corrupt(where + ": its type is " + std::to_string(preamble & 0xFFFF) + ", not " + std::to_string(type));
  }
  if ((preamble >> 16) != length) {
    throw corrupt(where + ": it says it is " + std::to_string(preamble >> 16) + " bytes long");
  }
  std::uint64_t stored_sum;
  std::memcpy(&stored_sum, out.data() + out.size() - 8, 8);
  const std::uint64_t sum = detail::xxh3_64(out.data(), out.size() - 8);
  if (sum != stored_sum) {
    throw Error(ErrorCode::checksum_mismatch, where + ": its xxHash3 does not match");
  }
  return ConstBytes(out).subspan(8, out.size() - 16);
}

// The header's or footer's records after their feature flags (which both
// start with), from the envelope `read_envelope` reads into `out`.
Cursor flagged_envelope(const InputBuffer& file, std::uint64_t offset, std::uint64_t nbytes,
                        std::uint64_t length, std::uint16_t type, const std::string& what,
                        std::vector<std::byte>& out) {
  Cursor c(read_envelope(file, offset, nbytes, length, type, what, out), what + " envelope");
  read_feature_flags(c);
  return c;
}

}  // namespace

// ------------------------------------------------------------------ anchor

RNTupleAnchor read_rntuple_anchor(const RootFile& file, std::string_view path) {
  const auto key = file.find(path);
  if (!key) throw Error(ErrorCode::invalid_argument, file.name() + ": no key '" + std::string(path) + "'");
  if (key->class_name != "ROOT::RNTuple") {
    throw Error(ErrorCode::invalid_argument, file.describe(*key) + " is a " + key->class_name + ", not an RNTuple");
  }
  const std::vector<std::byte> object = file.read_object(*key);
  // A byte count (with ROOT's 0x40000000 flag) and a class version, then
  // epoch, major, minor, patch (16 bits each) and seven 64-bit fields, all
  // big-endian; then the xxHash3 of those 64 bytes.
  constexpr std::size_t fields = 4 * 2 + 7 * 8;
  if (object.size() < 6 + fields + 8 || (load_be<4>(object.data()) & 0x40000000u) == 0) {
    throw corrupt(file.describe(*key) + ": an RNTuple anchor of " + std::to_string(object.size()) +
                  " bytes, not a byte count, a version and " + std::to_string(fields + 8));
  }
  const std::byte* p = object.data() + 6;
  if (load_be<2>(p) != 1) {
    throw Error(ErrorCode::unsupported_format,
                file.describe(*key) + ": RNTuple format epoch " + std::to_string(load_be<2>(p)) + " (this reader reads 1)");
  }
  if (detail::xxh3_64(p, fields) != load_be<8>(p + fields)) {
    throw Error(ErrorCode::checksum_mismatch, file.describe(*key) + ": the RNTuple anchor's xxHash3 does not match");
  }
  const std::byte* q = p + 8;
  return RNTupleAnchor{load_be<8>(q), load_be<8>(q + 8), load_be<8>(q + 16), load_be<8>(q + 24),
                       load_be<8>(q + 32), load_be<8>(q + 40), load_be<8>(q + 48)};
}

// ------------------------------------------------------------------ schema

namespace {

struct Schema {
  std::vector<RNTupleField>& fields;
  std::vector<RNTupleColumn>& columns;
};

void read_schema(Cursor& c, Schema s) {
  const auto field_list = c.enter(true, "field list");
  for (std::uint32_t i = 0; i < field_list.items; ++i) {
    const auto frame = c.enter(false, "field record");
    RNTupleField f;
    f.field_version = c.get<std::uint32_t>("field version");
    f.type_version = c.get<std::uint32_t>("type version");
    f.parent = c.get<std::uint32_t>("parent field id");
    f.role = c.get<std::uint16_t>("structural role");
    f.flags = c.get<std::uint16_t>("field flags");
    f.name = c.string("field name");
    f.type = c.string("field type");
    f.alias = c.string("type alias");
    f.description = c.string("field description");
    if (f.flags & 0x1) f.array_size = c.get<std::uint64_t>("array size");
    if (f.flags & 0x2) f.source = c.get<std::uint32_t>("source field id");
    c.leave(frame);
    s.fields.push_back(std::move(f));
  }
  c.leave(field_list);

  const auto column_list = c.enter(true, "column list");
  for (std::uint32_t i = 0; i < column_list.items; ++i) {
    const auto frame = c.enter(false, "column record");
    RNTupleColumn col;
    col.type = c.get<std::uint16_t>("column type");
    col.bits = c.get<std::uint16_t>("bits on storage");
    col.field = c.get<std::uint32_t>("column field id");
    col.flags = c.get<std::uint16_t>("column flags");
    col.representation = c.get<std::uint16_t>("representation index");
    if (col.flags & 0x1) col.first_element = c.get<std::int64_t>("first element index");
    if (col.flags & 0x2) {
      col.min = c.get<double>("min value");
      col.max = c.get<double>("max value");
    }
    c.leave(frame);
    if (col.field >= s.fields.size()) {
      throw c.fail("column " + std::to_string(s.columns.size()) + " belongs to field " +
                   std::to_string(col.field) + " of " + std::to_string(s.fields.size()));
    }
    s.fields[col.field].columns.push_back(static_cast<std::uint32_t>(s.columns.size()));
    s.columns.push_back(col);
  }
  c.leave(column_list);

  const auto alias_list = c.enter(true, "alias column list");
  for (std::uint32_t i = 0; i < alias_list.items; ++i) {
    const auto frame = c.enter(false, "alias column record");
    const auto physical = c.get<std::uint32_t>("physical column id");
    const auto field = c.get<std::uint32_t>("alias field id");
    c.leave(frame);
    if (physical >= s.columns.size() || field >= s.fields.size()) {
      throw c.fail("an alias column of field " + std::to_string(field) + " for column " +
                   std::to_string(physical) + " (" + std::to_string(s.fields.size()) + " fields, " +
                   std::to_string(s.columns.size()) + " columns)");
    }
    s.fields[field].columns.push_back(physical);
  }
  c.leave(alias_list);

  const auto types = c.enter(true, "extra type information list");
  c.leave(types);  // streamer infos: not needed to read numbers
}

}  // namespace

// ------------------------------------------------------------------ reading

RNTuple::RNTuple(std::shared_ptr<const InputBuffer> file, const RNTupleAnchor& anchor,
                 std::string name)
    : name_(std::move(name)), file_(std::move(file)), anchor_(anchor), max_key_size_(anchor.max_key_size) {
  if (!file_) throw Error(ErrorCode::invalid_argument, "RNTuple: a null file");
  const InputBuffer& f = *file_;
  std::vector<std::byte> header_bytes, footer_bytes, page_list_bytes;
  {
    Cursor c = flagged_envelope(f, anchor.seek_header, anchor.nbytes_header, anchor.len_header, 1,
                                "header", header_bytes);
    c.string("ntuple name");
    c.string("ntuple description");
    c.string("writer");
    read_schema(c, {fields_, columns_});
  }
  const std::uint64_t header_sum = detail::xxh3_64(header_bytes.data(), header_bytes.size() - 8);
  struct Group {
    std::uint32_t clusters;
    std::uint64_t length;
    Locator at;
  };
  std::vector<Group> groups;
  {
    Cursor c = flagged_envelope(f, anchor.seek_footer, anchor.nbytes_footer, anchor.len_footer, 2,
                                "footer", footer_bytes);
    if (c.get<std::uint64_t>("header checksum") != header_sum) {
      throw c.fail("its header checksum is not the header's xxHash3: header and footer disagree");
    }
    const auto extension = c.enter(false, "schema extension");
    if (c.at() < extension.end) read_schema(c, {fields_, columns_});
    c.leave(extension);
    const auto group_list = c.enter(true, "cluster group list");
    for (std::uint32_t i = 0; i < group_list.items; ++i) {
      const auto frame = c.enter(false, "cluster group record");
      c.get<std::uint64_t>("minimum entry");
      c.get<std::uint64_t>("entry span");
      Group g{};
      g.clusters = c.get<std::uint32_t>("number of clusters");
      g.length = c.get<std::uint64_t>("page list length");
      g.at = read_locator(c);
      c.leave(frame);
      groups.push_back(g);
    }
    c.leave(group_list);
  }
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    RNTupleField& field = fields_[i];
    if (field.parent >= fields_.size()) {
      throw corrupt("header: field " + std::to_string(i) + " ('" + field.name + "') has parent " +
                    std::to_string(field.parent) + " of " + std::to_string(fields_.size()) + " fields");
    }
    std::uint16_t reps = 0;
    for (const std::uint32_t col : field.columns) reps = std::max<std::uint16_t>(reps, columns_[col].representation + 1);
    field.representations = reps;
    if (reps != 0 && field.columns.size() % reps != 0) {
      throw corrupt("header: field '" + field.name + "' has " + std::to_string(field.columns.size()) +
                    " columns in " + std::to_string(reps) + " representations");
    }
  }

  const std::size_t ncolumns = columns_.size();
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const std::string what = "cluster group " + std::to_string(g) + " page list";
    const ConstBytes list = read_envelope(f, groups[g].at.offset, groups[g].at.size, groups[g].length, 3,
                                          what, page_list_bytes);
    Cursor c(list, what + " envelope");
    if (c.get<std::uint64_t>("header checksum") != header_sum) {
      throw c.fail("its header checksum is not the header's xxHash3");
    }
    const std::size_t first_cluster = clusters_.size();
    const auto summaries = c.enter(true, "cluster summaries");
    for (std::uint32_t i = 0; i < summaries.items; ++i) {
      const auto frame = c.enter(false, "cluster summary");
      RNTupleCluster cluster;
      cluster.first_entry = c.get<std::uint64_t>("first entry");
      const auto word = c.get<std::uint64_t>("entries and flags");
      cluster.entries = word & 0x00FFFFFFFFFFFFFF;
      if ((word >> 56) & 0x01) {
        throw Error(ErrorCode::unsupported_format, what + ": cluster " + std::to_string(clusters_.size()) +
                                                       " is sharded (a later format)");
      }
      c.leave(frame);
      cluster.columns.resize(ncolumns);
      clusters_.push_back(std::move(cluster));
    }
    c.leave(summaries);
    if (summaries.items != groups[g].clusters) {
      throw c.fail(std::to_string(summaries.items) + " cluster summaries, the footer says " +
                   std::to_string(groups[g].clusters));
    }
    const auto cluster_list = c.enter(true, "page locations");
    if (cluster_list.items != summaries.items) {
      throw c.fail(std::to_string(cluster_list.items) + " clusters of pages for " +
                   std::to_string(summaries.items) + " cluster summaries");
    }
    for (std::uint32_t k = 0; k < cluster_list.items; ++k) {
      RNTupleCluster& cluster = clusters_[first_cluster + k];
      const auto column_list = c.enter(true, "cluster's columns");
      if (column_list.items > ncolumns) {
        throw c.fail("cluster " + std::to_string(first_cluster + k) + " lists " +
                     std::to_string(column_list.items) + " columns, the schema has " + std::to_string(ncolumns));
      }
      for (std::uint32_t col = 0; col < column_list.items; ++col) {
        RNTupleColumnRange& r = cluster.columns[col];
        const auto pages = c.enter(true, "column's pages");
        r.present = true;
        r.page_begin = cluster.pages.size();
        for (std::uint32_t p = 0; p < pages.items; ++p) {
          const auto n = c.get<std::int32_t>("page element count");
          RNTuplePage page;
          page.checksum = n < 0;
          page.elements = n < 0 ? 0 - static_cast<std::uint64_t>(static_cast<std::int64_t>(n)) : static_cast<std::uint64_t>(n);
          const Locator at = read_locator(c);
          page.offset = at.offset;
          page.size = at.size;
          r.elements += page.elements;
          cluster.pages.push_back(page);
        }
        r.page_end = cluster.pages.size();
        const auto first = c.get<std::int64_t>("element offset");
        r.suppressed = first < 0;
        r.first_element = r.suppressed ? 0 : static_cast<std::uint64_t>(first);
        if (!r.suppressed) r.compression = c.get<std::uint32_t>("compression settings");
        c.leave(pages);
      }
      c.leave(column_list);
    }
    c.leave(cluster_list);
  }
  // A suppressed column's elements are its primary representation's (the
  // same slot of the field's representation that is not suppressed).
  for (RNTupleCluster& cluster : clusters_) {
    for (const RNTupleField& field : fields_) {
      if (field.representations < 2) continue;
      const std::size_t per = field.columns.size() / field.representations;
      for (std::size_t slot = 0; slot < per; ++slot) {
        const RNTupleColumnRange* primary = nullptr;
        for (std::size_t r = 0; r < field.representations; ++r) {
          const RNTupleColumnRange& range_r = cluster.columns[field.columns[r * per + slot]];
          if (range_r.present && !range_r.suppressed) primary = &range_r;
        }
        if (primary == nullptr) continue;
        for (std::size_t r = 0; r < field.representations; ++r) {
          RNTupleColumnRange& range_r = cluster.columns[field.columns[r * per + slot]];
          if (range_r.suppressed) {
            range_r.first_element = primary->first_element;
            range_r.elements = primary->elements;
          }
        }
      }
    }
  }
}

std::uint64_t RNTuple::entries() const noexcept {
  std::uint64_t n = 0;
  for (const RNTupleCluster& c : clusters_) n = std::max(n, c.first_entry + c.entries);
  return n;
}

// ------------------------------------------------------------------ columns

namespace {

enum ColumnType : std::uint16_t {
  kBit = 0x00, kByte, kChar, kInt8, kUInt8, kInt16, kUInt16, kInt32, kUInt32, kInt64, kUInt64,
  kReal16, kReal32, kReal64, kIndex32, kIndex64, kSwitch, kSplitInt16, kSplitUInt16, kSplitInt32,
  kSplitUInt32, kSplitInt64, kSplitUInt64, kSplitReal16, kSplitReal32, kSplitReal64,
  kSplitIndex32, kSplitIndex64, kReal32Trunc, kReal32Quant,
};

const char* column_type_name(std::uint16_t t) {
  static constexpr const char* names[] = {
      "Bit", "Byte", "Char", "Int8", "UInt8", "Int16", "UInt16", "Int32", "UInt32", "Int64", "UInt64",
      "Real16", "Real32", "Real64", "Index32", "Index64", "Switch", "SplitInt16", "SplitUInt16",
      "SplitInt32", "SplitUInt32", "SplitInt64", "SplitUInt64", "SplitReal16", "SplitReal32",
      "SplitReal64", "SplitIndex32", "SplitIndex64", "Real32Trunc", "Real32Quant"};
  return t < std::size(names) ? names[t] : "unknown";
}

bool is_index(std::uint16_t t) {
  return t == kIndex32 || t == kIndex64 || t == kSplitIndex32 || t == kSplitIndex64;
}

// How a column type's pages are stored; nullopt for types not decoded.
std::optional<RootPageCoding> page_coding(const RNTupleColumn& col) {
  RootPageCoding p;
  const auto values = [&](RootType t, bool split = false, bool zigzag = false) {
    p.coding = ElementCoding::le_values;
    p.stored_type = t;
    p.split = split;
    p.zigzag = zigzag;
    return p;
  };
  switch (col.type) {
    case kBit: p.coding = ElementCoding::le_bits; return p;
    case kByte: case kChar: case kUInt8: return values(RootType::uint8);
    case kInt8: return values(RootType::int8);
    case kInt16: return values(RootType::int16);
    case kUInt16: return values(RootType::uint16);
    case kInt32: return values(RootType::int32);
    case kUInt32: return values(RootType::uint32);
    case kInt64: return values(RootType::int64);
    case kUInt64: return values(RootType::uint64);
    case kReal16: return values(RootType::float16);
    case kReal32: return values(RootType::float32);
    case kReal64: return values(RootType::float64);
    case kSplitInt16: return values(RootType::int16, true, true);
    case kSplitUInt16: return values(RootType::uint16, true);
    case kSplitInt32: return values(RootType::int32, true, true);
    case kSplitUInt32: return values(RootType::uint32, true);
    case kSplitInt64: return values(RootType::int64, true, true);
    case kSplitUInt64: return values(RootType::uint64, true);
    case kSplitReal16: return values(RootType::float16, true);
    case kSplitReal32: return values(RootType::float32, true);
    case kSplitReal64: return values(RootType::float64, true);
    case kIndex32: case kIndex64: case kSplitIndex32: case kSplitIndex64:
      p.coding = ElementCoding::le_index;
      p.stored_type = (col.type == kIndex32 || col.type == kSplitIndex32) ? RootType::uint32 : RootType::uint64;
      p.split = col.type == kSplitIndex32 || col.type == kSplitIndex64;
      return p;
    case kSwitch:
      p.coding = ElementCoding::le_switch;
      p.stored_type = RootType::uint64;
      return p;
    case kReal32Trunc:
    case kReal32Quant:
      if (col.bits < 1 || col.bits > 32 || (col.type == kReal32Trunc && col.bits < 10)) return std::nullopt;
      p.coding = col.type == kReal32Trunc ? ElementCoding::le_real32_trunc : ElementCoding::le_real32_quant;
      p.nbits = static_cast<std::uint8_t>(col.bits);
      p.low = col.min;
      p.high = col.max;
      return p;
    default: return std::nullopt;
  }
}

// The values' type of a column type as uproot gives it.
std::optional<RootType> column_value_type(const RNTupleColumn& col) {
  const auto p = page_coding(col);
  if (!p) return std::nullopt;
  switch (p->coding) {
    case ElementCoding::le_bits: return RootType::boolean;
    case ElementCoding::le_index:
    case ElementCoding::le_switch: return RootType::int64;
    case ElementCoding::le_real32_trunc:
    case ElementCoding::le_real32_quant: return RootType::float32;
    default: return p->stored_type;
  }
}

// NumPy's result_type for two of our types (the types a field's
// representations share), or nullopt when they do not mix.
std::optional<RootType> wider(RootType a, RootType b) {
  if (a == b) return a;
  const auto rank = [](RootType t) -> int {
    switch (t) {
      case RootType::float16: return 0;
      case RootType::float32: return 1;
      case RootType::float64: return 2;
      default: return -1;
    }
  };
  if (rank(a) >= 0 && rank(b) >= 0) return rank(a) > rank(b) ? a : b;
  const auto signed_bits = [](RootType t) -> std::pair<bool, unsigned> {
    return {t == RootType::int8 || t == RootType::int16 || t == RootType::int32 || t == RootType::int64,
            root_type_width(t) * 8};
  };
  if (rank(a) >= 0 || rank(b) >= 0 || a == RootType::boolean || b == RootType::boolean) return std::nullopt;
  const auto [sa, wa] = signed_bits(a);
  const auto [sb, wb] = signed_bits(b);
  if (sa == sb) return wa >= wb ? a : b;
  // Mixed signedness: the signed type that holds both, as NumPy does.
  const unsigned need = std::max(sa ? wa : wa * 2, sb ? wb : wb * 2);
  if (need > 64) return std::nullopt;
  return need <= 8 ? RootType::int8 : need <= 16 ? RootType::int16 : need <= 32 ? RootType::int32 : RootType::int64;
}

}  // namespace

RootType RNTuple::value_type(std::uint32_t field_id, std::uint32_t slot) const {
  if (field_id >= fields_.size()) {
    throw Error(ErrorCode::invalid_argument, "RNTuple '" + name_ + "': no field " + std::to_string(field_id));
  }
  const RNTupleField& field = fields_[field_id];
  const std::size_t per = field.representations ? field.columns.size() / field.representations : 0;
  if (slot >= per) {
    throw Error(ErrorCode::invalid_argument, "RNTuple '" + name_ + "': field '" + field.name + "' has " +
                                                 std::to_string(per) + " columns, not " + std::to_string(slot + 1));
  }
  std::optional<RootType> type;
  for (std::size_t r = 0; r < field.representations; ++r) {
    const RNTupleColumn& col = columns_[field.columns[r * per + slot]];
    const auto t = column_value_type(col);
    if (t) type = type ? wider(*type, *t) : t;
    if (!t || !type) {
      throw Error(ErrorCode::unsupported_format,
                  "field '" + field.name + "' (" + field.type + "): its " + column_type_name(col.type) + " column (" +
                      std::to_string(col.bits) + " bits) is not decoded");
    }
  }
  return *type;
}

std::optional<std::pair<std::uint32_t, std::uint64_t>> RNTuple::counted_column(
    std::uint32_t field_id, std::uint32_t slot) const {
  // An index column counts the elements of the collection's child: the
  // principal column of its first descendant that has one, through records
  // and fixed-size arrays (whose sizes divide that column's elements), not
  // through collections. A string's characters are its own second column.
  const RNTupleField& field = fields_[field_id];
  const std::size_t per = field.representations ? field.columns.size() / field.representations : 0;
  if (slot != 0) return std::nullopt;
  if (per == 2 && field.role == 0) return std::pair{field.columns[1], std::uint64_t{1}};
  // A projected field without subfields (ROOT::RNTupleCardinality) counts
  // what its source collection counts.
  if ((field.flags & 0x2) != 0 && field.source < fields_.size() && field.source != field_id) {
    bool has_children = false;
    for (std::uint32_t i = 0; i < fields_.size(); ++i) has_children |= i != field_id && fields_[i].parent == field_id;
    if (!has_children) return counted_column(field.source, slot);
  }
  const auto child = first_child(field_id);
  return child ? entry_column(*child) : std::nullopt;
}

std::optional<std::uint32_t> RNTuple::first_child(std::uint32_t field_id) const {
  for (std::uint32_t i = 0; i < fields_.size(); ++i) {
    if (i != field_id && fields_[i].parent == field_id) return i;
  }
  return std::nullopt;
}

std::optional<std::pair<std::uint32_t, std::uint64_t>> RNTuple::entry_column(std::uint32_t at) const {
  // The principal column of `at` or of its first descendant that has one,
  // through records and fixed-size arrays (their sizes multiply): one
  // element per entry of `at` (a collection's or a string's index too),
  // times those repetitions.
  std::uint64_t repeat = 1;
  for (int depth = 0; depth < 64; ++depth) {
    const RNTupleField& f = fields_[at];
    if ((f.flags & 0x1) != 0) repeat *= f.array_size;  // std::array, std::bitset: N per element
    if (!f.columns.empty()) {
      if (repeat == 0) return std::nullopt;
      return std::pair{f.columns[0], repeat};
    }
    const auto child = first_child(at);
    if (!child) return std::nullopt;
    at = *child;
  }
  return std::nullopt;
}

std::uint64_t RNTuple::cluster_start(std::uint32_t field_id, std::uint32_t column,
                                     std::size_t cluster) const {
  // Where the cluster before ends, if it stores the column (a column added
  // later is absent from the clusters before; any representation counts).
  const RNTupleField& field = fields_[field_id];
  const std::size_t per = field.representations ? field.columns.size() / field.representations : 1;
  std::size_t slot = 0;
  for (std::size_t i = 0; i < field.columns.size(); ++i) {
    if (field.columns[i] == column) slot = i % per;
  }
  for (std::size_t k = cluster; k-- > 0;) {
    for (std::size_t r = 0; r < std::max<std::size_t>(field.representations, 1); ++r) {
      const RNTupleColumnRange& range_k = clusters_[k].columns[field.columns[r * per + slot]];
      if (range_k.present) return range_k.first_element + range_k.elements;
    }
  }
  if (cluster == 0 || cluster > clusters_.size()) return 0;
  // Stored in no cluster before: a column whose elements follow the entries
  // (no collection above it) starts at the cluster's first entry times the
  // repetitions above it; one inside collections held none (its
  // collections were empty: zeros).
  std::uint64_t repeat = 1;
  for (std::uint32_t at = field_id;; at = fields_[at].parent) {
    const RNTupleField& f = fields_[at];
    if (f.flags & 0x1) repeat *= f.array_size;
    if (at != field_id && (f.role == 1 || (f.role == 0 && !f.columns.empty()))) return 0;
    if (f.parent == at) break;
  }
  return (cluster < clusters_.size() ? clusters_[cluster].first_entry : entries()) * repeat;
}

std::uint64_t RNTuple::collection_elements(std::uint32_t field_id, std::uint32_t slot,
                                           std::size_t cluster_begin, std::size_t cluster_end) const {
  const auto c = counted_column(field_id, slot);
  if (!c || cluster_begin >= cluster_end || cluster_end > clusters_.size()) return 0;
  std::uint64_t n = 0;
  for (std::size_t k = cluster_begin; k < cluster_end; ++k) {
    const RNTupleColumnRange& r = clusters_[k].columns[c->first];
    if (r.present) n += r.elements;
  }
  return n / c->second;
}

RootBranchSpec RNTuple::column_spec(std::uint32_t field_id, std::uint32_t slot, std::size_t cluster_begin,
                                    std::size_t cluster_end, std::string name, std::uint32_t file) const {
  const RootType type = value_type(field_id, slot);  // checks field and slot
  if (cluster_begin > cluster_end || cluster_end > clusters_.size()) {
    throw Error(ErrorCode::invalid_argument, "RNTuple '" + name_ + "': clusters [" + std::to_string(cluster_begin) +
                                                 ", " + std::to_string(cluster_end) + ") of " +
                                                 std::to_string(clusters_.size()));
  }
  const RNTupleField& field = fields_[field_id];
  const std::size_t per = field.columns.size() / field.representations;
  const auto unsupported = [&](const std::string& what) {
    return Error(ErrorCode::unsupported_format, "field '" + field.name + "' (" + field.type + "): " + what);
  };
  RootBranchSpec spec;
  spec.name = std::move(name);
  spec.type = type;
  spec.coding = ElementCoding::le_values;

  std::optional<std::uint32_t> counted;  // a column whose elements / `repeat` are the count
  std::uint64_t repeat = 1;
  const bool index = is_index(columns_[field.columns[slot]].type);
  if (index) {
    const auto c = counted_column(field_id, slot);
    if (!c) throw unsupported("a collection whose elements have no column to count them by");
    counted = c->first;
    repeat = c->second;
  }

  // A variant's switch column points into each alternative's elements.
  std::vector<std::pair<std::uint32_t, std::uint64_t>> alternatives;
  std::vector<std::uint64_t> alternative_origins;
  if (columns_[field.columns[slot]].type == kSwitch) {
    for (std::uint32_t i = 0; i < fields_.size(); ++i) {
      if (i == field_id || fields_[i].parent != field_id) continue;
      const auto e = entry_column(i);
      if (!e) throw unsupported("a variant alternative ('" + fields_[i].name + "') without a column");
      alternatives.push_back(*e);
    }
    if (alternatives.size() > 125) throw corrupt("field '" + field.name + "': a variant of over 125 alternatives");
    for (const auto& [alt_column, alt_repeat] : alternatives) {
      alternative_origins.push_back(cluster_begin < cluster_end
                                        ? cluster_start(columns_[alt_column].field, alt_column, cluster_begin) / alt_repeat
                                        : 0);
    }
  }

  // Element numbers in the read count from the column's first element in
  // the first read cluster (and the collection's, for an index column).
  std::uint64_t origin = 0, count_origin = 0;
  if (cluster_begin < cluster_end) {
    origin = cluster_start(field_id, field.columns[slot], cluster_begin);
    if (counted) count_origin = cluster_start(columns_[*counted].field, *counted, cluster_begin) / repeat;
  }

  std::uint64_t next = 0;  // elements of the read so far
  // Elements not stored (a column added later: those before its first) up
  // to `at` of the read: zeros.
  const auto add_zeros = [&](std::uint64_t at, std::size_t k, const RootPageCoding& coding) {
    if (at <= next) return;
    RootBasketRef z;
    z.framing = ChunkFraming::rntuple_zeros;
    z.entry_begin = next;
    z.entry_end = at;
    z.file = file;
    z.number = 0;
    z.page = coding;
    z.page.value_base = 0;
    z.page.cluster = k;
    spec.baskets.push_back(z);
    next = at;
  };
  for (std::size_t k = cluster_begin; k < cluster_end; ++k) {
    const RNTupleCluster& cluster = clusters_[k];
    // The representation that is primary in this cluster.
    std::optional<std::uint32_t> column;
    for (std::size_t r = 0; r < field.representations; ++r) {
      const std::uint32_t col = field.columns[r * per + slot];
      if (cluster.columns[col].present && !cluster.columns[col].suppressed) column = col;
    }
    if (!column) continue;  // not stored in this cluster (a column added later): zeros below
    const RNTupleColumnRange& range_k = cluster.columns[*column];
    const RNTupleColumn& col = columns_[*column];
    const auto coding = page_coding(col);
    if (!coding) throw unsupported(std::string("its ") + column_type_name(col.type) + " column is not decoded");
    if (range_k.first_element < origin || range_k.first_element - origin < next) {
      throw corrupt("field '" + field.name + "' cluster " + std::to_string(k) + ": its column " +
                    std::to_string(*column) + " starts at element " + std::to_string(range_k.first_element) +
                    ", before the elements of the clusters before it end (" + std::to_string(origin + next) + ")");
    }
    add_zeros(range_k.first_element - origin, k, *coding);
    RootPageCoding pc = *coding;
    if (pc.coding == ElementCoding::le_switch) {
      // Per alternative (tag k + 1): where its elements start in this
      // cluster, counted from the first read cluster, and how many it has.
      for (std::size_t a = 0; a < alternatives.size(); ++a) {
        const auto [alt_column, alt_repeat] = alternatives[a];
        const RNTupleColumnRange& cr = cluster.columns[alt_column];
        const std::uint64_t first = cr.present ? cr.first_element / alt_repeat : alternative_origins[a];
        pc.tag_bases.push_back(static_cast<std::int64_t>(first - std::min(first, alternative_origins[a])));
        pc.tag_bases.push_back(static_cast<std::int64_t>(cr.present ? cr.elements / alt_repeat : 0));
      }
    }
    if (counted) {
      const RNTupleColumnRange& cr = cluster.columns[*counted];
      const std::uint64_t first = cr.present ? cr.first_element / repeat : count_origin;
      if (first < count_origin) {
        throw corrupt("field '" + field.name + "' cluster " + std::to_string(k) +
                      ": its collection's elements start before the first cluster's");
      }
      pc.value_base = static_cast<std::int64_t>(first - count_origin);
      pc.value_limit = cr.present ? cr.elements / repeat : 0;
    }
    for (std::size_t p = range_k.page_begin; p < range_k.page_end; ++p) {
      const RNTuplePage& page = cluster.pages[p];
      if (max_key_size_ != 0 && page.size > max_key_size_) {
        throw unsupported("page " + std::to_string(p - range_k.page_begin) + " of cluster " + std::to_string(k) +
                          " is " + std::to_string(page.size) + " bytes, over the file's " +
                          std::to_string(max_key_size_) + "-byte keys (stored in several keys: not read)");
      }
      RootBasketRef b;
      b.seek = page.offset;
      b.bytes = page.size + (page.checksum ? 8 : 0);
      b.entry_begin = next;
      b.entry_end = next + page.elements;
      b.file = file;
      b.number = p - range_k.page_begin;
      b.framing = ChunkFraming::rntuple_page;
      b.page = pc;
      b.page.checksum = page.checksum;
      b.page.cluster = k;
      spec.baskets.push_back(b);
      next += page.elements;
    }
  }
  if (cluster_begin < cluster_end) {
    // Clusters at the end that do not store the column: zeros too.
    const auto coding = page_coding(columns_[field.columns[slot]]);
    const std::uint64_t end = cluster_start(field_id, field.columns[slot], cluster_end);
    if (coding && end > origin) add_zeros(end - origin, cluster_end - 1, *coding);
  }
  spec.leading_zero = index;
  return spec;
}

RootTree rntuple_tree(const std::vector<std::shared_ptr<const RNTuple>>& ntuples,
                      const std::vector<RNTupleColumnRef>& columns,
                      const std::vector<std::pair<std::size_t, std::size_t>>& clusters,
                      std::string name) {
  if (ntuples.empty() || clusters.size() != ntuples.size()) {
    throw Error(ErrorCode::invalid_argument, "rntuple_tree: one cluster range per RNTuple");
  }
  std::vector<std::shared_ptr<const InputBuffer>> files;
  for (const auto& t : ntuples) {
    if (!t) throw Error(ErrorCode::invalid_argument, "rntuple_tree: a null RNTuple");
    files.push_back(t->file());
  }
  std::vector<RootBranchSpec> specs;
  for (const RNTupleColumnRef& column : columns) {
    RootBranchSpec spec;
    std::uint64_t elements = 0;  // the files before: their elements of this column
    std::int64_t content = 0;    // an index column: their collections' elements
    for (std::size_t f = 0; f < ntuples.size(); ++f) {
      // Each file's pages after the last's, counts running on.
      const auto [begin, end] = clusters[f];
      RootBranchSpec part = ntuples[f]->column_spec(column.field, column.slot, begin, end, column.name,
                                                    static_cast<std::uint32_t>(f));
      std::uint64_t part_elements = 0;
      for (RootBasketRef& b : part.baskets) {
        b.entry_begin += elements;
        b.entry_end += elements;
        b.page.value_base += content;
        part_elements = b.entry_end - elements;
      }
      if (f == 0) {
        spec = std::move(part);
      } else {
        spec.baskets.insert(spec.baskets.end(), part.baskets.begin(), part.baskets.end());
      }
      elements += part_elements;
      content += static_cast<std::int64_t>(ntuples[f]->collection_elements(column.field, column.slot, begin, end));
    }
    specs.push_back(std::move(spec));
  }
  return RootTree(std::move(files), std::move(specs), std::move(name));
}

}  // namespace decoflow
