// Destination arrays: alignment, adoption, and memory going back to the system.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "catch.hpp"
#include "decoflow/destination.hpp"
#include "decoflow/error.hpp"
#include "test_support.hpp"

using namespace decoflow;

namespace {

// Resident anonymous memory of this process, in bytes (RssAnon: mapped files
// and shared pages do not count).
std::size_t rss_anon() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("RssAnon:", 0) == 0) return std::stoull(line.substr(8)) * 1024;
  }
  return 0;
}

// The VmFlags line of the mapping that contains `address` in /proc/self/smaps
// ("rd wr mr mw me ac hg ..."), or "" when none does.
std::string vm_flags_of(const void* address) {
  std::ifstream smaps("/proc/self/smaps");
  const auto where = reinterpret_cast<std::uintptr_t>(address);
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t begin = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &begin, &end) == 2 && line.find(' ') > 8) {
      inside = begin <= where && where < end;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line.substr(8) + " ";
    }
  }
  return "";
}

}  // namespace

TEST_CASE("large allocated arrays ask for transparent huge pages", "[destination]") {
  // The advice is recorded on the mapping ("hg") whatever the system's THP
  // setting, so this holds everywhere; whether huge pages come is the kernel's.
  const auto large = DestinationArray::allocate(4u << 20);
  const std::string flags = vm_flags_of(large->data());
  INFO(flags);
  REQUIRE(!flags.empty());
  CHECK(flags.find(" hg ") != std::string::npos);
  const auto small = DestinationArray::allocate(512u << 10);  // mapped, under 2 MiB
  REQUIRE(small->is_mapped());
  const std::string small_flags = vm_flags_of(small->data());
  INFO(small_flags);
  CHECK(small_flags.find(" hg ") == std::string::npos);
}

TEST_CASE("allocated arrays are aligned and sized", "[destination]") {
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{4096},
                           std::size_t{300000}, std::size_t{5} << 20}) {
    auto array = DestinationArray::allocate(size);
    REQUIRE(array->size() == size);
    REQUIRE(array->owns_memory());
    if (size != 0) {
      REQUIRE(reinterpret_cast<std::uintptr_t>(array->data()) % 64 == 0);
      std::memset(array->data(), 0x11, size);  // every byte writable
    }
    REQUIRE(array->is_mapped() == (size >= 256 * 1024));
    REQUIRE_FALSE(array->in_use());
  }
}

TEST_CASE("a released array gives its memory back to the system", "[destination]") {
  constexpr std::size_t size = std::size_t{256} << 20;
  const std::size_t before = rss_anon();
  {
    auto array = DestinationArray::allocate(size);
    std::memset(array->data(), 1, size);
    const std::size_t touched = rss_anon();
    REQUIRE(touched >= before + size * 9 / 10);
  }
  // munmap returns every page at once: allow 8 MiB for whatever else moved.
  REQUIRE(rss_anon() <= before + (std::size_t{8} << 20));
}

TEST_CASE("adopted memory is the caller's and stays alive through the keepalive", "[destination]") {
  auto storage = std::make_shared<std::vector<std::byte>>(1000);
  std::weak_ptr<std::vector<std::byte>> watch = storage;
  auto array = DestinationArray::adopt(storage->data(), storage->size(), storage);
  storage.reset();
  REQUIRE_FALSE(watch.expired());  // the array keeps it
  REQUIRE_FALSE(array->owns_memory());
  REQUIRE(array->size() == 1000);
  array.reset();
  REQUIRE(watch.expired());
  decoflow::test::require_error(ErrorCode::invalid_argument,
                                [] { DestinationArray::adopt(nullptr, 10, nullptr); });
}
