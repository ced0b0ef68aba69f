// decoflow/root_file.hpp: the structure of a ROOT file, read natively — the
// file header, directories and their keys, and any key's object payload
// (decompressed). Knows nothing of what the objects are: TTree metadata
// (root_tree_meta.hpp) and RNTuple's anchor are read on top of it.
//
//   "root" header ─► top directory (at fBEGIN + fNbytesName) ─► keys list (fSeekKeys)
//                                                                 │ TKey headers
//                       subdirectory (TDirectory(File) key) ◄──────┤
//                       object payload  ◄── read_object(key) ◄─────┘ ZS/L4/ZL/XZ or raw
//
// Small and large files: a file header version ≥ 1000000, a TDirectory
// version > 1000 and a TKey version > 1000 mean 64-bit seeks. Every error is
// Error(corrupt_input) naming the file and what was being read (key name,
// byte range); a key or directory that points outside the file, a keys list
// that loops back on a directory being read, or a payload whose size
// disagrees with its key is refused, never followed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "decoflow/bytes.hpp"
#include "decoflow/error.hpp"
#include "decoflow/input.hpp"

namespace decoflow {

/// One TKey header: where an object is and what it is.
struct RootKey {
  std::uint64_t seek = 0;      ///< fSeekKey: file offset of this header
  std::uint32_t nbytes = 0;    ///< fNbytes: header + stored payload
  std::uint32_t objlen = 0;    ///< fObjlen: the payload decompressed
  std::uint16_t keylen = 0;    ///< fKeylen: the payload starts here
  std::uint16_t version = 0;   ///< > 1000: 64-bit seeks
  std::uint16_t cycle = 0;
  std::uint64_t seek_pdir = 0; ///< fSeekPdir: its directory's record
  std::string class_name, name, title;
};

/// A directory: its keys, as its keys list gives them.
struct RootDirectory {
  std::string path;            ///< "" for the file's top directory, else "a/b"
  std::uint64_t seek_dir = 0;  ///< fSeekDir
  std::uint64_t seek_keys = 0; ///< fSeekKeys: the keys list's TKey
  std::vector<RootKey> keys;
};

/// A ROOT file opened for reading its structure. The file is mapped once and
/// shared (file()), so a read plan maps it no second time.
///
/// Thread-safety: immutable after construction; const member functions are
/// thread-safe.
class RootFile {
 public:
  /// Maps `path` and reads its header and top directory. Throws
  /// Error(io_error) when it cannot be opened, Error(corrupt_input) naming the
  /// file when it is not a ROOT file or its header or top directory is
  /// truncated or points outside it.
  static RootFile open(const std::string& path);
  /// The same for bytes already mapped; `name` names them in errors.
  RootFile(std::shared_ptr<const InputBuffer> file, std::string name);

  const std::string& name() const noexcept { return name_; }
  const std::shared_ptr<const InputBuffer>& file() const noexcept { return file_; }
  /// fVersion of the file header (ROOT's version number, + 1000000 when large).
  std::uint32_t version() const noexcept { return version_; }
  /// fSeekInfo / fNbytesInfo: the streamer info record's key.
  std::uint64_t seek_info() const noexcept { return seek_info_; }
  const RootDirectory& top() const noexcept { return top_; }

  /// The directory a TDirectory / TDirectoryFile key holds. Throws
  /// Error(corrupt_input) when its record or keys list is damaged.
  RootDirectory directory(const RootKey& key, std::string_view parent_path = {}) const;
  /// The key at `path` ("tree", "dir/sub/tree", "tree;2"): without a cycle,
  /// the highest. nullopt when there is no such key; throws for damage met on
  /// the way, or for a path through a directory that holds itself.
  std::optional<RootKey> find(std::string_view path) const;
  /// Every key below the top directory, depth first, with its path ("dir/name"),
  /// subdirectories' keys after their own. Throws on a directory loop.
  std::vector<std::pair<std::string, RootKey>> walk() const;

  /// The key's object, decompressed: fObjlen bytes. Throws Error(corrupt_input)
  /// naming the key and its byte range when the key lies outside the file, its
  /// header disagrees with `key`, or the payload does not decode to fObjlen.
  std::vector<std::byte> read_object(const RootKey& key) const;
  /// Reads the TKey header at file offset `seek` ("what" names it in errors).
  RootKey read_key(std::uint64_t seek, std::string_view what) const;
  /// "f.root: key 'dir/Events;1' (TTree, file bytes [123, +456))" for errors.
  std::string describe(const RootKey& key) const;

 private:
  RootDirectory read_directory_record(ConstBytes record, std::string path,
                                      std::string_view what) const;

  std::shared_ptr<const InputBuffer> file_;
  std::string name_;
  std::uint32_t version_ = 0;
  std::uint64_t seek_info_ = 0;
  RootDirectory top_;
};

/// Whether `class_name` is a directory's (TDirectory, TDirectoryFile). Thread-safe.
bool is_root_directory_class(std::string_view class_name) noexcept;

}  // namespace decoflow
