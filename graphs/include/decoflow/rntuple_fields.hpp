// decoflow/rntuple_fields.hpp: an RNTuple's fields read by name, in C++
// alone — which columns each field needs, one read of those columns over
// one or more files, and each field's values for an entry range.
//
//   RNTuple (rntuple.hpp), one per file, with the same fields
//     │
//     ▼ RNTupleFieldReader(ntuples, {"pt", "jets", "event.x"})
//   per field a tree of RNTupleFieldNode (plan_rntuple_field): values,
//   collections (offsets + items), strings, fixed-size arrays, records;
//   the columns they need, each named for the file it would be written to
//     │
//     ▼ plan(entries)      the clusters holding the entries, in every file:
//   RNTupleFieldRead        rntuple_tree() → RootReadPlan, one chunk per page
//     │
//     ▼ make_graph(), run, collect()
//   per field: each column's values for the entries (offsets from 0),
//   or the field's failure (field, cluster, page, byte range)
//
// The nodes follow the RNTuple's own schema, not uproot's awkward view of
// it (decoflow.root's Python reader builds that): a class's base classes are
// records named ":_0", ":_1" ...; a std::optional is a collection of zero or
// one item; std::atomic<T> and enums are their T; a std::variant's
// alternatives hold only the items of the entries read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "decoflow/destination.hpp"
#include "decoflow/error.hpp"
#include "decoflow/graph.hpp"
#include "decoflow/rntuple.hpp"
#include "decoflow/root_branches.hpp"

namespace decoflow {

/// A column a field needs, named for where its values would be written:
/// values, a string's characters and a variant's (index << 8 | tag) "PATH"
/// (PATH.bin), a collection's or string's offsets "PATH.offsets",
/// "PATH.offsets1", ... (one level per list between PATH's record and the
/// values, as decoflow-root-decode names a nested TTree branch's); a
/// record's members and a variant's alternatives "PATH.NAME" ("v._0").
struct RNTupleFieldColumn {
  std::string name;
  std::uint32_t field = 0;  ///< the RNTuple's field id (a projected field's own)
  std::uint32_t slot = 0;   ///< its column slot (0: principal; a string's characters: 1)
  bool offsets = false;     ///< an index column: int64 entry boundaries
  RootType type = RootType::uint8;  ///< the values' type (offsets: int64)
};

/// How a field's (or subfield's) values lie in its read's columns.
struct RNTupleFieldNode {
  enum class Kind : std::uint8_t {
    values,       ///< one value per item: `column`
    collection,   ///< std::vector, RVec, sets, maps, std::optional ...: offsets `column`, items children[0]
    string,       ///< std::string: offsets `column`, characters (uint8) `content`
    fixed,        ///< std::array<T, N>: `size` items of children[0] each; std::bitset<N>: `size` bools of `column`
    record,       ///< structs, classes, std::pair, std::tuple: children, one value each
    cardinality,  ///< ROOT::RNTupleCardinality: each entry's collection size, from offsets `column`
    /// std::variant: `column` holds each value's int64 (index << 8 | tag):
    /// tag 0 none, k + 1 children[k]'s item `index`.
    variant,
  };
  static constexpr std::size_t no_column = ~std::size_t{0};

  Kind kind = Kind::values;
  std::uint32_t field = 0;  ///< the RNTuple's field id
  std::string name;         ///< its own name (a record member's; "_0" for a collection's items)
  std::string type;         ///< its C++ type as the RNTuple names it (std::atomic<T>, enums: T's)
  std::uint64_t size = 0;   ///< fixed: items per value
  std::size_t column = no_column;   ///< index into the field's columns
  std::size_t content = no_column;  ///< string: its characters' column
  std::vector<RNTupleFieldNode> children;
};

/// The awkward-style type of a planned field ("var * float32", "3 * int32",
/// "string", "{x: float32, hits: var * int16}", "union[int32, string]";
/// cardinality: "int64").
/// `columns`: the columns `node` indexes. Thread-safe.
std::string describe_type(const RNTupleFieldNode& node, const std::vector<RNTupleFieldColumn>& columns);

/// Plans field `path` of `ntuple`: a top-level field's name, or a subfield's
/// path through records ("event.x", "event.vertex.z"; a subfield of a
/// collection's items has no value per entry: read the collection). The columns it needs are
/// appended to `columns` (the nodes index them). Throws
/// Error(invalid_argument) naming the path when no field has it (listing
/// the top-level fields), Error(unsupported_format) naming the field and
/// its type for what is not decoded (fields stored with the ROOT
/// streamer, column types not decoded, shapes not understood).
/// Thread-safe.
RNTupleFieldNode plan_rntuple_field(const RNTuple& ntuple, std::string_view path,
                                    std::vector<RNTupleFieldColumn>& columns);

/// The top-level fields of `ntuple` in schema order. Thread-safe.
std::vector<std::string> rntuple_top_fields(const RNTuple& ntuple);

/// One column of a collected field: its values for the read's entries.
struct RNTupleColumnValues {
  std::shared_ptr<DestinationArray> array;  ///< the column's decoded array (shared)
  std::uint64_t begin = 0;  ///< the first element in `array` (its type's width each)
  std::uint64_t count = 0;  ///< elements; offsets: count + 1 int64, the first 0
  /// The first value's bytes.
  const std::byte* data(std::size_t width) const noexcept { return array->data() + begin * width; }
};

/// One field of a collected read.
struct RNTupleFieldResult {
  std::uint64_t entries = 0;
  /// By the field's column index (RNTupleFieldReader::columns(field)).
  std::vector<RNTupleColumnValues> columns;
  /// Set when the field failed (its first failing column's page: its name,
  /// cluster, page and byte range, or offsets that point outside the values
  /// they count); then `columns` is empty.
  std::optional<Error> failure;
};

class RNTupleFieldRead;

/// Fields of an RNTuple read by name, in one or more files read as one.
/// Immutable once made; const member functions are thread-safe.
class RNTupleFieldReader {
 public:
  /// `ntuples`: one per file, their entries one after another; they must
  /// have the same fields (names, types, structure and columns). `fields`:
  /// top-level field names or subfield paths (plan_rntuple_field), each read
  /// once. Throws Error(invalid_argument) for no RNTuples, a null one, no
  /// fields, a name no field has, RNTuples whose fields differ;
  /// Error(unsupported_format) naming the field and its type for a field
  /// not decoded.
  RNTupleFieldReader(std::vector<std::shared_ptr<const RNTuple>> ntuples, std::vector<std::string> fields);

  std::size_t field_count() const noexcept { return fields_.size(); }
  const std::string& field_name(std::size_t i) const { return names_.at(i); }
  const RNTupleFieldNode& field(std::size_t i) const { return fields_.at(i); }
  const std::vector<RNTupleFieldColumn>& columns(std::size_t i) const { return columns_.at(i); }
  /// Entries in every RNTuple together.
  std::uint64_t entries() const noexcept;
  const std::vector<std::shared_ptr<const RNTuple>>& ntuples() const noexcept { return ntuples_; }

  /// Plans reading entries `window` (nullopt: all; clipped to entries()):
  /// the clusters holding them, in every file, one chunk per page of every
  /// column the fields need. Throws Error(invalid_argument) for stop <
  /// start; Error(resource_error) when memory cannot be obtained.
  RNTupleFieldRead plan(std::optional<EntryRange> window = std::nullopt) const;

 private:
  std::vector<std::shared_ptr<const RNTuple>> ntuples_;
  std::vector<std::string> names_;
  std::vector<RNTupleFieldNode> fields_;
  std::vector<std::vector<RNTupleFieldColumn>> columns_;
};

/// A planned read of RNTupleFieldReader's fields: run make_graph() once
/// (or the chunks of plan() through any graph), then collect(). It keeps
/// what it needs of the reader (which may go). Memory: the read clusters'
/// decoded columns (RootReadPlan's).
///
/// Thread-safety: const member functions are thread-safe.
class RNTupleFieldRead {
 public:
  /// The column read (RootReadPlan: chunks, stage, failures).
  const RootReadPlan& plan() const noexcept { return plan_; }
  /// A graph of the read's chunks, decoding every page into its slice.
  Graph make_graph() const { return plan_.make_graph(); }
  /// The entries read: [first, first + entries()) of the reader's.
  std::uint64_t first_entry() const noexcept { return window_.start; }
  std::uint64_t entries() const noexcept { return window_.stop - window_.start; }

  /// Once the graph has run: per field (the reader's order) its columns'
  /// values for the entries, offsets rebased in place to start at 0, or its
  /// failure. Call once. Throws Error(invalid_argument) when called twice.
  std::vector<RNTupleFieldResult> collect();

 private:
  friend class RNTupleFieldReader;
  RNTupleFieldRead(std::vector<std::string> names, std::vector<RNTupleFieldNode> fields,
                   std::vector<std::vector<RNTupleFieldColumn>> columns, RootReadPlan plan,
                   EntryRange window, std::uint64_t clusters_first_entry);

  std::vector<std::string> names_;
  std::vector<RNTupleFieldNode> fields_;
  std::vector<std::vector<RNTupleFieldColumn>> columns_;
  RootReadPlan plan_;
  EntryRange window_;
  std::uint64_t clusters_first_entry_;  ///< the first read cluster's first entry
  bool collected_ = false;
};

}  // namespace decoflow
