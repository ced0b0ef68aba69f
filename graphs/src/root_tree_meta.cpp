#include "decoflow/root_tree_meta.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "decoflow/root_buffer.hpp"

namespace decoflow {

namespace {

// TBufferFile's object tags (ROOT io/io/src/TBufferFile.cxx).
constexpr std::uint32_t byte_count_mask = 0x40000000u;
constexpr std::uint32_t new_class_tag = 0xFFFFFFFFu;
constexpr std::uint32_t class_mask = 0x80000000u;
constexpr std::uint32_t map_offset = 2;
constexpr std::uint32_t is_referenced = 1u << 4;  // TObject::kIsReferenced: a pid follows
constexpr int max_depth = 64;
// A basket whose end entry the table does not hold (its last slot): read
// from the basket's TKey once the tree is parsed.
constexpr std::uint64_t entries_from_key = ~std::uint64_t{0};

[[noreturn]] void unsupported(std::string message) {
  throw Error(ErrorCode::unsupported_format, std::move(message));
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// Sets what a RootBuffer is reading for its errors, and restores the one
// before when the object is read.
class ReadingContext {
 public:
  ReadingContext(RootBuffer& in, std::string context)
      : in_(in), before_(in.swap_context(std::move(context))) {}
  ~ReadingContext() { in_.swap_context(std::move(before_)); }
  ReadingContext(const ReadingContext&) = delete;
  ReadingContext& operator=(const ReadingContext&) = delete;

 private:
  RootBuffer& in_;
  std::string before_;
};

// Reads one TTree payload: the objects by ROOT's streamer rules, the branches
// into a flat store (by their tags, so a reference to a branch or leaf read
// before resolves to it), then the tree assembled depth first.
class TreeParser {
 public:
  TreeParser(ConstBytes payload, std::string where, std::uint32_t keylen)
      : in_(payload, std::move(where)), keylen_(keylen) {}

  RootTreeMeta parse();
  /// The streamer info record (a TList of TStreamerInfo): per class name,
  /// its highest version's elements as (name, type name, title).
  struct Element {
    std::string name, type_name, title;
    std::string element_class;  ///< TStreamerBase, TStreamerBasicType, ...
    std::int32_t type = -1;     ///< fType (TVirtualStreamerInfo's EReadWrite codes)
    std::int32_t array_length = 0;  ///< fArrayLength: values of a fixed array, else 0
  };
  std::map<std::string, std::pair<std::int32_t, std::vector<Element>>> parse_streamer_infos();

 private:
  struct Branch {
    RootBranchMeta meta;
    std::vector<std::size_t> children;  // indices in branches_
  };
  // What an object reference in a TObjArray resolved to.
  struct Object {
    enum class Kind { none, branch, leaf, basket, array, info, element, other } kind = Kind::none;
    std::size_t index = 0;
  };

  Object read_any(std::string_view what, int depth);
  Object read_object_of(const std::string& class_name, std::uint32_t tag, std::string_view what,
                        int depth);
  std::vector<Object> read_obj_array(std::string_view what, int depth);
  void read_tobject(std::string_view what);
  std::pair<std::string, std::string> read_named(std::string_view what);
  void skip_versioned(std::string_view what);
  std::size_t read_branch(const std::string& class_name, std::string_view what, int depth);
  void read_tbranch_members(Branch& b, std::string_view what, int depth);
  std::size_t read_leaf(const std::string& class_name, std::string_view what, int depth);
  std::size_t read_basket(std::string_view what);

  RootBuffer in_;
  std::uint32_t keylen_;
  std::map<std::uint32_t, std::string> classes_;
  std::map<std::uint32_t, Object> objects_;
  std::vector<Branch> branches_;
  std::vector<RootLeafMeta> leaves_;
  std::vector<RootEmbeddedBasket> baskets_;
  std::vector<std::vector<Object>> arrays_;
  std::vector<Element> elements_;
  struct Info {
    std::string class_name;
    std::int32_t version = 0;
    std::size_t array = 0;  // its fElements in arrays_
    bool has_elements = false;
  };
  std::vector<Info> infos_;
};

void TreeParser::read_tobject(std::string_view what) {
  in_.i16(what);  // TObject's version, never with a byte count
  in_.u32(what);  // fUniqueID
  const std::uint32_t bits = in_.u32(what);
  if (bits & is_referenced) in_.u16(what);
}

std::pair<std::string, std::string> TreeParser::read_named(std::string_view what) {
  const RootVersion v = in_.version(what);
  read_tobject(what);
  std::string name = in_.tstring(what);
  std::string title = in_.tstring(what);
  in_.skip_to_end(v, what);
  return {std::move(name), std::move(title)};
}

void TreeParser::skip_versioned(std::string_view what) {
  const RootVersion v = in_.version(what);
  if (!v.end) in_.fail(what, in_.position(), 0, "has no byte count to skip it by");
  in_.skip_to_end(v, what);
}

TreeParser::Object TreeParser::read_any(std::string_view what, int depth) {
  if (depth > max_depth) in_.fail(what, in_.position(), 0, "objects nested too deep");
  const std::size_t beg = in_.position();
  const std::uint32_t first = in_.u32(what);
  std::optional<std::size_t> end;
  std::uint32_t tag = first;
  std::size_t start = beg;
  if ((first & byte_count_mask) && first != new_class_tag) {
    const std::size_t count = first & ~byte_count_mask;
    if (count > in_.size() - (beg + 4)) {
      in_.fail(what, beg, 4, "its byte count " + std::to_string(count) + " runs past the end");
    }
    end = beg + 4 + count;
    start = in_.position();
    tag = in_.u32(what);
  }
  if (!(tag & class_mask)) {  // a reference to an object read before, or null
    if (tag == 0) return {};
    const auto found = objects_.find(tag);
    if (end) in_.seek(*end, what);
    return found == objects_.end() ? Object{} : found->second;
  }
  std::string class_name;
  if (tag == new_class_tag) {
    class_name = in_.cstring(what);
    if (!end) in_.fail(what, beg, in_.position() - beg, "a new class without a byte count");
    classes_[static_cast<std::uint32_t>(start + map_offset + keylen_)] = class_name;
  } else {
    const auto found = classes_.find(tag & ~class_mask);
    if (found == classes_.end()) {
      in_.fail(what, beg, 8, "refers to class tag " + std::to_string(tag & ~class_mask) +
                                 " that was never defined");
    }
    class_name = found->second;
  }
  if (!end) in_.fail(what, beg, in_.position() - beg, "an object without a byte count");
  const auto object_tag = static_cast<std::uint32_t>(beg + map_offset + keylen_);
  const Object obj = read_object_of(class_name, object_tag, what, depth + 1);
  objects_[object_tag] = obj;
  if (in_.position() > *end) {
    in_.fail(std::string(what) + " (" + class_name + ")", beg, in_.position() - beg,
             "its members run " + std::to_string(in_.position() - *end) +
                 " bytes past its byte count");
  }
  in_.seek(*end, what);
  return obj;
}

TreeParser::Object TreeParser::read_object_of(const std::string& class_name, std::uint32_t tag,
                                              std::string_view what, int depth) {
  if (class_name.rfind("TBranch", 0) == 0) {
    // Registered before its members are read: a sub-object may refer to it.
    objects_[tag] = {Object::Kind::branch, branches_.size()};
    return {Object::Kind::branch, read_branch(class_name, what, depth)};
  }
  if (class_name.rfind("TLeaf", 0) == 0) {
    objects_[tag] = {Object::Kind::leaf, leaves_.size()};
    return {Object::Kind::leaf, read_leaf(class_name, what, depth)};
  }
  if (class_name == "TBasket") return {Object::Kind::basket, read_basket(what)};
  if (class_name == "TObjArray") {
    arrays_.push_back(read_obj_array(what, depth));
    return {Object::Kind::array, arrays_.size() - 1};
  }
  if (class_name == "TStreamerInfo") {
    const RootVersion v = in_.version(what);
    Info info;
    info.class_name = read_named(what).first;
    const ReadingContext reading(in_, "TStreamerInfo of " + quoted(info.class_name));
    in_.u32("fCheckSum");
    info.version = in_.i32("fClassVersion");
    const Object elements = read_any("fElements", depth);
    info.has_elements = elements.kind == Object::Kind::array;
    info.array = elements.index;
    in_.skip_to_end(v, "its members");
    infos_.push_back(std::move(info));
    return {Object::Kind::info, infos_.size() - 1};
  }
  if (class_name.rfind("TStreamer", 0) == 0) {  // an element: TStreamerBase, ...STL, ...
    const RootVersion outer = in_.version(what);
    // TStreamerSTLstring derives from TStreamerSTL; the others from TStreamerElement.
    const std::optional<RootVersion> middle =
        class_name == "TStreamerSTLstring" ? std::optional(in_.version(what)) : std::nullopt;
    const RootVersion base = in_.version(what);  // TStreamerElement
    Element e;
    e.element_class = class_name;
    std::tie(e.name, e.title) = read_named(what);
    const ReadingContext reading(in_, "streamer element " + quoted(e.name));
    e.type = in_.i32("fType");
    in_.i32("fSize");
    e.array_length = in_.i32("fArrayLength");
    in_.i32("fArrayDim");
    if (base.version == 1) {
      const std::int32_t n = in_.i32("fMaxIndex");
      if (n < 0 || n > 5) in_.fail("fMaxIndex", in_.position() - 4, 4, "not 0 to 5 values");
      in_.skip(4 * static_cast<std::size_t>(n), "fMaxIndex");
    } else {
      in_.skip(20, "fMaxIndex");
    }
    e.type_name = in_.tstring("fTypeName");
    in_.skip_to_end(base, "its TStreamerElement members");
    if (middle) in_.skip_to_end(*middle, "its TStreamerSTL members");
    in_.skip_to_end(outer, "its members");
    elements_.push_back(std::move(e));
    return {Object::Kind::element, elements_.size() - 1};
  }
  return {Object::Kind::other, 0};  // skipped by its byte count
}

std::vector<TreeParser::Object> TreeParser::read_obj_array(std::string_view what, int depth) {
  const RootVersion v = in_.version(what);
  if (v.version > 2) read_tobject(what);
  if (v.version > 1) in_.tstring(what);  // fName
  const std::int32_t n = in_.i32(what);
  in_.i32(what);  // fLowerBound
  // Each element takes at least 4 bytes: a larger count lies.
  if (n < 0 || static_cast<std::size_t>(n) > in_.remaining() / 4) {
    in_.fail(what, in_.position() - 8, 4, "its element count " + std::to_string(n) +
                                              " cannot fit in the bytes left");
  }
  std::vector<Object> out;
  out.reserve(static_cast<std::size_t>(n));
  for (std::int32_t i = 0; i < n; ++i) out.push_back(read_any(what, depth));
  in_.skip_to_end(v, what);
  return out;
}

std::size_t TreeParser::read_leaf(const std::string& class_name, std::string_view what,
                                  int depth) {
  const std::size_t index = leaves_.size();
  leaves_.emplace_back();
  RootLeafMeta leaf;
  leaf.class_name = class_name;
  const RootVersion outer = in_.version(what);
  const RootVersion base = in_.version(what);  // TLeaf
  std::tie(leaf.name, leaf.title) = read_named(what);
  const ReadingContext reading(in_, in_.context() + " leaf " + quoted(leaf.name));
  leaf.len = in_.i32("fLen");
  leaf.len_type = in_.i32("fLenType");
  in_.i32("fOffset");
  in_.u8("fIsRange");
  leaf.is_unsigned = in_.u8("fIsUnsigned") != 0;
  leaf.has_count = read_any("fLeafCount", depth).kind != Object::Kind::none;
  in_.skip_to_end(base, "its TLeaf members");
  if (class_name == "TLeafElement") {
    in_.i32("fID");
    leaf.element_type = in_.i32("fType");
  }
  in_.skip_to_end(outer, "its members");
  leaves_[index] = std::move(leaf);
  return index;
}

std::size_t TreeParser::read_basket(std::string_view what) {
  // TBasket::Streamer: its TKey header, the basket's own fields, a flag, then
  // the entry offsets and the buffer as the flag says (below): a second copy
  // of the key, then the values (fLast - fKeylen bytes).
  const std::size_t start = in_.position();
  in_.i32(what);  // fNbytes
  const std::uint16_t key_version = in_.u16(what);
  in_.i32(what);  // fObjlen
  in_.u32(what);  // fDatime
  const std::int16_t keylen = in_.i16(what);
  in_.i16(what);  // fCycle
  in_.skip(key_version > 1000 ? 16 : 8, what);
  in_.tstring(what);
  in_.tstring(what);
  in_.tstring(what);
  in_.u16(what);  // TBasket's version
  in_.i32(what);  // fBufferSize
  const std::int32_t entry_size = in_.i32(what);
  const std::int32_t entries = in_.i32(what);
  const std::int32_t last = in_.i32(what);
  const std::uint8_t flag = in_.u8(what);
  if (keylen < 0 || static_cast<std::size_t>(keylen) != in_.position() - start || entries < 0 ||
      entry_size < 0 || last < keylen) {
    in_.fail(std::string(what) + " embedded TBasket", start, in_.position() - start,
             "its header is inconsistent (fKeylen " + std::to_string(keylen) + ", fNevBuf " +
                 std::to_string(entries) + ", fLast " + std::to_string(last) + ")");
  }
  RootEmbeddedBasket b;
  b.entries = static_cast<std::uint64_t>(entries);
  b.entry_size = static_cast<std::uint64_t>(entry_size);
  const ReadingContext reading(in_, in_.context() + " " + std::string(what) + " embedded TBasket");
  // flag: 0 header only; ≥ 80 offsets to be generated; % 10 != 2 entry
  // offsets follow (21-39: with displacement bits; > 40: a displacement
  // array too); 1 or > 10: the buffer (fLast bytes) follows.
  if (flag == 0 || flag >= 80 || flag > 40) {
    unsupported(in_.where() + ": " + in_.context() + " with flag " + std::to_string(flag) +
                " (no buffer, generated offsets or displacements) is not read natively");
  }
  if (flag % 10 != 2 && entries > 0) {
    const std::int32_t count = in_.i32("entry offsets");
    if (count != entries) {
      in_.fail("entry offsets", in_.position() - 4, 4,
               std::to_string(count) + " offsets for fNevBuf " + std::to_string(entries));
    }
    std::vector<std::int32_t> starts(static_cast<std::size_t>(entries));
    for (auto& s : starts) {
      std::int64_t v = in_.i32("entry offsets");
      if (flag > 20) v &= 0x00FFFFFF;  // displacement bits
      // Each entry starts inside the buffer's values: [fKeylen, fLast].
      if (v < keylen || v > last) {
        in_.fail("entry offsets", in_.position() - 4, 4,
                 "an entry starts at " + std::to_string(v) + ", outside the values [" +
                     std::to_string(keylen) + ", " + std::to_string(last) + "]");
      }
      s = static_cast<std::int32_t>(v - keylen);
    }
    b.starts = std::move(starts);
  }
  if (flag != 1 && flag <= 10) {
    unsupported(in_.where() + ": " + in_.context() + " without its buffer (flag " +
                std::to_string(flag) + ") is not read natively");
  }
  in_.skip(static_cast<std::size_t>(keylen), "buffer");
  const ConstBytes values = in_.take(static_cast<std::size_t>(last - keylen), "values");
  b.values.assign(values.begin(), values.end());
  baskets_.push_back(std::move(b));
  return baskets_.size() - 1;
}

void TreeParser::read_tbranch_members(Branch& b, std::string_view what, int depth) {
  const RootVersion v = in_.version(what);
  if (v.version < 10 || v.version > 13) {
    unsupported(in_.where() + ": " + std::string(what) + ": TBranch class version " +
                std::to_string(v.version) + " is not read natively (10 to 13 are)");
  }
  RootBranchMeta& m = b.meta;
  std::tie(m.name, m.title) = read_named(what);
  const ReadingContext reading(in_, "branch " + quoted(m.name));
  skip_versioned("TAttFill");
  in_.i32("fCompress");
  in_.i32("fBasketSize");
  in_.i32("fEntryOffsetLen");
  const std::int32_t write_basket = in_.i32("fWriteBasket");
  in_.i64("fEntryNumber");
  if (v.version >= 13) skip_versioned("fIOFeatures");
  in_.i32("fOffset");
  const std::int32_t max_baskets = in_.i32("fMaxBaskets");
  in_.i32("fSplitLevel");
  const std::int64_t entries = in_.i64("fEntries");
  if (v.version >= 11) in_.i64("fFirstEntry");
  const std::int64_t tot_bytes = in_.i64("fTotBytes");
  in_.i64("fZipBytes");
  for (const Object& o : read_obj_array("fBranches", depth)) {
    if (o.kind == Object::Kind::branch) b.children.push_back(o.index);
  }
  std::vector<std::size_t> leaf_indices;
  for (const Object& o : read_obj_array("fLeaves", depth)) {
    if (o.kind == Object::Kind::leaf) leaf_indices.push_back(o.index);
  }
  std::vector<std::size_t> basket_indices;
  for (const Object& o : read_obj_array("fBaskets", depth)) {
    if (o.kind == Object::Kind::basket) basket_indices.push_back(o.index);
  }
  if (max_baskets < 0 || static_cast<std::size_t>(max_baskets) > in_.remaining() / 20) {
    in_.fail("fMaxBaskets", in_.position(), 0,
             std::to_string(max_baskets) + " baskets cannot fit in the bytes left");
  }
  const auto n = static_cast<std::size_t>(max_baskets);
  std::vector<std::int64_t> bytes(n), first(n), seeks(n);
  // Each array: a byte saying whether it was written, then its values.
  if (in_.u8("fBasketBytes")) for (auto& x : bytes) x = in_.i32("fBasketBytes");
  if (in_.u8("fBasketEntry")) for (auto& x : first) x = in_.i64("fBasketEntry");
  if (in_.u8("fBasketSeek")) for (auto& x : seeks) x = in_.i64("fBasketSeek");
  const std::string file_name = in_.tstring("fFileName");
  in_.skip_to_end(v, "its TBranch members");
  if (!file_name.empty()) {
    unsupported(in_.where() + ": branch " + quoted(m.name) + " keeps its baskets in file " +
                quoted(file_name) + ", which is not read");
  }
  if (entries < 0 || write_basket < 0 || write_basket > max_baskets) {
    in_.fail("fEntries/fWriteBasket", in_.position(), 0,
             "fEntries " + std::to_string(entries) + ", fWriteBasket " +
                 std::to_string(write_basket) + " of fMaxBaskets " + std::to_string(max_baskets));
  }
  m.entries = static_cast<std::uint64_t>(entries);
  m.tot_bytes = tot_bytes > 0 ? static_cast<std::uint64_t>(tot_bytes) : 0;
  // The baskets on file: up to fWriteBasket, or the first never written.
  std::size_t normal = 0;
  while (normal < static_cast<std::size_t>(write_basket) && seeks[normal] != 0) ++normal;
  std::uint64_t entry = 0;
  for (std::size_t i = 0; i < normal; ++i) {
    const std::int64_t e0 = first[i];
    // fBasketEntry[normal] is the first entry after them (ROOT keeps it).
    // When the table stops short of it, the basket's own key says (below).
    const bool from_key = i + 1 >= n;
    const std::int64_t e1 = from_key ? e0 : first[i + 1];
    if (bytes[i] <= 0 || seeks[i] < 0 || e0 < 0 || e1 < e0) {
      in_.fail("basket table", in_.position(), 0,
               "basket " + std::to_string(i) + ": seek " + std::to_string(seeks[i]) +
                   ", size " + std::to_string(bytes[i]) + ", entries " + std::to_string(e0) +
                   "-" + std::to_string(e1));
    }
    RootBasketRef r;
    r.seek = static_cast<std::uint64_t>(seeks[i]);
    r.bytes = static_cast<std::uint64_t>(bytes[i]);
    r.entry_begin = static_cast<std::uint64_t>(e0);
    r.entry_end = from_key ? entries_from_key : static_cast<std::uint64_t>(e1);
    r.number = i;
    m.baskets.push_back(r);
    entry = r.entry_end;
  }
  for (std::size_t k : basket_indices) {
    RootBasketRef r;
    r.framing = ChunkFraming::embedded;
    r.entry_begin = entry;
    r.entry_end = entry + baskets_[k].entries;
    r.number = m.baskets.size();
    r.input = static_cast<std::uint32_t>(m.embedded.size());
    r.border = baskets_[k].values.size();
    entry = r.entry_end;
    m.baskets.push_back(r);
    m.embedded.push_back(std::move(baskets_[k]));
  }
  for (std::size_t k : leaf_indices) m.leaves.push_back(leaves_[k]);
}

std::size_t TreeParser::read_branch(const std::string& class_name, std::string_view what,
                                    int depth) {
  const std::size_t index = branches_.size();
  branches_.emplace_back();
  Branch b;
  b.meta.class_name = class_name;
  if (class_name == "TBranch") {
    read_tbranch_members(b, what, depth);
  } else {
    // Every TBranch class starts with its TBranch base; TBranchElement's
    // members follow it, the other classes' are skipped by byte count.
    const RootVersion v = in_.version(what);
    read_tbranch_members(b, what, depth);
    RootBranchMeta& m = b.meta;
    const ReadingContext reading(in_, "branch " + quoted(m.name));
    if (class_name == "TBranchElement") {
      if (v.version < 8 || v.version > 10) {
        unsupported(in_.where() + ": branch " + quoted(m.name) + ": TBranchElement version " +
                    std::to_string(v.version) + " is not read natively (8 to 10 are)");
      }
      m.element_class = in_.tstring("fClassName");
      m.parent_name = in_.tstring("fParentName");
      m.clones_name = in_.tstring("fClonesName");
      in_.u32("fCheckSum");
      if (v.version >= 10) in_.i16("fClassVersion"); else in_.i32("fClassVersion");
      m.id = in_.i32("fID");
      m.element_type = in_.i32("fType");
      m.streamer_type = in_.i32("fStreamerType");
      in_.i32("fMaximum");
      read_any("fBranchCount", depth);
      read_any("fBranchCount2", depth);
    } else if (class_name == "TBranchObject") {
      m.element_class = in_.tstring("fClassName");
    }
    in_.skip_to_end(v, "its members");
  }
  branches_[index] = std::move(b);
  return index;
}

RootTreeMeta TreeParser::parse() {
  RootTreeMeta tree;
  const RootVersion v = in_.version("TTree");
  if (v.version < 16 || v.version > 20) {
    unsupported(in_.where() + ": TTree class version " + std::to_string(v.version) +
                " is not read natively (16 to 20 are)");
  }
  std::tie(tree.name, tree.title) = read_named("TTree TNamed");
  skip_versioned("TTree TAttLine");
  skip_versioned("TTree TAttFill");
  skip_versioned("TTree TAttMarker");
  const std::int64_t entries = in_.i64("TTree fEntries");
  // fTotBytes, fZipBytes, fSavedBytes, [fFlushedBytes], fWeight, fTimerInterval,
  // fScanField, fUpdate, [fDefaultEntryOffsetLen], [fNClusterRange],
  // fMaxEntries, fMaxEntryLoop, fMaxVirtualSize, fAutoSave, [fAutoFlush], fEstimate.
  const std::size_t fixed = v.version == 16   ? 3 * 8 + 8 + 3 * 4 + 5 * 8
                            : v.version == 17 ? 3 * 8 + 8 + 4 * 4 + 5 * 8
                            : v.version == 18 ? 4 * 8 + 8 + 4 * 4 + 6 * 8
                                              : 4 * 8 + 8 + 4 * 4 + 6 * 8;
  if (v.version >= 19) {
    in_.skip(4 * 8 + 8 + 4 * 4, "TTree members");
    const std::int32_t clusters = in_.i32("TTree fNClusterRange");
    in_.skip(6 * 8, "TTree members");
    if (clusters < 0) in_.fail("TTree fNClusterRange", in_.position(), 0, "negative");
    const auto c = static_cast<std::size_t>(clusters);
    if (in_.u8("TTree fClusterRangeEnd")) in_.skip(8 * c, "TTree fClusterRangeEnd");
    if (in_.u8("TTree fClusterSize")) in_.skip(8 * c, "TTree fClusterSize");
    if (v.version >= 20) skip_versioned("TTree fIOFeatures");
  } else {
    in_.skip(fixed, "TTree members");
  }
  if (entries < 0) in_.fail("TTree fEntries", 0, 0, "negative");
  tree.entries = static_cast<std::uint64_t>(entries);
  std::vector<std::size_t> top;
  for (const Object& o : read_obj_array("TTree fBranches", 0)) {
    if (o.kind == Object::Kind::branch) top.push_back(o.index);
  }
  // The rest (fLeaves, aliases, indices, friends, user info) is not needed.
  // Depth first, as uproot's tree.keys() lists them.
  std::vector<std::pair<std::size_t, std::optional<std::size_t>>> stack;
  for (auto it = top.rbegin(); it != top.rend(); ++it) stack.emplace_back(*it, std::nullopt);
  std::vector<bool> placed(branches_.size(), false);
  while (!stack.empty()) {
    const auto [k, parent] = stack.back();
    stack.pop_back();
    if (placed[k]) in_.fail("TTree fBranches", 0, 0, "a branch is listed twice");
    placed[k] = true;
    const std::size_t index = tree.branches.size();
    RootBranchMeta m = std::move(branches_[k].meta);
    m.parent = parent;
    m.path = parent ? tree.branches[*parent].path + "/" + m.name : m.name;
    if (parent) tree.branches[*parent].children.push_back(index);
    tree.branches.push_back(std::move(m));
    const auto& kids = branches_[k].children;
    for (auto it = kids.rbegin(); it != kids.rend(); ++it) stack.emplace_back(*it, index);
  }
  for (std::size_t i = 0; i < tree.branches.size(); ++i) {
    tree.branches[i].kind = identify_root_branch(tree, i, tree.branches[i].unknown);
  }
  return tree;
}

std::map<std::string, std::pair<std::int32_t, std::vector<TreeParser::Element>>>
TreeParser::parse_streamer_infos() {
  // TList::Streamer: version, TObject, fName, count, then each object and its option.
  const RootVersion v = in_.version("TList");
  if (v.version > 3) {
    read_tobject("TList");
    in_.tstring("TList fName");
  }
  const std::int32_t n = in_.i32("TList count");
  if (n < 0 || static_cast<std::size_t>(n) > in_.remaining() / 4) {
    in_.fail("TList count", in_.position() - 4, 4, std::to_string(n) + " objects cannot fit");
  }
  std::map<std::string, std::pair<std::int32_t, std::vector<Element>>> out;
  for (std::int32_t i = 0; i < n; ++i) {
    const Object o = read_any("TList object", 0);
    if (v.version > 4) {
      std::size_t chars = in_.u8("TList option");
      if (chars == 255) chars = in_.u32("TList option");
      in_.skip(chars, "TList option");
    }
    if (o.kind != Object::Kind::info) continue;
    const Info& info = infos_[o.index];
    auto [it, fresh] = out.try_emplace(info.class_name);
    if (!fresh && it->second.first >= info.version) continue;  // the highest version, as uproot
    it->second.first = info.version;
    it->second.second.clear();
    if (!info.has_elements) continue;
    for (const Object& e : arrays_[info.array]) {
      it->second.second.push_back(e.kind == Object::Kind::element ? elements_[e.index]
                                                                  : Element{});
    }
  }
  return out;
}

// uproot's clean name of a member branch: its last dotted part, brackets dropped.
std::string_view clean_member_name(std::string_view name) {
  const auto dot = name.rfind('.', name.find('['));
  if (dot != std::string_view::npos) name.remove_prefix(dot + 1);
  return name.substr(0, name.find('['));
}

std::vector<std::byte> big_endian_i32(std::int64_t v) {
  const auto u = static_cast<std::uint32_t>(v);
  return {std::byte(u >> 24), std::byte(u >> 16), std::byte(u >> 8), std::byte(u)};
}

}  // namespace

namespace {

using StreamerInfos =
    std::map<std::string, std::pair<std::int32_t, std::vector<TreeParser::Element>>>;

// Whether class `derived` is `base` or has it among its base classes
// (TStreamerBase elements, followed through their own infos).
bool derives_from(const StreamerInfos& infos, const std::string& derived, const std::string& base,
                  int depth = 0) {
  if (derived == base) return true;
  const auto found = infos.find(derived);
  if (found == infos.end() || depth > max_depth) return false;
  for (const TreeParser::Element& e : found->second.second) {
    if (e.element_class == "TStreamerBase" && derives_from(infos, e.name, base, depth + 1)) {
      return true;
    }
  }
  return false;
}

// The classes uproot models by hand rather than from the streamer infos
// (uproot.classes): their objects are not laid out natively, except TObject.
bool modelled_by_uproot(std::string_view c) {
  static constexpr std::string_view names[] = {
      "TArray", "TAtt", "TAxis", "TBasket", "TBranch", "TClonesArray", "TDataSet", "TDatime",
      "TGraph", "TH1", "TH2", "TH3", "THashList", "TLeaf", "TList", "TMatrixTSym", "TNamed",
      "TObjArray", "TObjString", "TProfile", "TRef", "TStreamer", "TString", "TTable", "TTime",
      "TTree", "ROOT::"};
  for (std::string_view n : names) {
    if (c.rfind(n, 0) == 0) return true;
  }
  return false;
}

// A class's objects as fixed-size rows (uproot's AsStridedObjects, as its
// strided_interpretation builds them from the streamer infos: no header of
// its own, TObject's as five fields, bases' members inline, object members
// nested with "member/" before their fields): the row's fields, and each
// object's (field prefix, class name). False when a member is anything but a
// number or such an object (strings, containers, pointers, arrays, Double32_t).
bool strided_fields(const StreamerInfos& infos, const std::string& class_name,
                    const std::string& prefix, std::vector<std::string>& breadcrumbs,
                    RootBranchKind& kind, bool record_it) {
  if (record_it) kind.classes.emplace_back(prefix, class_name);
  if (class_name == "TObject") {
    for (const auto& [name, type] :
         {std::pair{"@instance_version", RootType::uint16}, {"@num_bytes", RootType::uint32},
          {"@fUniqueID", RootType::uint32}, {"@fBits", RootType::uint32},
          {"@pidf", RootType::uint16}}) {
      kind.record.push_back({prefix + name, type, {}});
    }
    return true;
  }
  const auto found = infos.find(class_name);
  if (found == infos.end() || modelled_by_uproot(class_name) ||
      std::find(breadcrumbs.begin(), breadcrumbs.end(), class_name) != breadcrumbs.end() ||
      breadcrumbs.size() > max_depth) {
    return false;
  }
  breadcrumbs.push_back(class_name);
  for (const TreeParser::Element& e : found->second.second) {
    if (e.element_class == "TStreamerBase") {
      if (!strided_fields(infos, e.name, prefix, breadcrumbs, kind, false)) return false;
    } else if (e.element_class == "TStreamerBasicType") {
      // uproot's _ftype_to_dtype_map, arrays and Double32_t/Float16_t excluded.
      static const std::map<std::int32_t, RootType> types = {
          {18, RootType::boolean}, {1, RootType::int8},    {11, RootType::uint8},
          {7, RootType::uint8},    {2, RootType::int16},   {12, RootType::uint16},
          {3, RootType::int32},    {15, RootType::uint32}, {13, RootType::uint32},
          {6, RootType::uint32},   {4, RootType::int64},   {14, RootType::uint64},
          {16, RootType::int64},   {17, RootType::uint64}, {5, RootType::float32},
          {8, RootType::float64}};
      const auto t = types.find(e.type);
      if (t == types.end() || e.array_length != 0) return false;
      kind.record.push_back({prefix + e.name, t->second, {}});
    } else if (e.element_class == "TStreamerObject" || e.element_class == "TStreamerObjectAny") {
      std::string type = e.type_name;
      while (!type.empty() && type.back() == '*') type.pop_back();
      if (!strided_fields(infos, type, prefix + e.name + "/", breadcrumbs, kind, true)) return false;
    } else {
      return false;
    }
  }
  breadcrumbs.pop_back();
  return true;
}

// `class_name`'s objects as a kind of coding objects (rows of packed fields).
std::optional<RootBranchKind> objects_kind(const StreamerInfos& infos, const std::string& class_name,
                                           ColumnLayout layout, std::uint8_t header_bytes) {
  RootBranchKind kind;
  kind.type = RootType::uint8;
  kind.layout = layout;
  kind.header_bytes = header_bytes;
  kind.coding = ElementCoding::objects;
  std::vector<std::string> breadcrumbs;
  if (!strided_fields(infos, class_name, "", breadcrumbs, kind, true) || kind.record.empty()) {
    return std::nullopt;
  }
  return kind;
}

// The std::vector<C> a member's type names, or "".
std::string vector_class(std::string_view t) {
  if (t.rfind("std::", 0) == 0) t.remove_prefix(5);
  if (t.rfind("vector<", 0) != 0 || t.back() != '>') return {};
  t = t.substr(7, t.size() - 8);
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  return std::string(t);
}

// Split-class members: their streamer elements, for the kinds that need them
// (std::vector and std::string members, T* arrays, Double32_t ranges). Only a
// member of its branch's class (fClassName) that is its parent's class
// (fParentName) or one of its base classes — the element uproot finds
// walking the parent's members and bases — found at its fID under its own
// name in that class's highest version; any other is left unknown.
void resolve_members(const RootFile& file, RootTreeMeta& tree) {
  const auto wanted = [](const RootBranchMeta& b) {
    return !b.kind && b.parent && b.class_name == "TBranchElement" && b.children.empty() &&
           b.id >= 0 && !b.element_class.empty() && !b.parent_name.empty();
  };
  // A top-level object stored whole (TLorentzVector): its class's layout.
  const auto whole = [](const RootBranchMeta& b) {
    return !b.kind && !b.parent && b.class_name == "TBranchElement" && b.children.empty() &&
           !b.element_class.empty();
  };
  const auto either = [&](const RootBranchMeta& b) { return wanted(b) || whole(b); };
  if (file.seek_info() == 0 || std::none_of(tree.branches.begin(), tree.branches.end(), either)) {
    return;
  }
  const RootKey key = file.read_key(file.seek_info(), "the streamer info record");
  const std::vector<std::byte> payload = file.read_object(key);
  const auto infos =
      TreeParser(payload, file.describe(key), key.keylen).parse_streamer_infos();
  for (std::size_t i = 0; i < tree.branches.size(); ++i) {
    RootBranchMeta& b = tree.branches[i];
    if (whole(b)) {
      if (auto kind = objects_kind(infos, b.element_class, ColumnLayout::fixed, 0)) {
        b.kind = std::move(kind);
        b.unknown.clear();
      }
      continue;
    }
    if (!wanted(b)) continue;
    const auto found = infos.find(b.element_class);
    if (found == infos.end() || !derives_from(infos, b.parent_name, b.element_class)) continue;
    const auto& elements = found->second.second;
    const auto id = static_cast<std::size_t>(b.id);
    if (id >= elements.size() || elements[id].name != clean_member_name(b.name)) continue;
    b.member_type_name = elements[id].type_name;
    b.member_title = elements[id].title;
    std::string why;
    auto kind = identify_root_branch(tree, i, why);
    // Objects: a TClonesArray's object member (jagged, no header), a
    // std::vector<C> member (jagged, its 10-byte header), as uproot reads them.
    const RootBranchMeta& parent = tree.branches[*b.parent];
    if (!kind && b.element_type == 31 && elements[id].element_class == "TStreamerObject" &&
        parent.element_class == "TClonesArray") {
      kind = objects_kind(infos, b.member_type_name, ColumnLayout::jagged, 0);
    } else if (!kind && b.element_type == 0 && (b.streamer_type == 300 || b.streamer_type == 500) &&
               !vector_class(b.member_type_name).empty()) {
      kind = objects_kind(infos, vector_class(b.member_type_name), ColumnLayout::jagged, 10);
    }
    if (kind) {
      b.kind = std::move(kind);
      b.unknown.clear();
    } else {
      b.unknown = std::move(why);
    }
  }
}

}  // namespace

RootTreeMeta parse_root_tree(ConstBytes payload, std::uint32_t keylen, std::string where) {
  return TreeParser(payload, std::move(where), keylen).parse();
}

RootTreeMeta read_root_tree(const RootFile& file, const RootKey& key) {
  if (key.class_name != "TTree") {
    throw Error(ErrorCode::invalid_argument, file.describe(key) + ": not a TTree");
  }
  const std::vector<std::byte> payload = file.read_object(key);
  RootTreeMeta tree = parse_root_tree(payload, key.keylen, file.describe(key));
  resolve_members(file, tree);
  const ConstBytes all = file.file()->bytes();
  for (RootBranchMeta& b : tree.branches) {
    std::uint64_t entry = 0;
    for (RootBasketRef& r : b.baskets) {
      if (r.framing == ChunkFraming::embedded) {
        r.entry_begin = entry;
        r.entry_end = entry + b.embedded[r.input].entries;
      } else if (r.entry_end == entries_from_key) {
        if (r.seek > all.size() || r.bytes > all.size() - r.seek) {
          throw Error(ErrorCode::corrupt_input,
                      file.name() + ": branch " + quoted(b.path) + " basket " +
                          std::to_string(r.number) + " (file bytes [" + std::to_string(r.seek) +
                          ", +" + std::to_string(r.bytes) + ")) lies outside the file");
        }
        try {
          r.entry_end = r.entry_begin + parse_root_basket_key(all.subspan(r.seek, r.bytes)).entries;
        } catch (const Error& e) {
          throw Error(e.code(), file.name() + ": branch " + quoted(b.path) + " basket " +
                                    std::to_string(r.number) + ": " + e.cause());
        }
      }
      entry = r.entry_end;
    }
  }
  return tree;
}

std::vector<std::byte> embedded_input(const RootEmbeddedBasket& basket,
                                      const RootBranchKind& kind) {
  std::vector<std::byte> out(basket.values);
  if (kind.layout == ColumnLayout::fixed) return out;
  const auto append = [&](std::int64_t v) {
    const auto b = big_endian_i32(v);
    out.insert(out.end(), b.begin(), b.end());
  };
  append(static_cast<std::int64_t>(basket.entries));
  for (std::uint64_t j = 0; j < basket.entries; ++j) {
    if (basket.starts) {
      append((*basket.starts)[j]);
    } else {  // equal-size entries: ROOT leaves the offsets implied
      append(static_cast<std::int64_t>(basket.entries ? j * (basket.values.size() / basket.entries)
                                                      : 0));
    }
  }
  append(0);
  return out;
}

RootBranchSpec root_branch_spec(const RootBranchMeta& branch, std::uint32_t file,
                                std::uint32_t first_input,
                                std::vector<std::vector<std::byte>>& embedded) {
  if (!branch.kind) {
    throw Error(ErrorCode::unsupported_format,
                "branch " + quoted(branch.path) + ": " + branch.unknown);
  }
  const RootBranchKind& kind = *branch.kind;
  RootBranchSpec spec;
  spec.name = branch.path;
  spec.type = kind.type;
  spec.layout = kind.layout;
  spec.items_per_entry = kind.items();
  spec.header_bytes = kind.header_bytes;
  spec.coding = kind.coding;
  spec.nbits = kind.nbits;
  spec.low = kind.low;
  spec.high = kind.high;
  spec.fields = kind.field_widths();
  spec.depth = kind.depth;
  spec.leaf_strings = kind.leaf_strings;
  spec.baskets = branch.baskets;
  for (RootBasketRef& r : spec.baskets) {
    r.file = file;
    if (r.framing != ChunkFraming::embedded) continue;
    embedded.push_back(embedded_input(branch.embedded[r.input], kind));
    r.seek = 0;
    r.bytes = embedded.back().size();
    r.input = first_input + static_cast<std::uint32_t>(embedded.size() - 1);
  }
  return spec;
}

RootBranchSpec root_branch_spec(std::span<const RootBranchMeta* const> per_file,
                                std::uint32_t first_input,
                                std::vector<std::vector<std::byte>>& embedded) {
  if (per_file.empty()) throw Error(ErrorCode::invalid_argument, "root_branch_spec: no files");
  RootBranchSpec spec = root_branch_spec(*per_file[0], 0, first_input, embedded);
  for (std::uint32_t f = 1; f < per_file.size(); ++f) {
    const RootBranchMeta& branch = *per_file[f];
    if (branch.kind && per_file[0]->kind && !(*branch.kind == *per_file[0]->kind)) {
      const auto describe = [](const RootBranchKind& k) {
        return std::string(to_string(k.type)) + " " + std::string(to_string(k.layout)) + " " +
               std::string(to_string(k.coding));
      };
      throw Error(ErrorCode::unsupported_format,
                  "branch " + quoted(branch.path) + ": its type differs between the files (" +
                      describe(*per_file[0]->kind) + " in file 0, " + describe(*branch.kind) +
                      " in file " + std::to_string(f) + ")");
    }
    const std::uint64_t base = spec.baskets.empty() ? 0 : spec.baskets.back().entry_end;
    RootBranchSpec next = root_branch_spec(branch, f, first_input, embedded);
    for (RootBasketRef& r : next.baskets) {
      r.entry_begin += base;
      r.entry_end += base;
    }
    spec.baskets.insert(spec.baskets.end(), next.baskets.begin(), next.baskets.end());
  }
  return spec;
}

}  // namespace decoflow
