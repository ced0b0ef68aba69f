// decoflow/root_branches.hpp: TTree branches of ROOT files read into one
// array per branch — the whole read in C++: Python (decoflow.root), the
// command line (decoflow-root-decode) and C++ callers describe it once.
//
//   RootTree: the files (mapped once) + each branch's basket table over them
//     │
//     ▼ plan(entry window, previous step)      one ColumnChunk per basket holding
//   RootReadPlan ── arrays allocated ──────── an entry of the window (jagged: sized
//     │                                         from each TKey's fLast, read now)
//     ▼ make_graph(extra stages)
//   one graph over every file: "baskets" stage (native, GIL-free) decodes each
//   chunk into its slice (column_chunk.hpp), [glue, ...]
//     │
//     ▼ collect()                              per branch: the window's arrays (views),
//   std::vector<RootBranchResult>              or the failure located by file, branch,
//                                              basket, entries and byte range
//
// iterate() in steps: plan(window, &previous) leaves out a basket the
// previous step decodes too; that step's collect() hands its values over
// (straight into this step's slice, or a private copy this step views when
// its whole window lies inside that basket), so every basket is decoded once.
//
// A basket that fails (a table pointing outside the file, a TKey that
// disagrees with it, bytes that do not decode, string lengths that disagree
// with the offsets) fails its branch only; every other branch is still
// decoded whole. That is why the stage records failures instead of throwing
// (a throw would cancel the whole graph, as the engine does for any chunk).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "decoflow/column_chunk.hpp"
#include "decoflow/destination.hpp"
#include "decoflow/error.hpp"
#include "decoflow/graph.hpp"
#include "decoflow/input.hpp"
#include "decoflow/stage.hpp"

namespace decoflow {

/// How an RNTuple page's elements are stored (column_chunk.hpp's le_* codings).
struct RootPageCoding {
  ElementCoding coding = ElementCoding::le_values;
  RootType stored_type = RootType::uint8;
  bool split = false, zigzag = false;
  bool checksum = false;  ///< an xxHash3 follows the page (counted in RootBasketRef::bytes)
  std::uint8_t nbits = 0;
  double low = 0, high = 0;
  std::int64_t value_base = 0;    ///< le_index
  std::uint64_t value_limit = 0;  ///< le_index
  std::uint64_t cluster = 0;      ///< the page's cluster (errors)
  /// le_switch: per alternative (tag k + 1) its base and its elements in the
  /// page's cluster: [base_0, count_0, base_1, count_1, ...].
  std::vector<std::int64_t> tag_bases;
};

/// Sets `chunk`'s RNTuple page fields (coding, stored type, split, zigzag,
/// checksum, nbits, range, value base and limit, tag bases: a pointer into
/// `page`, which must outlive the chunk) from `page`. Thread-safe.
void apply_page_coding(ColumnChunk& chunk, const RootPageCoding& page) noexcept;

/// One basket of a branch, as its TBranch lists it (or one page of an
/// RNTuple column: framing rntuple_page / rntuple_zeros, its entries the
/// column's elements).
struct RootBasketRef {
  static constexpr std::uint64_t unnumbered = ~std::uint64_t{0};

  std::uint64_t seek = 0;         ///< fBasketSeek[i]: file offset of the basket's TKey
  std::uint64_t bytes = 0;        ///< fBasketBytes[i]: TKey + compressed payload
  std::uint64_t entry_begin = 0;  ///< fBasketEntry[i]: the basket's first entry
  std::uint64_t entry_end = 0;    ///< fBasketEntry[i + 1]: one past its last entry
  /// Which of the tree's files holds it (several files: one tree each, their
  /// entries one after another).
  std::uint32_t file = 0;
  /// Its number among its branch's baskets in its file, for errors; unnumbered:
  /// its index in the table.
  std::uint64_t number = unnumbered;
  /// A basket kept inside its TBranch record (ChunkFraming::embedded): its
  /// bytes are input `input` of the tree (after the files: RootTree's
  /// `embedded` inputs), from `seek` for `bytes` bytes, and `border` of them
  /// are its values.
  ChunkFraming framing = ChunkFraming::tbasket;
  std::uint32_t input = 0;
  std::uint64_t border = 0;
  /// An RNTuple page's encoding.
  RootPageCoding page = {};
};

/// A branch to read: its values' type and layout (column_chunk.hpp) and its
/// basket table. `items_per_entry` is 3 for `x[3]/F`, and 1 for jagged and
/// strings branches; `header_bytes` the bytes before each entry's values
/// (jagged, strings: `std::vector<T>` 10, a `std::string` member 6).
struct RootBranchSpec {
  std::string name;
  RootType type = RootType::float64;
  ColumnLayout layout = ColumnLayout::fixed;
  std::uint64_t items_per_entry = 1;
  std::uint8_t header_bytes = 0;
  /// How each stored element becomes a value (column_chunk.hpp): `type` is
  /// the value's (float64 for Double32_t, float32 for Float16_t; uint8 for a
  /// record, whose rows are `fields` wide: each element's width).
  ElementCoding coding = ElementCoding::plain;
  std::uint8_t nbits = 0;
  double low = 0, high = 0;
  std::vector<std::uint8_t> fields;
  /// nested (column_chunk.hpp): the list levels inside each entry's list
  /// (`std::vector<std::vector<T>>`: 1, `std::vector<std::string>`: 0; at most
  /// max_nested_depth) and whether the last level holds strings (then `type`
  /// is uint8: their bytes). header_bytes is 10.
  std::uint8_t depth = 0;
  bool leaf_strings = false;
  /// An RNTuple index column: its content array starts with one 0 before
  /// the first basket's values (the ends become offsets: [0, end_0, ...]).
  bool leading_zero = false;
  /// In entry order and contiguous. The arrays start at the first basket's
  /// first entry: a table of some of a branch's baskets decodes just those.
  std::vector<RootBasketRef> baskets;
};

/// Bytes per value of the branch in its arrays (a record: its row). Thread-safe.
std::uint32_t value_width(const RootBranchSpec& spec) noexcept;
/// Bytes per value as stored (Double32_t with a range: 4, with bits only: 3). Thread-safe.
std::uint32_t stored_width(const RootBranchSpec& spec) noexcept;

/// Entries [start, stop) of a tree.
struct EntryRange {
  std::uint64_t start = 0;
  std::uint64_t stop = 0;
};

/// A branch that could not be decoded, and why (the first failing basket).
struct RootBranchFailure {
  std::size_t branch = 0;    ///< the branch's index in its tree
  std::uint32_t file = 0;    ///< the basket's file
  std::uint64_t basket = 0;  ///< the basket's number (RootBasketRef::number, else its index)
  /// The error: its cause names the branch and the basket ("branch 'Jet_Px'
  /// basket 3 (entries 1500-2000, file bytes [123456, +7890)): corrupt_input: ...").
  Error error;
};

/// One branch of a collected read: where the window's values lie.
///
/// Values: elements [content_begin, content_begin + content_items) of
/// `content` (native order; `items_per_entry` per entry when fixed). Jagged
/// and strings: `offsets` elements [entry_begin, entry_begin + entries] are
/// the entries' boundaries counted from content_begin (the first is 0);
/// strings: `starts` elements [entry_begin, entry_begin + entries) are where
/// each entry's bytes begin after its length, counted the same way.
struct RootBranchResult {
  /// nested: one level of lists below the entries' (then the strings, when
  /// the leaves are strings): `count` elements whose boundaries are `offsets`
  /// elements [begin, begin + count] (int64, the first 0), counted in the
  /// elements of the next level (the last level: in content values).
  struct Level {
    std::shared_ptr<DestinationArray> offsets;
    std::uint64_t begin = 0;
    std::uint64_t count = 0;
  };

  std::shared_ptr<DestinationArray> content;
  std::uint64_t content_begin = 0;
  std::uint64_t content_items = 0;
  std::shared_ptr<DestinationArray> offsets;  ///< int64; null when fixed
  std::shared_ptr<DestinationArray> starts;   ///< int64; null unless strings
  std::uint64_t entry_begin = 0;
  std::uint64_t entries = 0;
  /// nested: the levels below the entries' (`offsets` counts the first's elements).
  std::vector<Level> levels;
  /// The branch's chunks in make_graph()'s graph: [chunk_begin, chunk_end).
  std::uint64_t chunk_begin = 0;
  std::uint64_t chunk_end = 0;
  /// Set when the branch failed: then the arrays are not to be used.
  std::optional<RootBranchFailure> failure;
};

/// Where chunk `index` of a plan's graph comes from.
struct RootChunkLocation {
  std::size_t branch = 0;
  std::uint32_t file = 0;
  std::uint64_t basket = 0;
  std::string where;  ///< "branch 'x' basket 3 (entries 10-20, file bytes [1234, +567))"
};

class RootReadPlan;

/// Some branches of one tree, in one or more files read as one (their entries
/// one after another): the files, mapped once, and each branch's basket table
/// over them. Plan reads of it with plan(). Cheap to copy (shared, immutable).
///
/// Thread-safety: const member functions are thread-safe.
class RootTree {
 public:
  /// `embedded`: the bytes of baskets kept inside TBranch records (inputs
  /// files.size(), files.size() + 1, ... for RootBasketRef::input).
  /// Throws Error(invalid_argument) for no files, a null input, an empty
  /// name, a branch with items_per_entry 0, a jagged or strings branch with
  /// items_per_entry other than 1 (a strings branch must be uint8), header
  /// bytes on a fixed branch, or an embedded basket's input out of range. A
  /// coding that does not fit its branch (Double32_t's float64, Float16_t's
  /// float32; nbits in [1, 32] with a range, [1, 23] without; a record of 1-,
  /// 2-, 4- or 8-byte fields) fails that branch when planned.
  RootTree(std::vector<std::shared_ptr<const InputBuffer>> files,
           std::vector<RootBranchSpec> branches, std::string name = "root_branches",
           std::vector<std::shared_ptr<const InputBuffer>> embedded = {});

  const std::string& name() const noexcept;
  std::size_t branch_count() const noexcept;
  const RootBranchSpec& branch(std::size_t i) const;
  const std::vector<std::shared_ptr<const InputBuffer>>& files() const noexcept;
  /// The files, then the embedded baskets' inputs (ColumnChunk::file indexes them).
  const std::vector<std::shared_ptr<const InputBuffer>>& inputs() const noexcept;

  /// Plans reading `window` (nullopt: every basket of every branch, empty ones
  /// too): checks the baskets holding its entries (contiguous, inside their
  /// file; jagged: their TKeys), allocates the arrays, and lists the chunks.
  /// With `previous` (the plan of the step before, of this tree, not yet
  /// collected), a branch whose first basket is previous's last is not
  /// decoded again: previous.collect() hands its values over. A branch whose
  /// table or keys are wrong is recorded as failed; the others are planned.
  /// Throws Error(invalid_argument) for a window with stop < start or a
  /// previous plan of another tree; Error(resource_error) when memory cannot
  /// be obtained.
  RootReadPlan plan(std::optional<EntryRange> window = std::nullopt,
                    RootReadPlan* previous = nullptr) const;

  struct Data;

 private:
  std::shared_ptr<const Data> data_;
};

/// A planned read: the arrays, the chunks and the stage that fills them.
/// Run make_graph() (its chunks, the "baskets" stage, any stages after it)
/// once, then collect().
///
/// Memory: the arrays (whole baskets: the window plus at most the rest of its
/// first and last basket, never paged in), ~0.1 KiB per chunk, and while the
/// graph runs one scratch buffer per jagged or strings basket decoded at once.
/// A nested branch reserves room for the most each basket's bytes can hold
/// (its lists' offsets: 2× the basket's bytes per level, in pages that stay
/// untouched where unused); collect() moves the values together (one pass
/// over them) and hands the room left over back to the system.
///
/// Thread-safety: const member functions are thread-safe; failures() and
/// collect() give a complete answer only after the run is done.
class RootReadPlan {
 public:
  RootReadPlan(RootReadPlan&&) noexcept;
  RootReadPlan& operator=(RootReadPlan&&) noexcept;
  ~RootReadPlan();

  std::size_t branch_count() const noexcept;
  const RootBranchSpec& branch(std::size_t i) const;
  /// The entry that element 0 of branch i's arrays holds (the first basket's
  /// first entry).
  std::uint64_t first_entry(std::size_t i) const;
  /// Entries in branch i's arrays (its planned baskets', from first_entry()).
  std::uint64_t entries(std::size_t i) const;
  /// Elements in branch i's content array (nested: the room reserved until
  /// collected, then the values).
  std::uint64_t content_items(std::size_t i) const;
  /// Branch i's arrays (see RootBranchResult); null when it failed while
  /// planning or its window lies inside the previous step's basket.
  std::shared_ptr<DestinationArray> content(std::size_t i) const;
  std::shared_ptr<DestinationArray> offsets(std::size_t i) const;
  std::shared_ptr<DestinationArray> starts(std::size_t i) const;

  /// The chunks to run, by branch then basket; chunk t has tag t.
  const std::vector<ColumnChunk>& chunks() const noexcept;
  /// The native "baskets" stage: it finds each chunk by its tag.
  Stage stage() const;
  /// The tree's files, then the embedded baskets' inputs (ColumnChunk::file indexes them).
  const std::vector<std::shared_ptr<const InputBuffer>>& inputs() const noexcept;
  /// A graph named after the tree: the inputs, the arrays, stage(), `more`
  /// stages after it, and chunks() in order (graph chunk t is chunks()[t]).
  Graph make_graph(std::vector<Stage> more = {}) const;
  /// Where graph chunk `index` comes from; nullopt for no such chunk.
  std::optional<RootChunkLocation> locate(std::size_t index) const;

  /// The branches that failed so far, by branch index.
  std::vector<RootBranchFailure> failures() const;
  /// Throws the first failure's Error (lowest branch index), if any.
  void check() const;

  /// Once the graph has run: hands the values of a basket the next step
  /// shares over to it, and returns each branch's window. Call once; the
  /// arrays' offsets are rebased in place (a window starts at 0).
  /// Throws Error(invalid_argument) when called twice.
  std::vector<RootBranchResult> collect();

  struct State;
  explicit RootReadPlan(std::shared_ptr<State> state);

 private:
  friend class RootTree;  // plan(window, previous) links the steps
  std::shared_ptr<State> state_;
};

/// RootTree(files, branches, name).plan(): every basket of every branch.
RootReadPlan plan_root_branches(std::vector<std::shared_ptr<const InputBuffer>> files,
                                std::vector<RootBranchSpec> branches,
                                std::string name = "root_branches");
/// The same for one file.
RootReadPlan plan_root_branches(std::shared_ptr<const InputBuffer> file,
                                std::vector<RootBranchSpec> branches,
                                std::string name = "root_branches");

}  // namespace decoflow
