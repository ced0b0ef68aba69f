#include "decoflow/destination.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <string>

#include "decoflow/error.hpp"

namespace decoflow {

namespace {

// Arrays at least this large are anonymous maps: munmap hands the pages back at
// once, while glibc's malloc keeps freed blocks below a threshold that grows to
// 32 MiB — the memory a user frees must really come back.
constexpr std::size_t map_threshold = 256 * 1024;
constexpr std::size_t alignment = 64;
// Arrays at least one huge page large ask for transparent huge pages: graphs
// fill them whole, so 2 MiB pages cost no extra memory and take 512× fewer
// page faults (decoding zstd into a fresh 256 MiB array: 8-23% faster on 1-2
// threads; the faults were ~30% of a ROOT zstd read's CPU time). A hint the
// kernel may ignore (THP "never"); failure is fine.
constexpr std::size_t huge_page = 2 * 1024 * 1024;

}  // namespace

std::shared_ptr<DestinationArray> DestinationArray::allocate(std::size_t bytes) {
  return allocate(bytes, Paging::dense);
}

std::shared_ptr<DestinationArray> DestinationArray::allocate(std::size_t bytes, Paging paging) {
  if (bytes >= map_threshold) {
    const int flags = MAP_PRIVATE | MAP_ANONYMOUS | (paging == Paging::sparse ? MAP_NORESERVE : 0);
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (p == MAP_FAILED) {
      throw Error(ErrorCode::resource_error, "cannot map " + std::to_string(bytes) +
                                                 " bytes for a destination array: " +
                                                 std::strerror(errno));
    }
    if (paging == Paging::dense && bytes >= huge_page) (void)::madvise(p, bytes, MADV_HUGEPAGE);
    return std::make_shared<DestinationArray>(PrivateTag{}, static_cast<std::byte*>(p), bytes,
                                              true, true, nullptr);
  }
  std::byte* p = nullptr;
  if (bytes > 0) {
    p = static_cast<std::byte*>(::operator new(bytes, std::align_val_t(alignment), std::nothrow));
    if (p == nullptr) {
      throw Error(ErrorCode::resource_error,
                  "cannot allocate " + std::to_string(bytes) + " bytes for a destination array");
    }
  }
  return std::make_shared<DestinationArray>(PrivateTag{}, p, bytes, true, false, nullptr);
}

std::shared_ptr<DestinationArray> DestinationArray::adopt(std::byte* data, std::size_t bytes,
                                                          std::shared_ptr<const void> keepalive) {
  if (data == nullptr && bytes != 0) {
    throw Error(ErrorCode::invalid_argument, "adopted destination memory is null but has " +
                                                 std::to_string(bytes) + " bytes");
  }
  return std::make_shared<DestinationArray>(PrivateTag{}, data, bytes, false, false,
                                            std::move(keepalive));
}

DestinationArray::DestinationArray(PrivateTag, std::byte* data, std::size_t size, bool owned,
                                   bool mapped, std::shared_ptr<const void> keepalive)
    : data_(data), size_(size), owned_(owned), mapped_(mapped), keepalive_(std::move(keepalive)) {}

DestinationArray::~DestinationArray() {
  if (!owned_ || data_ == nullptr) return;
  if (mapped_) {
    ::munmap(data_, size_);
  } else {
    ::operator delete(data_, std::align_val_t(alignment));
  }
}

void DestinationArray::release_from(std::size_t from) noexcept {
  if (!mapped_ || from >= size_) return;
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t begin = (from + page - 1) / page * page;
  if (begin < size_) (void)::madvise(data_ + begin, size_ - begin, MADV_DONTNEED);
}

bool DestinationArray::in_use() const {
  std::lock_guard lock(reservations_mutex_);
  return !reservations_.empty();
}

}  // namespace decoflow
