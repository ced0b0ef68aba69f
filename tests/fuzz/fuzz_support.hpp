// fuzz_support.hpp: what every decoflow fuzz target shares — a reader that
// turns fuzz bytes into parameters, guard-byte buffers, and the check that
// turns a broken invariant into a crash libFuzzer records.
//
// A fuzz target here asserts the library's promises, not only the absence of a
// crash: writes stay inside the destination span (guard bytes on both sides
// must keep their values), returned sizes fit the span, and every failure is a
// decoflow::Error with a code the API documents for that call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>

#include "decoflow/bytes.hpp"
#include "decoflow/error.hpp"

// A broken invariant: print why and abort, which libFuzzer reports as a crash
// with the input that caused it (a fuzz target has no other way to fail).
#define DECOFLOW_FUZZ_CHECK(condition, ...)                                        \
  do {                                                                             \
    if (!(condition)) {                                                            \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n  ", __FILE__, __LINE__, \
                   #condition);                                                    \
      std::fprintf(stderr, __VA_ARGS__);                                           \
      std::fprintf(stderr, "\n");                                                  \
      std::abort();                                                                \
    }                                                                              \
  } while (false)

namespace decoflow::fuzz {

/// Reads parameters off the front of the fuzz input; past the end it yields
/// zeros, so every input is a valid (if dull) parameter set.
class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | u8() << 8); }
  std::uint32_t u24() { return static_cast<std::uint32_t>(u16() | std::uint32_t{u8()} << 16); }
  std::uint64_t u64() {
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value |= std::uint64_t{u8()} << (8 * i);
    return value;
  }
  /// Everything not read yet.
  ConstBytes rest() const {
    if (pos_ >= size_) return {};
    return {reinterpret_cast<const std::byte*>(data_ + pos_), size_ - pos_};
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

/// A heap buffer of `size` bytes between two guard zones of known canary bytes.
/// The allocation is exactly guards + size + guards, so AddressSanitizer's
/// redzones catch a write far past the span and the canaries catch one just
/// past it (which would still be inside the allocation).
class GuardedSpan {
 public:
  static constexpr std::size_t guard = 64;
  static constexpr std::byte poison{0xA5};

  explicit GuardedSpan(std::size_t size)
      : storage_(new std::byte[size + 2 * guard]), size_(size) {
    std::memset(storage_.get() + guard, static_cast<int>(poison), size_);
    for (std::size_t i = 0; i < guard; ++i) {
      storage_[i] = canary(i);
      storage_[guard + size_ + i] = canary(guard + i);
    }
  }

  MutableBytes span() { return {storage_.get() + guard, size_}; }
  std::byte* data() { return storage_.get() + guard; }
  std::size_t size() const { return size_; }

  /// True while every canary byte before and after the span is unchanged.
  bool guards_intact() const {
    for (std::size_t i = 0; i < guard; ++i) {
      if (storage_[i] != canary(i) || storage_[guard + size_ + i] != canary(guard + i)) return false;
    }
    return true;
  }

 private:
  static std::byte canary(std::size_t i) { return static_cast<std::byte>(0x3C ^ (i * 7)); }
  std::unique_ptr<std::byte[]> storage_;
  std::size_t size_;
};

/// True when `code` is one of `allowed`.
inline bool code_in(ErrorCode code, std::initializer_list<ErrorCode> allowed) {
  for (ErrorCode c : allowed) {
    if (c == code) return true;
  }
  return false;
}

/// The codes Decoder documents for a decode (decoder.hpp).
inline bool is_decode_error(ErrorCode code) {
  return code_in(code, {ErrorCode::corrupt_input, ErrorCode::size_mismatch,
                        ErrorCode::checksum_mismatch, ErrorCode::unsupported_format,
                        ErrorCode::resource_error});
}

}  // namespace decoflow::fuzz
