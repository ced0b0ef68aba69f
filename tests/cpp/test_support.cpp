#include "test_support.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <unistd.h>

#include "catch.hpp"

namespace decoflow::test {

namespace {

[[noreturn]] void fail_helper(const std::string& what) { throw std::runtime_error(what); }

}  // namespace

GuardedBuffer::GuardedBuffer(std::size_t size)
    : storage_(size + 2 * guard_size, poison), size_(size) {
  for (std::size_t i = 0; i < guard_size; ++i) {
    storage_[i] = canary(i);
    storage_[guard_size + size_ + i] = canary(guard_size + i);
  }
}

std::byte GuardedBuffer::canary(std::size_t index) {
  return static_cast<std::byte>(0x3C ^ (index * 7));
}

bool GuardedBuffer::guards_intact() const {
  for (std::size_t i = 0; i < guard_size; ++i) {
    if (storage_[i] != canary(i) || storage_[guard_size + size_ + i] != canary(guard_size + i)) {
      return false;
    }
  }
  return true;
}

Bytes GuardedBuffer::prefix(std::size_t n) const {
  const ConstBytes all = view();
  return Bytes(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(std::min(n, all.size())));
}

std::string require_error(ErrorCode code, const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    INFO("decoflow::Error: " << error.what());
    CHECK(error.code() == code);
    CHECK(!error.cause().empty());
    return error.cause();
  }
  FAIL("expected decoflow::Error with code " << to_string(code) << ", nothing was thrown");
  return {};
}

std::string write_temp_file(ConstBytes data, std::string_view suffix) {
  std::string path = "/tmp/decoflow_test_XXXXXX";
  path += suffix;
  std::vector<char> name(path.begin(), path.end());
  name.push_back('\0');
  const int fd = mkstemps(name.data(), static_cast<int>(suffix.size()));
  if (fd < 0) fail_helper("mkstemps failed");
  close(fd);
  path.assign(name.data());
  std::ofstream file(path, std::ios::binary);
  file.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!file) fail_helper("cannot write " + path);
  return path;
}

Bytes read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) fail_helper("cannot read " + path);
  std::vector<char> chars((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  Bytes out(chars.size());
  if (!chars.empty()) std::memcpy(out.data(), chars.data(), chars.size());
  return out;
}

void remove_file(const std::string& path) { std::remove(path.c_str()); }

}  // namespace decoflow::test
