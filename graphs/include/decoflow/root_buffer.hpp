// decoflow/root_buffer.hpp: a bounds-checked cursor over ROOT's serialised
// bytes (big-endian numbers, TStrings, streamer version headers), shared by
// the file/key layer (root_file.hpp) and the object readers on top of it
// (TTree today, RNTuple's anchor next). Every read that would pass the end
// throws Error(corrupt_input) naming the file, what was being read and the
// byte range, so a reader built on it cannot read outside its bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "decoflow/bytes.hpp"
#include "decoflow/error.hpp"

namespace decoflow {

/// A streamer header: the object's class version and, when the writer put a
/// byte count in front (bit 0x40000000), where the object ends.
struct RootVersion {
  std::int16_t version = 0;
  std::optional<std::size_t> end;  ///< one past the object's last byte, in the buffer
};

/// A cursor over `bytes`: a whole file (`whole_file`: positions are file
/// offsets) or an object's payload. `where` names it in errors
/// ("f.root: key 'Events' (TTree)").
///
/// Thread-safety: one cursor per thread; the bytes are only read.
class RootBuffer {
 public:
  RootBuffer(ConstBytes bytes, std::string where, bool whole_file = false)
      : bytes_(bytes), where_(std::move(where)), whole_file_(whole_file) {}

  std::size_t position() const noexcept { return pos_; }
  std::size_t size() const noexcept { return bytes_.size(); }
  std::size_t remaining() const noexcept { return bytes_.size() - pos_; }
  ConstBytes bytes() const noexcept { return bytes_; }
  const std::string& where() const noexcept { return where_; }
  /// What is being read, put before each `what` in errors ("branch 'x'"):
  /// set once per object, so that reading a member builds no string.
  const std::string& context() const noexcept { return context_; }
  /// Sets the context and gives back the one before (to restore it).
  std::string swap_context(std::string context) {
    std::swap(context, context_);
    return context;
  }

  /// Moves to `pos` (at most size()); throws when it lies past the end.
  void seek(std::size_t pos, std::string_view what);
  void skip(std::size_t n, std::string_view what) { seek(need(n, what), what); }

  std::uint8_t u8(std::string_view what) { return static_cast<std::uint8_t>(be<1>(what)); }
  std::uint16_t u16(std::string_view what) { return static_cast<std::uint16_t>(be<2>(what)); }
  std::uint32_t u32(std::string_view what) { return static_cast<std::uint32_t>(be<4>(what)); }
  std::uint64_t u64(std::string_view what) { return be<8>(what); }
  std::int16_t i16(std::string_view what) { return static_cast<std::int16_t>(u16(what)); }
  std::int32_t i32(std::string_view what) { return static_cast<std::int32_t>(u32(what)); }
  std::int64_t i64(std::string_view what) { return static_cast<std::int64_t>(u64(what)); }
  /// `n` bytes as a view into the buffer.
  ConstBytes take(std::size_t n, std::string_view what);
  /// A TString: a length byte (255: a 4-byte length follows), then its bytes.
  std::string tstring(std::string_view what);
  /// A null-terminated string (a class name after a new-class tag).
  std::string cstring(std::string_view what);
  /// A streamer version header: [byte count | 0x40000000] version. Throws when
  /// the byte count points past the buffer.
  RootVersion version(std::string_view what);
  /// Moves to the end a version header gave (when it gave one); throws when the
  /// reader already went past it (the object lied about its size).
  void skip_to_end(const RootVersion& v, std::string_view what);

  /// Error(corrupt_input) "where: what (bytes [a, +n) of the payload|file): problem".
  [[noreturn]] void fail(std::string_view what, std::size_t at, std::size_t n,
                         std::string_view problem) const;

 private:
  std::size_t need(std::size_t n, std::string_view what) const;
  template <std::size_t N>
  std::uint64_t be(std::string_view what) {
    const std::size_t at = need(N, what) - N;
    pos_ = at + N;
    return load_be<N>(bytes_.data() + at);
  }

  ConstBytes bytes_;
  std::string where_;
  std::string context_;
  bool whole_file_ = false;
  std::size_t pos_ = 0;
};

}  // namespace decoflow
