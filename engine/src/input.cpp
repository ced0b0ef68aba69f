#include "decoflow/input.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "decoflow/error.hpp"

namespace decoflow {

namespace {

struct FileMapping {
  void* address = nullptr;
  std::size_t length = 0;
  ~FileMapping() {
    if (address != nullptr) ::munmap(address, length);
  }
};

[[noreturn]] void throw_io(const std::string& what, const std::string& path) {
  throw Error(ErrorCode::io_error, what + " '" + path + "': " + std::strerror(errno));
}

}  // namespace

std::shared_ptr<const InputBuffer> InputBuffer::from_bytes(std::vector<std::byte> bytes) {
  auto owner = std::make_shared<std::vector<std::byte>>(std::move(bytes));
  ConstBytes view(owner->data(), owner->size());
  return std::make_shared<InputBuffer>(PrivateTag{}, view, std::move(owner), std::string());
}

std::shared_ptr<const InputBuffer> InputBuffer::wrap(ConstBytes bytes,
                                                     std::shared_ptr<const void> keepalive) {
  return std::make_shared<InputBuffer>(PrivateTag{}, bytes, std::move(keepalive), std::string());
}

std::shared_ptr<const InputBuffer> InputBuffer::map_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_io("cannot open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    throw_io("cannot stat", path);
  }
  auto mapping = std::make_shared<FileMapping>();
  mapping->length = static_cast<std::size_t>(st.st_size);
  if (mapping->length > 0) {
    void* p = ::mmap(nullptr, mapping->length, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int saved = errno;
      ::close(fd);
      errno = saved;
      throw_io("cannot map", path);
    }
    mapping->address = p;
  }
  ::close(fd);  // the mapping keeps the file open
  ConstBytes view(static_cast<const std::byte*>(mapping->address), mapping->length);
  return std::make_shared<InputBuffer>(PrivateTag{}, view, std::move(mapping), path);
}

InputBuffer::InputBuffer(PrivateTag, ConstBytes bytes, std::shared_ptr<const void> owner,
                         std::string path)
    : bytes_(bytes), owner_(std::move(owner)), path_(std::move(path)) {}

InputBuffer::~InputBuffer() = default;

}  // namespace decoflow
