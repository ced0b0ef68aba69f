// decoflow/root_branches.hpp: numeric TTree branches of a ROOT file decoded
// into one destination array per branch, from the branches' basket tables.
//
//   basket table ──► plan_root_branches ──► one graph (one or more files), one chunk per basket:
//   (fBasketSeek,     (jagged: reads each          chunk = [seek, seek + fBasketBytes) of its mapped file
//    fBasketBytes,     TKey's fLast to size         │
//    entry ranges)     the content array)           ▼
//                                        "baskets" stage (native, GIL-free):
//                                          check the TKey against the table,
//                                          flat:   ROOT blocks ──► content slice, byteswap in place
//                                          jagged: ROOT blocks ──► pooled scratch ──► byteswap-copy
//                                                  the content into its slice; entry offsets
//                                                  trailer ──► global int64 offsets
//                                          [more stages: Python glue, ...]
//
// A basket that fails (a table pointing outside the file, a TKey that
// disagrees with it, bytes that do not decode) fails its branch only: the
// error names the branch and the basket, and every other branch is still
// decoded whole. That is why the stage records failures instead of throwing
// (a throw would cancel the whole graph, as the engine does for any chunk).
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
#include "decoflow/input.hpp"
#include "decoflow/stage.hpp"

namespace decoflow {

/// The element types ROOT writes for numeric branches (big-endian on file).
enum class RootType : std::uint8_t {
  boolean, int8, uint8, int16, uint16, int32, uint32, int64, uint64, float32, float64,
};

/// NumPy's name of the type ("bool", "int8", ..., "float64"). Thread-safe.
std::string_view to_string(RootType type) noexcept;
/// Parses a name written by to_string(); nullopt for any other. Thread-safe.
std::optional<RootType> root_type_from_string(std::string_view name) noexcept;
/// Bytes per element (1, 2, 4 or 8). Thread-safe.
unsigned root_type_width(RootType type) noexcept;

/// One basket of a branch, as its TBranch lists it.
struct RootBasketRef {
  static constexpr std::uint64_t unnumbered = ~std::uint64_t{0};

  std::uint64_t seek = 0;         ///< fBasketSeek[i]: file offset of the basket's TKey
  std::uint64_t bytes = 0;        ///< fBasketBytes[i]: TKey + compressed payload
  std::uint64_t entry_begin = 0;  ///< fBasketEntry[i]: the basket's first entry
  std::uint64_t entry_end = 0;    ///< fBasketEntry[i + 1]: one past its last entry
  /// Which of the plan's files holds it (several files: one tree each, their
  /// entries one after another).
  std::uint32_t file = 0;
  /// Its number among its branch's baskets in its file, for errors; unnumbered:
  /// its index in the table.
  std::uint64_t number = unnumbered;
};

/// A numeric branch to decode: flat (`items_per_entry` values per entry: 1 for
/// `x/F`, 3 for `x[3]/F`) or jagged (`x[n]/F`: a variable number of values per
/// entry, with an entry-offsets trailer in each basket).
///
/// A `char*` string branch decodes as jagged uint8: its content is the bytes as
/// stored (each entry's length — one byte, or 255 and four big-endian bytes —
/// then the string) and its offsets are the entries' byte boundaries;
/// decoflow.root's Strings skips the length bytes and checks them.
struct RootBranchSpec {
  std::string name;
  RootType type = RootType::float64;
  bool jagged = false;
  std::uint64_t items_per_entry = 1;   ///< flat branches only; must be 1 when jagged
  /// In entry order and contiguous. The arrays start at the first basket's
  /// first entry: a table of some of a branch's baskets (those overlapping an
  /// entry range) decodes just those.
  std::vector<RootBasketRef> baskets;
};

/// A branch that could not be decoded, and why (the first failing basket).
struct RootBranchFailure {
  std::size_t branch = 0;  ///< index in the specs given to plan_root_branches()
  std::uint32_t file = 0;  ///< the basket's file
  std::uint64_t basket = 0;  ///< the basket's number (RootBasketRef::number, else its index)
  /// The error: its cause names the branch and the basket ("branch 'Jet_Px'
  /// basket 3 (entries 1500-2000, file bytes [123456, +7890)): corrupt_input: ...").
  Error error;
};

/// One basket as a graph chunk: [input_offset, +input_size) of the file into
/// [dest_offset, +dest_size) of its branch's content array, tag = the basket's
/// id for the stage.
struct RootBasketChunk {
  std::size_t branch = 0;
  std::uint32_t file = 0;  ///< the input: index in RootBranchesPlan::files()
  std::uint64_t input_offset = 0;
  std::uint64_t input_size = 0;
  std::uint64_t dest_offset = 0;
  std::uint64_t dest_size = 0;
  std::int64_t tag = 0;
};

/// The decode of some branches of one file: the destination arrays, the
/// chunks and the stage that fills them, and, once the graph has run, which
/// branches failed. Build with plan_root_branches(), run make_graph() (or a
/// graph built from chunks() and stage(), with more stages after it) once,
/// then read failures().
///
/// Memory: the content and offsets arrays, ~0.2 KiB of tables per basket, and,
/// while the graph runs, one scratch buffer per concurrently decoded jagged
/// basket (at most one per executor thread), each as large as the largest
/// decoded jagged basket (fObjlen); the scratch is freed with the plan's stage.
///
/// Thread-safety: const member functions are thread-safe; failures() gives a
/// complete answer only after the run is done.
class RootBranchesPlan {
 public:
  RootBranchesPlan(RootBranchesPlan&&) noexcept;
  RootBranchesPlan& operator=(RootBranchesPlan&&) noexcept;
  ~RootBranchesPlan();

  std::size_t branch_count() const noexcept;
  const RootBranchSpec& branch(std::size_t i) const;
  /// The entry that element 0 of branch i's arrays holds (the first basket's
  /// first entry; 0 for a whole branch).
  std::uint64_t first_entry(std::size_t i) const;
  /// Entries in branch i's arrays (its baskets' entries, from first_entry()).
  std::uint64_t entries(std::size_t i) const;
  /// Elements in branch i's content array (entries × items_per_entry when flat).
  std::uint64_t content_items(std::size_t i) const;
  /// Branch i's values in native byte order (flat), or its jagged content;
  /// null when the branch failed while planning.
  std::shared_ptr<DestinationArray> content(std::size_t i) const;
  /// Jagged branch i's entry offsets: entries + 1 int64 values into the
  /// content, starting at 0 (awkward's ListOffsetArray layout); null for flat
  /// branches and for branches that failed while planning.
  std::shared_ptr<DestinationArray> offsets(std::size_t i) const;

  /// The chunks to run: one per basket of every branch that planned well,
  /// by branch index, then basket.
  const std::vector<RootBasketChunk>& chunks() const noexcept;
  /// The native stage that decodes a basket chunk; it finds the basket by the
  /// chunk's tag, so a graph may hold the chunks in any order. A chunk's input
  /// must be its file's bytes (RootBasketChunk::file).
  Stage stage() const;
  /// The planned files (RootBasketRef::file indexes them).
  const std::vector<std::shared_ptr<const InputBuffer>>& files() const noexcept;
  /// A graph named after the plan: the files, the content arrays, stage() and
  /// chunks(). Thread-safe.
  Graph make_graph() const;

  /// The branches that failed, by branch index: while planning (their arrays
  /// are null) or while running (their arrays hold partial data). Every
  /// branch not listed is complete once the run is done.
  std::vector<RootBranchFailure> failures() const;
  /// Throws the first failure's Error (lowest branch index), if any.
  void check() const;

  struct State;
  explicit RootBranchesPlan(std::shared_ptr<State> state);

 private:
  std::shared_ptr<State> state_;
};

/// Plans decoding `branches` of `file` (a mapped ROOT file): checks each
/// basket table (contiguous entries, ranges inside the file), reads the TKey
/// of every jagged basket to size its content (fLast - fKeylen, known before
/// decompression), and allocates one content array per branch (plus an
/// offsets array per jagged branch). A branch whose table or keys are wrong
/// is recorded as failed (see failures()); the others are planned.
/// Throws Error(invalid_argument) for a null file, an empty name, or a jagged
/// spec with items_per_entry != 1; Error(resource_error) when memory cannot
/// be obtained. Thread-safe for distinct arguments.
RootBranchesPlan plan_root_branches(std::shared_ptr<const InputBuffer> file,
                                    std::vector<RootBranchSpec> branches,
                                    std::string name = "root_branches");

/// The same over several files holding one tree each, read as one: each
/// branch's table lists the baskets of every file (RootBasketRef::file), its
/// entries running on from one file to the next, and every basket lands in
/// its slice of the one array per branch. Errors name the file too (its path
/// when it is a mapped file). Throws Error(invalid_argument) for no files or
/// a null one, and as the one-file form.
RootBranchesPlan plan_root_branches(std::vector<std::shared_ptr<const InputBuffer>> files,
                                    std::vector<RootBranchSpec> branches,
                                    std::string name = "root_branches");

/// What a basket's TKey (and the TBasket header that ends it) says.
struct RootBasketKey {
  std::uint64_t nbytes = 0;   ///< fNbytes: key + compressed payload
  std::uint64_t objlen = 0;   ///< fObjlen: decompressed payload
  std::uint64_t keylen = 0;   ///< fKeylen: the payload starts here
  std::uint64_t entries = 0;  ///< fNevBuf
  std::uint64_t border = 0;   ///< fLast - fKeylen: content bytes; an offsets trailer follows
};

/// Parses the TKey + TBasket header at the start of `basket` (the bytes from
/// fBasketSeek on; at least the key). Throws Error(corrupt_input) naming the
/// field when the header is truncated or inconsistent (fKeylen beyond fNbytes,
/// fLast outside the payload, ...). Thread-safe.
RootBasketKey parse_root_basket_key(ConstBytes basket);

}  // namespace decoflow
