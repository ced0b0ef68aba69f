// Which branches the native reader types, and how: the same rules uproot
// applies to the TBranch/TLeaf metadata (uproot/interpretation/identify.py)
// as far as decoflow decodes the result (decoflow.root's _uproot.branch_kind),
// with a split-class member's streamer element (its type name and title)
// where the leaf does not say; anything else is left unknown, never guessed.
#include "decoflow/root_branch_kind.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <string_view>

#include "decoflow/root_tree_meta.hpp"

namespace decoflow {

namespace {

// ROOT's EDataType codes (TDataType.h) as TLeafElement::fType holds them.
constexpr std::int32_t k_offset_l = 20, k_offset_p = 40;
constexpr std::int32_t k_double32 = 9, k_float16 = 19, k_tstring = 65;
constexpr std::int32_t k_bits = 15;  // a TObject's fBits (TStreamerElement's type)

std::optional<RootType> data_type(std::int32_t code) {
  if (code > k_offset_l && code < k_offset_p) code -= k_offset_l;
  switch (code) {
    case 18: return RootType::boolean;
    case 1: return RootType::int8;
    case 11: return RootType::uint8;
    case 2: return RootType::int16;
    case 12: return RootType::uint16;
    case 3: return RootType::int32;
    case 6: case 13: case 15: return RootType::uint32;  // kCounter, kUInt, kBits
    case 4: case 16: return RootType::int64;
    case 14: case 17: return RootType::uint64;
    case 5: return RootType::float32;
    case 8: return RootType::float64;
    default: return std::nullopt;
  }
}

std::optional<RootType> leaf_type(const RootLeafMeta& leaf) {
  const std::string_view c = leaf.class_name;
  const bool u = leaf.is_unsigned;
  if (c == "TLeafO") return RootType::boolean;
  if (c == "TLeafB") return u ? RootType::uint8 : RootType::int8;
  if (c == "TLeafS") return u ? RootType::uint16 : RootType::int16;
  if (c == "TLeafI") return u ? RootType::uint32 : RootType::int32;
  if (c == "TLeafL" || c == "TLeafG") return u ? RootType::uint64 : RootType::int64;
  if (c == "TLeafF") return RootType::float32;
  if (c == "TLeafD") return RootType::float64;
  if (c == "TLeafElement") return data_type(leaf.element_type);
  return std::nullopt;
}

// "[12]" groups of positive decimal integers anywhere in `s`.
std::vector<std::uint64_t> numeric_dims(std::string_view s) {
  std::vector<std::uint64_t> out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '[' || i + 1 >= s.size() || s[i + 1] < '1' || s[i + 1] > '9') continue;
    std::size_t j = i + 1;
    std::uint64_t v = 0;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') v = v * 10 + static_cast<unsigned>(s[j++] - '0');
    if (j < s.size() && s[j] == ']') out.push_back(v);
  }
  return out;
}

// Whether the title starts with text without brackets and then a "[...]" group.
bool title_has_dims(std::string_view title) {
  const auto open = title.find_first_of("[]");
  if (open == std::string_view::npos || title[open] != '[') return false;
  const auto close = title.find_first_of("[]", open + 1);
  return close != std::string_view::npos && title[close] == ']' && close > open + 1;
}

// A single leaf's fixed dimensions, as uproot reads them from its title.
std::vector<std::uint64_t> leaf_dims(const RootLeafMeta& leaf) {
  if (!title_has_dims(leaf.title)) return {};
  std::vector<std::uint64_t> dims = numeric_dims(leaf.title);
  if (dims.empty() && leaf.len > 1) dims.push_back(static_cast<std::uint64_t>(leaf.len));
  return dims;
}

// A leaf list member's own dimensions: the last bracket group of its title's
// leading run of groups, which must be numbers (uproot's literal_eval).
std::optional<std::vector<std::uint64_t>> field_dims(const RootLeafMeta& leaf) {
  std::string_view t = leaf.title;
  if (!title_has_dims(t)) return std::vector<std::uint64_t>{};
  std::size_t i = t.find('[');
  std::string_view last;
  while (i < t.size() && t[i] == '[') {
    const auto close = t.find(']', i);
    if (close == std::string_view::npos) break;
    last = t.substr(i, close - i + 1);
    i = close + 1;
  }
  std::vector<std::uint64_t> dims;
  std::string_view body = last.substr(1, last.size() - 2);
  for (;;) {
    const auto comma = body.find(',');
    std::string_view part = body.substr(0, comma);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (ec != std::errc() || p != part.data() + part.size() || part.empty()) return std::nullopt;
    dims.push_back(v);
    if (comma == std::string_view::npos) break;
    body.remove_prefix(comma + 1);
  }
  return dims;
}

std::optional<RootType> vector_element(std::string_view name) {
  if (name.rfind("std::", 0) == 0) name.remove_prefix(5);
  struct Entry {
    std::string_view name;
    RootType type;
  };
  static constexpr Entry table[] = {
      {"bool", RootType::boolean},          {"Bool_t", RootType::boolean},
      {"char", RootType::int8},             {"Char_t", RootType::int8},
      {"unsigned char", RootType::uint8},   {"UChar_t", RootType::uint8},
      {"short", RootType::int16},           {"Short_t", RootType::int16},
      {"unsigned short", RootType::uint16}, {"UShort_t", RootType::uint16},
      {"int", RootType::int32},             {"Int_t", RootType::int32},
      {"unsigned int", RootType::uint32},   {"UInt_t", RootType::uint32},
      {"long", RootType::int64},            {"Long_t", RootType::int64},
      {"unsigned long", RootType::uint64},  {"ULong_t", RootType::uint64},
      {"long long", RootType::int64},       {"Long64_t", RootType::int64},
      {"unsigned long long", RootType::uint64}, {"ULong64_t", RootType::uint64},
      {"float", RootType::float32},         {"Float_t", RootType::float32},
      {"double", RootType::float64},        {"Double_t", RootType::float64},
  };
  for (const Entry& e : table) {
    if (e.name == name) return e.type;
  }
  return std::nullopt;
}

// The element type a list class names ("vector<float>" → "float"), spaces
// trimmed; nullopt for any other class. A std::set is streamed as a
// std::vector is (a count, then the elements; uproot gives both as lists);
// so is a top-level ROOT::VecOps::RVec (`rvec`).
std::optional<std::string_view> list_element(std::string_view name, bool rvec = false) {
  while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
  while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
  if (name.rfind("std::", 0) == 0) name.remove_prefix(5);
  std::size_t open = 0;
  for (const std::string_view list : {"vector<", "set<"}) {
    if (name.rfind(list, 0) == 0) open = list.size();
  }
  if (rvec && name.rfind("ROOT::VecOps::RVec<", 0) == 0) open = 19;
  if (open == 0 || name.back() != '>') return std::nullopt;
  std::string_view inner = name.substr(open, name.size() - open - 1);
  while (!inner.empty() && inner.front() == ' ') inner.remove_prefix(1);
  while (!inner.empty() && inner.back() == ' ') inner.remove_suffix(1);
  return inner;
}

// "vector<float>" (or set<float>, ROOT::VecOps::RVec<float>, stored alike) →
// float32; nullopt for any other class name.
std::optional<RootType> vector_of_numbers(std::string_view name) {
  const auto inner = list_element(name, true);
  if (!inner) return std::nullopt;
  return vector_element(*inner);
}

// "vector<vector<float> >", "vector<string>", ...: std::vectors nested
// `levels` deep (at least 1) around numbers or strings; nullopt otherwise.
struct VectorNest {
  unsigned levels = 0;
  std::optional<RootType> number;  // or strings
};
std::optional<VectorNest> vector_nest(std::string_view name) {
  VectorNest nest;
  while (const auto inner = list_element(name)) {
    name = *inner;
    ++nest.levels;
  }
  if (nest.levels == 0) return std::nullopt;
  // std::string and TString alike: a length (1 byte, or 255 and 4), then chars.
  if (name == "string" || name == "TString") return nest;
  nest.number = vector_element(name);
  if (!nest.number) return std::nullopt;
  return nest;
}

// std::vector<std::vector<T>>, std::vector<std::string>, deeper ones
// (column_chunk.hpp's nested layout), as _uproot.branch_kind types them: a
// header (byte count, version) per entry, a count per list; nullopt for
// another class.
std::optional<RootBranchKind> nested_vector_kind(std::string_view class_name) {
  const auto nest = vector_nest(class_name);
  // The levels inside each entry's list, strings' as numbers' (uproot's depth).
  if (!nest || nest->levels - 1 > max_nested_depth) return std::nullopt;
  RootBranchKind kind;
  kind.layout = ColumnLayout::nested;
  kind.header_bytes = 10;
  kind.leaf_strings = !nest->number;
  kind.type = nest->number ? *nest->number : RootType::uint8;
  kind.depth = static_cast<std::uint8_t>(nest->levels - 1);
  return kind;
}

// The comma-separated parts of a Double32_t range ("0, 100, 12"), as
// numbers; nullopt when one is not a plain decimal number (pi, expressions:
// left to uproot). Each part's text too (whether the bit count is whole).
std::optional<std::vector<double>> plain_numbers(std::string_view body,
                                                 std::vector<std::string>* texts = nullptr) {
  std::vector<double> numbers;
  for (;;) {
    const auto comma = body.find(',');
    std::string part(body.substr(0, comma));
    char* end = nullptr;
    const double v = std::strtod(part.c_str(), &end);
    while (end && (*end == ' ' || *end == '\t')) ++end;
    if (part.find_first_not_of(" \t") == std::string::npos || !end || *end != '\0' ||
        part.find_first_of("xXpPnNiI") != std::string::npos) {
      return std::nullopt;
    }
    numbers.push_back(v);
    if (texts) texts->push_back(std::move(part));
    if (comma == std::string_view::npos) return numbers;
    body.remove_prefix(comma + 1);
  }
}

// A Double32_t / Float16_t leaf's coding from its title ("x[3]/d[0,100,12]"):
// ROOT's defaults without a range (Double32: float32; Float16: 12 bits), a
// range of plain numbers; anything else (pi, expressions) is left unknown.
bool float_leaf_coding(const RootLeafMeta& leaf, bool is_double, RootBranchKind& kind,
                       std::string& why) {
  kind.type = is_double ? RootType::float64 : RootType::float32;
  std::string_view t = leaf.title;
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\n')) t.remove_suffix(1);
  std::optional<std::string_view> range;
  if (!t.empty() && t.back() == ']') {
    const auto open = t.rfind('[');
    // The range follows the type code ("/d[...]") or starts the title.
    std::size_t before = open;
    if (before > 0 && std::string_view("dfDF").find(t[before - 1]) != std::string_view::npos) --before;
    if (open != std::string_view::npos && t.substr(open + 1, t.size() - open - 2).find('[') ==
                                              std::string_view::npos &&
        (before == 0 || t[before - 1] == '/')) {
      range = t.substr(open + 1, t.size() - open - 2);
    }
  }
  if (!range) {
    kind.coding = is_double ? ElementCoding::float32_to_float64 : ElementCoding::truncated;
    kind.nbits = is_double ? 0 : 12;
    return true;
  }
  const auto parsed = plain_numbers(*range);
  if (!parsed) {
    why = "its " + leaf.class_name + " range '" + std::string(*range) +
          "' is not plain numbers (the native reader reads those only)";
    return false;
  }
  const std::vector<double>& numbers = *parsed;
  if (numbers.size() != 2 && numbers.size() != 3) {
    why = "its " + leaf.class_name + " title '" + leaf.title + "' has a range decoflow cannot read";
    return false;
  }
  const double low = numbers[0], high = numbers[1];
  int nbits = 32;
  if (numbers.size() == 3 && std::floor(numbers[2]) == numbers[2] && std::abs(numbers[2]) < 1e9) {
    nbits = static_cast<int>(numbers[2]);
  }
  if (nbits < 2 || nbits > 32) nbits = 32;
  if (low == 0 && high == 0) {
    if (nbits > 23) {
      why = "its " + leaf.class_name + " title '" + leaf.title + "' keeps " +
            std::to_string(nbits) + " mantissa bits";
      return false;
    }
    kind.coding = ElementCoding::truncated;
  } else if (high <= low) {
    why = "its " + leaf.class_name + " title '" + leaf.title + "' has an empty range";
    return false;
  } else {
    kind.coding = ElementCoding::scaled;
  }
  kind.nbits = static_cast<std::uint8_t>(nbits);
  kind.low = low;
  kind.high = high;
  return true;
}

// A Double32_t / Float16_t member's coding from its streamer element's title,
// by uproot's rules: the first "[...]" holds low, high and maybe nbits (a
// whole number); none: Double32 stored as float32, Float16 in 12 bits; bits
// outside [2, 32] or none given: 32. Anything but plain numbers is left unknown.
bool member_float_coding(const std::string& title, bool is_double, RootBranchKind& kind,
                         std::string& why) {
  kind.type = is_double ? RootType::float64 : RootType::float32;
  const auto left = title.find('['), right = title.find(']');
  if (left == std::string::npos || right == std::string::npos || right < left) {
    kind.coding = is_double ? ElementCoding::float32_to_float64 : ElementCoding::truncated;
    kind.nbits = is_double ? 0 : 12;
    return true;
  }
  std::vector<std::string> parts;
  const auto parsed =
      plain_numbers(std::string_view(title).substr(left + 1, right - left - 1), &parts);
  if (!parsed) {
    why = "its member title '" + title + "' is not plain numbers (the native reader reads those only)";
    return false;
  }
  const std::vector<double>& numbers = *parsed;
  if (numbers.size() == 3 && (parts[2].find_first_of(".eE") != std::string::npos)) {
    why = "its member title '" + title + "' gives a bit count that is not a whole number";
    return false;
  }
  if (numbers.size() != 2 && numbers.size() != 3) {
    kind.coding = is_double ? ElementCoding::float32_to_float64 : ElementCoding::truncated;
    kind.nbits = is_double ? 0 : 12;
    return true;
  }
  int nbits = numbers.size() == 3 && std::abs(numbers[2]) < 1e9 ? static_cast<int>(numbers[2]) : 32;
  if (nbits < 2 || nbits > 32) nbits = 32;
  kind.low = numbers[0];
  kind.high = numbers[1];
  kind.nbits = static_cast<std::uint8_t>(nbits);
  kind.coding = kind.low == 0 && kind.high == 0 ? ElementCoding::truncated : ElementCoding::scaled;
  return true;
}

}  // namespace

std::uint64_t RootBranchKind::items() const noexcept {
  return std::accumulate(inner.begin(), inner.end(), std::uint64_t{1},
                         [](std::uint64_t a, std::uint64_t b) { return a * b; });
}

std::vector<std::uint8_t> RootBranchKind::field_widths() const {
  std::vector<std::uint8_t> out;
  for (const Field& f : record) {
    const std::uint64_t n = std::accumulate(f.dims.begin(), f.dims.end(), std::uint64_t{1},
                                            [](std::uint64_t a, std::uint64_t b) { return a * b; });
    out.insert(out.end(), n, static_cast<std::uint8_t>(root_type_width(f.type)));
  }
  return out;
}

std::optional<RootBranchKind> identify_root_branch(const RootTreeMeta& tree, std::size_t index,
                                                   std::string& why) {
  const RootBranchMeta& b = tree.branches.at(index);
  const bool top_level = !b.parent;
  const bool element = b.class_name == "TBranchElement";
  RootBranchKind kind;
  if (!b.children.empty()) {
    if (top_level && element && b.element_class == "TClonesArray") {
      kind.type = RootType::int32;  // the array's entry counts
      return kind;
    }
    why = "a parent of sub-branches (" + b.class_name + "): read its sub-branches by name";
    return std::nullopt;
  }
  if (b.class_name != "TBranch" && !element) {
    why = "a " + b.class_name + " branch is not typed natively";
    return std::nullopt;
  }
  if (b.leaves.empty()) {
    why = "a branch without leaves";
    return std::nullopt;
  }
  if (b.leaves.size() == 1) {
    const RootLeafMeta& leaf = b.leaves.front();
    const std::int32_t code = leaf.class_name == "TLeafElement"
                                  ? (leaf.element_type > k_offset_l && leaf.element_type < k_offset_p
                                         ? leaf.element_type - k_offset_l
                                         : leaf.element_type)
                                  : 0;
    std::vector<std::uint64_t> dims = leaf_dims(leaf);
    const bool jagged = leaf.has_count;
    const bool is_f16 = leaf.class_name == "TLeafF16";
    const bool is_d32 = leaf.class_name == "TLeafD32";
    if (jagged && !dims.empty()) {
      // float x[n][3]: a variable number of fixed-size rows, each row a
      // record of its values (swapped one by one), as _uproot.branch_kind;
      // a Double32_t/Float16_t row is refused there too.
      const auto t = is_f16 || is_d32 || code == k_double32 || code == k_float16
                         ? std::nullopt
                         : leaf_type(leaf);
      if (!t) {
        why = "a jagged array of fixed-size rows (x[n][3]) of " + leaf.class_name +
              " values is not decoded";
        return std::nullopt;
      }
      kind.type = RootType::uint8;
      kind.layout = ColumnLayout::jagged;
      kind.coding = ElementCoding::record;
      kind.record.push_back({"", *t, std::move(dims)});  // one unnamed field: the row
      return kind;
    }
    if (code == k_double32 || code == k_float16) {
      if (b.member_type_name.empty()) {
        why = "a Double32_t/Float16_t member (its range is in the class's streamer info)";
        return std::nullopt;
      }
      kind.layout = jagged ? ColumnLayout::jagged : ColumnLayout::fixed;
      kind.inner = dims;
      if (!member_float_coding(b.member_title, code == k_double32, kind, why)) return std::nullopt;
      return kind;
    }
    kind.layout = jagged ? ColumnLayout::jagged : ColumnLayout::fixed;
    kind.inner = dims;
    if (is_f16 || is_d32) {
      if (!float_leaf_coding(leaf, is_d32, kind, why)) return std::nullopt;
      return kind;
    }
    if (const auto t = leaf_type(leaf)) {
      kind.type = *t;
      // A TObject's fBits: 2 more bytes after a referenced object's
      // (column_chunk.hpp's tobject_bits), as _uproot.branch_kind says too.
      if (element && b.streamer_type == k_bits && *t == RootType::uint32 && dims.empty()) {
        kind.coding = ElementCoding::tobject_bits;
      }
      return kind;
    }
    // Not a number: strings, or a class named by the branch.
    kind = RootBranchKind{};
    kind.type = RootType::uint8;
    if ((element && b.streamer_type == k_tstring) || leaf.class_name == "TLeafC") {
      kind.layout = ColumnLayout::strings;
      return kind;
    }
    if (top_level && element) {
      const std::string_view c = b.element_class;
      if (c == "string" || c == "std::string" || c == "TString") {  // no header at top level
        kind.layout = ColumnLayout::strings;
        return kind;
      }
      if (const auto t = vector_of_numbers(b.element_class)) {
        kind.type = *t;
        kind.layout = ColumnLayout::jagged;
        kind.header_bytes = 10;
        return kind;
      }
      if (auto nested = nested_vector_kind(b.element_class)) return nested;
      why = "class '" + b.element_class + "' is not typed natively";
      return std::nullopt;
    }
    // A member of a split object (not of a collection of them: fType 0),
    // typed by its streamer element.
    if (element && b.element_type == 0 && !b.member_type_name.empty()) {
      const std::string_view t = b.member_type_name;
      const std::int32_t st = b.streamer_type;
      if ((st == 300 || st == 500) && (t == "string" || t == "std::string")) {
        kind.layout = ColumnLayout::strings;  // after a byte count and version
        kind.header_bytes = 6;
        return kind;
      }
      if (st == 300 || st == 500) {
        if (const auto v = vector_of_numbers(t)) {
          kind.type = *v;
          kind.layout = ColumnLayout::jagged;
          kind.header_bytes = 10;
          return kind;
        }
        if (auto nested = nested_vector_kind(t)) return nested;
      }
      if (st > k_offset_p && st < k_offset_p + 20) {  // T* x //[n]: a byte before each entry
        if (const auto v = data_type(st - k_offset_p)) {
          kind.type = *v;
          kind.layout = ColumnLayout::jagged;
          kind.header_bytes = 1;
          return kind;
        }
      }
      why = "a split-class member of type '" + b.member_type_name + "' is not typed natively";
      return std::nullopt;
    }
    why = "a split-class member whose type is in the class's streamer info";
    return std::nullopt;
  }
  // A leaf list: packed numeric fields, one row per entry.
  std::vector<std::uint64_t> common;
  bool first = true;
  for (const RootLeafMeta& leaf : b.leaves) {
    const std::vector<std::uint64_t> d = leaf_dims(leaf);
    if (first) {
      common = d;
      first = false;
    } else {
      std::size_t i = 0;
      while (i < common.size() && i < d.size() && common[i] == d[i]) ++i;
      common.resize(i);
    }
  }
  kind.type = RootType::uint8;
  kind.coding = ElementCoding::record;
  for (const RootLeafMeta& leaf : b.leaves) {
    const auto t = leaf_type(leaf);
    const auto dims = field_dims(leaf);
    if (!t || !dims || leaf.has_count || leaf.class_name == "TLeafElement") {
      why = "a leaf list with a member that is not a fixed-size number (" + leaf.class_name + " '" +
            leaf.title + "')";
      return std::nullopt;
    }
    kind.record.push_back({leaf.name, *t, *dims});
  }
  if (!common.empty()) {
    why = "a leaf list whose members share dimensions is not typed natively";
    return std::nullopt;
  }
  return kind;
}

}  // namespace decoflow
