// zstd: one or more frames (skippable frames skipped) decoded in one call.
#include <string>

#include "detail_contexts.hpp"

namespace decoflow {

std::size_t Decoder::zstd_into(ConstBytes src, MutableBytes dst) {
  if (src.empty()) detail::fail(ErrorCode::corrupt_input, "zstd: empty input");
  if (!contexts_) contexts_ = std::make_unique<Contexts>();
  ZSTD_DCtx* dctx = contexts_->zstd();

  // Say so up front when the first frame declares more than dst can take: clearer
  // than zstd's "destination buffer is too small", and no work is wasted.
  const unsigned long long declared = ZSTD_getFrameContentSize(src.data(), src.size());
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR &&
      declared > dst.size()) {
    detail::fail(ErrorCode::size_mismatch,
                 "zstd: frame header declares " + detail::num(declared) +
                     " content bytes, destination has " + detail::num(dst.size()));
  }

  const std::size_t ret = ZSTD_decompressDCtx(dctx, dst.data(), dst.size(), src.data(), src.size());
  if (ZSTD_isError(ret)) {
    // A failed call may leave the context mid-frame; start the next chunk clean.
    ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
    if (ZSTD_getErrorCode(ret) == ZSTD_error_dstSize_tooSmall) {
      detail::fail(ErrorCode::size_mismatch, "zstd: content larger than the destination of " +
                                                 detail::num(dst.size()) + " bytes");
    }
    const bool truncated = ZSTD_getErrorCode(ret) == ZSTD_error_srcSize_wrong;
    detail::fail(ErrorCode::corrupt_input,
                 std::string("zstd: ") + (truncated ? "truncated or malformed input: " : "") +
                     ZSTD_getErrorName(ret) + " (" + detail::num(src.size()) + " input bytes)");
  }
  return ret;
}

}  // namespace decoflow
