#include "decoflow/root_buffer.hpp"

#include <string>

namespace decoflow {

namespace {
constexpr std::uint32_t byte_count_mask = 0x40000000u;
}

void RootBuffer::fail(std::string_view what, std::size_t at, std::size_t n,
                      std::string_view problem) const {
  std::string msg = where_ + ": " + (context_.empty() ? "" : context_ + " ") + std::string(what) +
                    " (bytes [" + std::to_string(at) + ", +" +
                    std::to_string(n) + ") of " +
                    (whole_file_ ? "the " + std::to_string(bytes_.size()) + "-byte file"
                                 : "its " + std::to_string(bytes_.size()) + "-byte payload") +
                    "): " + std::string(problem);
  throw Error(ErrorCode::corrupt_input, std::move(msg));
}

std::size_t RootBuffer::need(std::size_t n, std::string_view what) const {
  if (n > remaining()) fail(what, pos_, n, "runs past the end");
  return pos_ + n;
}

void RootBuffer::seek(std::size_t pos, std::string_view what) {
  if (pos > bytes_.size()) fail(what, pos, 0, "lies past the end");
  pos_ = pos;
}

ConstBytes RootBuffer::take(std::size_t n, std::string_view what) {
  const std::size_t at = need(n, what) - n;
  pos_ = at + n;
  return bytes_.subspan(at, n);
}

std::string RootBuffer::tstring(std::string_view what) {
  std::size_t n = u8(what);
  if (n == 255) n = u32(what);
  const ConstBytes s = take(n, what);
  return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

std::string RootBuffer::cstring(std::string_view what) {
  const std::size_t at = pos_;
  for (std::size_t i = pos_; i < bytes_.size(); ++i) {
    if (bytes_[i] == std::byte{0}) {
      pos_ = i + 1;
      return std::string(reinterpret_cast<const char*>(bytes_.data() + at), i - at);
    }
  }
  fail(what, at, bytes_.size() - at, "has no terminating zero byte");
}

RootVersion RootBuffer::version(std::string_view what) {
  RootVersion v;
  const std::size_t at = pos_;
  const std::uint32_t first = u32(what);
  if (first & byte_count_mask) {
    const std::size_t count = first & ~byte_count_mask;
    if (count < 2 || count > bytes_.size() - (at + 4)) {
      fail(what, at, 4, "its byte count " + std::to_string(count) + " runs past the end");
    }
    v.end = at + 4 + count;
    v.version = i16(what);
  } else {
    pos_ = at;
    v.version = i16(what);
  }
  return v;
}

void RootBuffer::skip_to_end(const RootVersion& v, std::string_view what) {
  if (!v.end) return;
  if (pos_ > *v.end) {
    fail(what, *v.end, pos_ - *v.end,
         "its members run " + std::to_string(pos_ - *v.end) + " bytes past its byte count");
  }
  pos_ = *v.end;
}

}  // namespace decoflow
