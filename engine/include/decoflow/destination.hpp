// decoflow/destination.hpp: destination arrays and the slices chunks write into.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "decoflow/bytes.hpp"

namespace decoflow {

namespace detail {
class SliceReservation;
}

/// A block of memory that graphs write decoded chunks into, shared by every
/// graph and handle that refers to it (hold it by std::shared_ptr).
///
/// Either engine-owned (allocate(): 64-byte aligned; large arrays are
/// anonymous memory maps, so their pages go back to the system the moment the
/// last owner lets go, and from 2 MiB on they ask for transparent huge pages,
/// since graphs fill them whole) or adopted caller memory (adopt(): the
/// caller's buffer, kept alive through `keepalive` for as long as the array
/// exists).
///
/// While a graph runs, the byte ranges it writes are reserved on the array: a
/// second graph whose slices overlap them is refused at submit time, so two
/// running graphs never write the same bytes. Reading bytes that a running
/// graph writes gives unspecified contents; in_use() tells.
///
/// Thread-safety: all member functions are thread-safe; the bytes themselves
/// are the caller's to coordinate (the engine writes only reserved ranges).
class DestinationArray {
 public:
  /// Allocates `bytes` of engine-owned memory. Contents are unspecified
  /// (zero pages for mapped arrays). Throws Error(resource_error) when memory
  /// cannot be obtained.
  static std::shared_ptr<DestinationArray> allocate(std::size_t bytes);

  /// How an engine-owned array will be filled.
  enum class Paging {
    /// Whole (the default): from 2 MiB on it asks for transparent huge pages.
    dense,
    /// In part, here and there (room reserved for the most a chunk can hold):
    /// normal pages, and none set aside for pages never touched
    /// (MAP_NORESERVE), so that untouched room costs no memory.
    sparse,
  };
  static std::shared_ptr<DestinationArray> allocate(std::size_t bytes, Paging paging);

  /// Hands the whole pages past byte `from` back to the system (a mapped
  /// array's; otherwise nothing happens): they read as zeros afterwards.
  /// size() does not change. For room that turned out unused.
  void release_from(std::size_t from) noexcept;

  /// Wraps caller memory [data, data + bytes), which must stay valid and
  /// writable while `keepalive` (any owner, or null when the caller guarantees
  /// the lifetime) is held. Throws Error(invalid_argument) for a null pointer
  /// with a non-zero size.
  static std::shared_ptr<DestinationArray> adopt(std::byte* data, std::size_t bytes,
                                                 std::shared_ptr<const void> keepalive);

  ~DestinationArray();
  DestinationArray(const DestinationArray&) = delete;
  DestinationArray& operator=(const DestinationArray&) = delete;

  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  MutableBytes bytes() const noexcept { return {data_, size_}; }
  /// True for memory allocated by allocate().
  bool owns_memory() const noexcept { return owned_; }
  /// True for engine-owned memory that came from an anonymous memory map.
  bool is_mapped() const noexcept { return mapped_; }
  /// True while at least one running graph holds a reservation on this array.
  bool in_use() const;

 private:
  friend class detail::SliceReservation;
  struct PrivateTag {};

 public:
  // Use allocate() or adopt().
  DestinationArray(PrivateTag, std::byte* data, std::size_t size, bool owned, bool mapped,
                   std::shared_ptr<const void> keepalive);

 private:
  std::byte* data_;
  std::size_t size_;
  bool owned_;
  bool mapped_;
  std::shared_ptr<const void> keepalive_;
  mutable std::mutex reservations_mutex_;
  // Sorted, non-overlapping [begin, end) byte ranges of each running graph.
  std::vector<const std::vector<std::pair<std::uint64_t, std::uint64_t>>*> reservations_;
};

}  // namespace decoflow
