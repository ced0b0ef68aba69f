// decoflow/root_branch_kind.hpp: what a branch's values are, as decoflow
// decodes them — worked out from the TBranch/TLeaf metadata and, for a
// split-class member, its streamer element (RootBranchMeta::member_*), giving
// the same answer as decoflow.root's uproot adapter (`_uproot.branch_kind`)
// or none: a branch whose type needs what the native reader does not read
// (a TBranchObject, objects holding strings or containers) is left unknown,
// with the reason, for a caller to read another way or refuse.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "decoflow/column_chunk.hpp"

namespace decoflow {

struct RootBranchMeta;
struct RootTreeMeta;

/// A branch's values: its element type and layout (column_chunk.hpp) and the
/// shape its arrays have.
struct RootBranchKind {
  RootType type = RootType::float64;  ///< the value's type (uint8 for strings, records)
  ColumnLayout layout = ColumnLayout::fixed;
  std::vector<std::uint64_t> inner;   ///< fixed dimensions per entry (x[3][2]: {3, 2})
  std::uint8_t header_bytes = 0;      ///< before each entry's values (std::vector: 10)
  ElementCoding coding = ElementCoding::plain;
  std::uint8_t nbits = 0;
  double low = 0, high = 0;
  /// A leaf list's fields (coding record): name, type and dimensions of each.
  struct Field {
    std::string name;
    RootType type = RootType::float64;
    std::vector<std::uint64_t> dims;
    bool operator==(const Field&) const = default;
  };
  std::vector<Field> record;
  /// objects: each object's (field prefix, class name), the outermost first
  /// (awkward's __record__ names, as _uproot's BranchKind.records).
  std::vector<std::pair<std::string, std::string>> classes;
  /// nested (std::vector<std::vector<T>>, std::vector<std::string>): the list
  /// levels inside each entry's list, and whether the last holds strings.
  std::uint8_t depth = 0;
  bool leaf_strings = false;

  /// Values per entry (the product of `inner`; 1 for jagged and strings).
  std::uint64_t items() const noexcept;
  /// A record's element widths, row after row (RootBranchSpec::fields).
  std::vector<std::uint8_t> field_widths() const;
  bool operator==(const RootBranchKind&) const = default;
};

/// The kind of branch `index` of `tree`, or nullopt with `why` set. Thread-safe.
std::optional<RootBranchKind> identify_root_branch(const RootTreeMeta& tree, std::size_t index,
                                                   std::string& why);

}  // namespace decoflow
