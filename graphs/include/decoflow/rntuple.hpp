// decoflow/rntuple.hpp: an RNTuple's metadata read natively — from its
// anchor's envelope links to every column's pages — and the read of some of
// its columns made a plan of column chunks (root_branches.hpp), one per page.
//
//   anchor (header/footer links: from the file's key, found by the caller)
//     │
//     ▼ RNTuple(file, anchor, name)    header envelope: fields, columns, alias columns
//   fields, columns, clusters          footer envelope: schema extension, cluster groups
//     │                                each group's page list envelope: per cluster, per
//     │                                column its element offset, codec, pages (locators)
//     ▼ column_spec(column, clusters)
//   RootBranchSpec: one "basket" per page, element ranges for entries; the
//   page's column type and encoding say how it becomes values (column_chunk.hpp)
//     │
//     ▼ rntuple_tree(ntuples, columns, clusters)   several files read as one
//   RootTree (root_branches.hpp): plan, run, collect
//
// rntuple_fields.hpp reads fields by name on top of this.
//
// Every envelope's xxHash3 is verified, and every frame, locator and count is
// checked against the bytes that hold it: a lie fails with Error(corrupt_input)
// naming the envelope and the byte range. The RNTuple binary format is ROOT's
// tree/ntuple/doc/BinaryFormatSpecification.md (format 1.0).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "decoflow/input.hpp"
#include "decoflow/root_branches.hpp"

namespace decoflow {

/// What the `ROOT::RNTuple` anchor object says (its key is read by the caller).
struct RNTupleAnchor {
  std::uint64_t seek_header = 0, nbytes_header = 0, len_header = 0;
  std::uint64_t seek_footer = 0, nbytes_footer = 0, len_footer = 0;
  std::uint64_t max_key_size = 0;
};

class RootFile;

/// Reads the `ROOT::RNTuple` anchor object at `path` in `file` ("ntuple",
/// "dir/ntuple;1"): its class version, format epoch 1, the envelope links
/// (big-endian) and their xxHash3, verified. Throws Error(invalid_argument)
/// when there is no such key or it is not an RNTuple, Error(corrupt_input)
/// naming the key when the anchor is cut short or its checksum disagrees,
/// Error(unsupported_format) for another format epoch. Thread-safe.
RNTupleAnchor read_rntuple_anchor(const RootFile& file, std::string_view path);

/// A field record (header or schema extension); its id is its index.
struct RNTupleField {
  static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
  std::uint32_t field_version = 0, type_version = 0;
  std::uint32_t parent = 0;  ///< itself for a top-level field
  std::uint16_t role = 0;    ///< 0 leaf, 1 collection, 2 record, 3 variant, 4 streamer
  std::uint16_t flags = 0;   ///< 1 repetitive, 2 projected, 4 type checksum
  std::string name, type, alias, description;
  std::uint64_t array_size = 0;        ///< repetitive fields
  std::uint32_t source = none;         ///< projected fields
  /// Its columns (physical ids; a projected field's alias columns point at
  /// the source's), in order: representation 0's, then 1's, ...
  std::vector<std::uint32_t> columns;
  std::uint16_t representations = 0;  ///< columns.size() / representations per representation
};

/// A physical column record; its id is its index.
struct RNTupleColumn {
  std::uint16_t type = 0;  ///< the specification's column type (0x00 Bit ... 0x1D Real32Quant)
  std::uint16_t bits = 0;  ///< bits on storage per element
  std::uint32_t field = 0;
  std::uint16_t flags = 0;  ///< 1 deferred, 2 with a range
  std::uint16_t representation = 0;
  std::int64_t first_element = 0;  ///< deferred: the first element stored (negative: suppressed too)
  double min = 0, max = 0;         ///< with a range
};

/// One page of one column in one cluster.
struct RNTuplePage {
  std::uint64_t elements = 0;
  bool checksum = false;  ///< an xxHash3 of the stored bytes follows them
  std::uint64_t offset = 0, size = 0;
};

/// One column in one cluster: where its elements start and its pages.
struct RNTupleColumnRange {
  bool present = false;     ///< listed in the cluster's page list
  bool suppressed = false;  ///< a secondary representation in this cluster
  std::uint64_t first_element = 0;
  std::uint64_t elements = 0;  ///< its pages' (a suppressed column: its primary's)
  std::uint32_t compression = 0;
  std::size_t page_begin = 0, page_end = 0;  ///< in RNTupleCluster::pages
};

struct RNTupleCluster {
  std::uint64_t first_entry = 0, entries = 0;
  std::vector<RNTupleColumnRange> columns;  ///< by physical column id
  std::vector<RNTuplePage> pages;
};

/// An RNTuple's metadata, read from a mapped file. Immutable once made;
/// const member functions are thread-safe.
class RNTuple {
 public:
  /// Reads the header, footer and page list envelopes the anchor leads to.
  /// Throws Error(corrupt_input) naming the envelope and byte range when a
  /// link points outside the file, a checksum or length disagrees, or a
  /// record is cut short; Error(unsupported_format) for feature flags,
  /// sharded clusters or locators this reader does not know.
  RNTuple(std::shared_ptr<const InputBuffer> file, const RNTupleAnchor& anchor, std::string name);

  const std::string& name() const noexcept { return name_; }
  const std::shared_ptr<const InputBuffer>& file() const noexcept { return file_; }
  const RNTupleAnchor& anchor() const noexcept { return anchor_; }
  const std::vector<RNTupleField>& fields() const noexcept { return fields_; }
  const std::vector<RNTupleColumn>& columns() const noexcept { return columns_; }
  const std::vector<RNTupleCluster>& clusters() const noexcept { return clusters_; }
  std::uint64_t entries() const noexcept;

  /// The read of slot `slot` (0: the principal column) of field `field` over
  /// clusters [cluster_begin, cluster_end): per cluster the pages of the
  /// representation that is primary there, each a page "basket" whose
  /// entries are element numbers counted from the first cluster's first
  /// element; elements before a deferred column's first are a zero chunk.
  /// Index columns (collections' offsets) become global int64 ends, each
  /// page's base computed here from the element offsets of the field's
  /// first descendant column. `name`: the spec's name (errors say it).
  /// `file`: the file's index in the read. Values: the field's type
  /// (value_type()). Throws Error(unsupported_format) naming the field, its
  /// type and the column type for what is not decoded, Error(invalid_argument)
  /// for a field, slot or cluster range out of range.
  RootBranchSpec column_spec(std::uint32_t field, std::uint32_t slot, std::size_t cluster_begin,
                             std::size_t cluster_end, std::string name,
                             std::uint32_t file = 0) const;

  /// The values' type of slot `slot` of field `field`: int64 for an index
  /// column (a collection's offsets) and for a variant's switch column
  /// (each entry's alternative index << 8 | its tag), uint8 for a string's characters, the
  /// field's C++ type otherwise (bool, std::int8_t ... double; char as int8).
  /// Throws Error(unsupported_format) naming field and type for others.
  RootType value_type(std::uint32_t field, std::uint32_t slot) const;

  /// An index column's collection elements over clusters [cluster_begin,
  /// cluster_end) (what its last end counts; 0 for other columns): where
  /// the next file's ends start when files are read as one.
  std::uint64_t collection_elements(std::uint32_t field, std::uint32_t slot,
                                    std::size_t cluster_begin, std::size_t cluster_end) const;

 private:
  // The column whose elements an index column counts, and how many of its
  // elements make one collection element (fixed-size arrays between).
  std::optional<std::pair<std::uint32_t, std::uint64_t>> counted_column(std::uint32_t field,
                                                                        std::uint32_t slot) const;
  // The column with one element per entry of field `field` (its own
  // principal column, or its first descendant's, through records and
  // fixed-size arrays), and how many of its elements make one entry.
  std::optional<std::pair<std::uint32_t, std::uint64_t>> entry_column(std::uint32_t field) const;
  std::optional<std::uint32_t> first_child(std::uint32_t field) const;

  // Column `column` (of field `field`)'s first element in cluster `cluster`
  // as its element numbers count, stored there or not.
  std::uint64_t cluster_start(std::uint32_t field, std::uint32_t column, std::size_t cluster) const;

  std::string name_;
  std::shared_ptr<const InputBuffer> file_;
  RNTupleAnchor anchor_;
  std::uint64_t max_key_size_ = 0;
  std::vector<RNTupleField> fields_;
  std::vector<RNTupleColumn> columns_;
  std::vector<RNTupleCluster> clusters_;
};

/// One column of an RNTuple read: slot `slot` of field `field`, called
/// `name` in the read (its errors name it: "field 'jets' offsets").
struct RNTupleColumnRef {
  std::string name;
  std::uint32_t field = 0;
  std::uint32_t slot = 0;
};

/// The read of `columns` over RNTuples in several files, read as one (one
/// per file, with the same fields; their entries one after another):
/// clusters [first, second) of each (`clusters`: one range per RNTuple).
/// Each column is a branch of the tree (RNTuple::column_spec): its pages in
/// file order, element numbers and index columns' ends running on from one
/// file to the next. `name`: the tree's (its graphs' name). Throws
/// Error(invalid_argument) for no RNTuples, a null one, a cluster range per
/// RNTuple missing or out of range, a field or slot out of range;
/// Error(unsupported_format) naming the field and its type for a column
/// that is not decoded. Thread-safe.
RootTree rntuple_tree(const std::vector<std::shared_ptr<const RNTuple>>& ntuples,
                      const std::vector<RNTupleColumnRef>& columns,
                      const std::vector<std::pair<std::size_t, std::size_t>>& clusters,
                      std::string name);

}  // namespace decoflow
