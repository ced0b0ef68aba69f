// decoflow/root_tree_meta.hpp: a TTree's metadata read natively from its key
// (root_file.hpp) — its branch tree (TBranch, TBranchElement and the other
// TBranch classes, their TLeaf* leaves), each branch's basket table
// (fBasketBytes, fBasketEntry, fBasketSeek up to fWriteBasket) and its
// embedded baskets (the TBaskets kept in the TBranch's fBaskets), and each
// branch's kind as decoflow decodes it (root_branch_kind.hpp), or why the
// native reader does not know it. A split-class member's type, and the
// layout of objects (a class's numbers, bases and object members), are looked
// up in the file's streamer infos (the TList at fSeekInfo: each class's
// TStreamerInfo and its elements), read only when such a branch is there.
//
// Class versions: TTree 16–20, TBranch 10–13, TBranchElement 8–10 (ROOT 5.28
// to 6.40); members after the ones read are skipped by each object's byte
// count, and an object whose members run past its byte count is refused.
// Another version is refused by name (Error(unsupported_format)), never guessed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "decoflow/root_branch_kind.hpp"
#include "decoflow/root_branches.hpp"
#include "decoflow/root_file.hpp"

namespace decoflow {

/// One TLeaf of a branch: what the kind is worked out from.
struct RootLeafMeta {
  std::string class_name;  ///< TLeafF, TLeafElement, TLeafD32, ...
  std::string name, title;
  std::int32_t len = 1;           ///< fLen: values per entry (fixed dimensions' product)
  std::int32_t len_type = 0;      ///< fLenType: bytes per value
  bool is_unsigned = false;
  bool has_count = false;         ///< fLeafCount set: a variable count per entry
  std::int32_t element_type = -1; ///< TLeafElement fType (ROOT's EDataType), else -1
};

/// One basket kept inside its TBranch record: its values and, when the
/// entries differ in size, each entry's start in them.
struct RootEmbeddedBasket {
  std::uint64_t entries = 0;      ///< fNevBuf
  std::uint64_t entry_size = 0;   ///< fNevBufSize
  std::vector<std::byte> values;  ///< fLast - fKeylen bytes (the border)
  std::optional<std::vector<std::int32_t>> starts;  ///< per entry, from the values' start
};

/// One branch: where it sits in the tree, its leaves, its baskets, its kind.
struct RootBranchMeta {
  std::string name;        ///< fName
  std::string path;        ///< "parent/child" (uproot's full path)
  std::string class_name;  ///< TBranch, TBranchElement, TBranchObject, ...
  std::string title;
  std::optional<std::size_t> parent;  ///< index in RootTreeMeta::branches
  std::vector<std::size_t> children;
  std::vector<RootLeafMeta> leaves;
  // TBranchElement's (empty / -1 for others); TBranchObject's class name too.
  std::string element_class, parent_name, clones_name;
  std::int32_t id = -1, element_type = -1, streamer_type = -1;
  /// A split-class member's streamer element (its class's TStreamerInfo,
  /// element fID), when found: its type name ("vector<float>", "Double32_t")
  /// and title (a Double32_t's range). Empty when not looked up or not found.
  std::string member_type_name, member_title;
  std::uint64_t entries = 0;  ///< fEntries
  std::uint64_t tot_bytes = 0;  ///< fTotBytes: its baskets decompressed, TKeys included
  /// The baskets written to the file (fBasketSeek, fBasketBytes, fBasketEntry
  /// up to fWriteBasket or the first zero seek), then the embedded ones
  /// (framing embedded; `input` is their index in `embedded`, bytes as the
  /// engine reads them when the kind is known).
  std::vector<RootBasketRef> baskets;
  std::vector<RootEmbeddedBasket> embedded;
  /// What decoflow decodes it as; nullopt with `unknown` saying why not.
  std::optional<RootBranchKind> kind;
  std::string unknown;
};

/// A TTree's metadata.
struct RootTreeMeta {
  std::string name, title;
  std::uint64_t entries = 0;  ///< fEntries
  std::vector<RootBranchMeta> branches;  ///< depth first, as tree.keys() lists them
};

/// Reads the TTree that `key` holds (class TTree). Throws Error(corrupt_input)
/// naming the file, the tree and what was being read (branch, member, payload
/// bytes) for damaged metadata; Error(unsupported_format) for a class version
/// the reader does not know. Thread-safe.
RootTreeMeta read_root_tree(const RootFile& file, const RootKey& key);

/// The same from a TTree key's payload already decompressed (`keylen`: its
/// key's fKeylen, which object references count from; `where` names it in
/// errors); basket end entries the table leaves out are not read from the file.
/// Thread-safe.
RootTreeMeta parse_root_tree(ConstBytes payload, std::uint32_t keylen, std::string where);

/// The branch as a read (root_branches.hpp), its embedded baskets' bytes
/// appended to `embedded` (their inputs are `first_input` + their position
/// there). Throws Error(unsupported_format) naming the branch when its kind
/// is unknown. Thread-safe.
RootBranchSpec root_branch_spec(const RootBranchMeta& branch, std::uint32_t file,
                                std::uint32_t first_input,
                                std::vector<std::vector<std::byte>>& embedded);

/// One branch of a tree stored in several files, read as one tree: each
/// file's branch (`per_file[f]` is in file f) as root_branch_spec makes it,
/// their baskets file after file, each file's entries numbered on from the
/// files' before (the end of their baskets). Throws Error(unsupported_format)
/// naming the branch when a kind is unknown or the kinds differ between the
/// files. Thread-safe.
RootBranchSpec root_branch_spec(std::span<const RootBranchMeta* const> per_file,
                                std::uint32_t first_input,
                                std::vector<std::vector<std::byte>>& embedded);
/// The bytes the engine reads for an embedded basket of this kind
/// (ChunkFraming::embedded): its values, then (jagged, strings) the
/// entry-offsets trailer (count, each entry's start, a last word). Thread-safe.
std::vector<std::byte> embedded_input(const RootEmbeddedBasket& basket, const RootBranchKind& kind);

}  // namespace decoflow
