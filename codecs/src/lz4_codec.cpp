// lz4: raw blocks (LZ4_decompress_safe) and frames (LZ4F, any block mode).
#include <climits>
#include <string>

#include <lz4.h>

#include "detail_contexts.hpp"

namespace decoflow {

std::size_t Decoder::lz4_block_into(ConstBytes src, MutableBytes dst) {
  if (src.empty()) detail::fail(ErrorCode::corrupt_input, "lz4 block: empty input");
  if (src.size() > static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE)) {
    detail::fail(ErrorCode::corrupt_input, "lz4 block: " + detail::num(src.size()) +
                                               " input bytes exceed the lz4 block limit");
  }
  // Only the capacity is clamped: lz4 never writes past what it is told.
  const std::size_t capacity = dst.size() < static_cast<std::size_t>(INT_MAX)
                                   ? dst.size()
                                   : static_cast<std::size_t>(INT_MAX);
  const int got = LZ4_decompress_safe(reinterpret_cast<const char*>(src.data()),
                                      reinterpret_cast<char*>(dst.data()),
                                      static_cast<int>(src.size()), static_cast<int>(capacity));
  if (got < 0) {
    detail::fail(ErrorCode::corrupt_input,
                 "lz4 block: malformed input at byte " +
                     detail::num(static_cast<std::uint64_t>(-static_cast<std::int64_t>(got) - 1)) +
                     " of " + detail::num(src.size()) +
                     " (or the content is larger than the destination of " +
                     detail::num(dst.size()) + " bytes)");
  }
  return static_cast<std::size_t>(got);
}

std::size_t Decoder::lz4_frame_into(ConstBytes src, MutableBytes dst) {
  if (src.empty()) detail::fail(ErrorCode::corrupt_input, "lz4 frame: empty input");
  if (!contexts_) contexts_ = std::make_unique<Contexts>();
  LZ4F_dctx* dctx = contexts_->lz4f();

  LZ4F_decompressOptions_t options{};
  options.stableDst = 1;  // dst holds all output: LZ4F may refer back into it

  std::size_t in = 0;
  std::size_t out = 0;
  bool frame_open = false;  // the last call returned a hint > 0: mid-frame
  while (in < src.size()) {
    std::size_t in_size = src.size() - in;
    std::size_t out_size = dst.size() - out;
    const std::size_t hint =
        LZ4F_decompress(dctx, out_size == 0 ? nullptr : dst.data() + out, &out_size,
                        src.data() + in, &in_size, &options);
    if (LZ4F_isError(hint)) {
      // A new context, not a reset: see Contexts::lz4f_discard().
      contexts_->lz4f_discard();
      const auto code = static_cast<LZ4F_errorCodes>(-static_cast<std::ptrdiff_t>(hint));
      ErrorCode ours = ErrorCode::corrupt_input;
      if (code == LZ4F_ERROR_contentChecksum_invalid || code == LZ4F_ERROR_blockChecksum_invalid ||
          code == LZ4F_ERROR_headerChecksum_invalid) {
        ours = ErrorCode::checksum_mismatch;
      } else if (code == LZ4F_ERROR_frameSize_wrong) {
        ours = ErrorCode::size_mismatch;
      }
      detail::fail(ours, std::string("lz4 frame: ") + LZ4F_getErrorName(hint) + " (near input byte " +
                             detail::num(in + in_size) + ", " + detail::num(out + out_size) +
                             " bytes decoded)");
    }
    in += in_size;
    out += out_size;
    frame_open = hint != 0;
    if (in_size == 0 && out_size == 0) {
      // No progress: LZ4F holds decoded bytes it cannot place.
      contexts_->lz4f_discard();
      detail::fail(ErrorCode::size_mismatch, "lz4 frame: content larger than the destination of " +
                                                 detail::num(dst.size()) + " bytes (input byte " +
                                                 detail::num(in) + " of " + detail::num(src.size()) +
                                                 ")");
    }
  }
  if (frame_open) {
    // The input ended mid-frame. With dst full, LZ4F may instead hold decoded bytes
    // it could not place: probe with one scratch byte (never dst) to tell which.
    if (out == dst.size()) {
      std::byte probe[1];
      std::size_t probe_out = sizeof probe;
      std::size_t probe_in = 0;
      const std::size_t ret = LZ4F_decompress(dctx, probe, &probe_out, src.data() + src.size(), &probe_in, &options);
      contexts_->lz4f_discard();
      if (!LZ4F_isError(ret) && probe_out > 0) {
        detail::fail(ErrorCode::size_mismatch, "lz4 frame: content larger than the destination of " +
                                                   detail::num(dst.size()) + " bytes");
      }
    }
    contexts_->lz4f_discard();
    detail::fail(ErrorCode::corrupt_input, "lz4 frame: truncated input: frame incomplete after " +
                                               detail::num(src.size()) + " bytes (" +
                                               detail::num(out) + " bytes decoded)");
  }
  return out;
}

}  // namespace decoflow
