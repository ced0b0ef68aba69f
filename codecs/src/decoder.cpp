#include "decoflow/decoder.hpp"

#include <cstring>
#include <utility>

#include "detail_contexts.hpp"

namespace decoflow {

namespace detail {

void fail(ErrorCode code, std::string cause) { throw Error(code, std::move(cause)); }

}  // namespace detail

Decoder::Contexts::~Contexts() {
  ZSTD_freeDCtx(zstd_);
  LZ4F_freeDecompressionContext(lz4f_);
  libdeflate_free_decompressor(deflate_);
  if (xz_used_) lzma_end(&xz_);
}

ZSTD_DCtx* Decoder::Contexts::zstd() {
  if (zstd_ == nullptr) {
    zstd_ = ZSTD_createDCtx();
    if (zstd_ == nullptr) detail::fail(ErrorCode::resource_error, "zstd: cannot allocate a ZSTD_DCtx");
  }
  return zstd_;
}

LZ4F_dctx* Decoder::Contexts::lz4f() {
  if (lz4f_ == nullptr) {
    LZ4F_dctx* created = nullptr;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&created, LZ4F_VERSION)) || created == nullptr)
      detail::fail(ErrorCode::resource_error, "lz4 frame: cannot allocate an LZ4F_dctx");
    lz4f_ = created;
  }
  return lz4f_;
}

void Decoder::Contexts::lz4f_discard() noexcept {
  LZ4F_freeDecompressionContext(lz4f_);
  lz4f_ = nullptr;
}

libdeflate_decompressor* Decoder::Contexts::deflate() {
  if (deflate_ == nullptr) {
    deflate_ = libdeflate_alloc_decompressor();
    if (deflate_ == nullptr)
      detail::fail(ErrorCode::resource_error, "zlib: cannot allocate a libdeflate decompressor");
  }
  return deflate_;
}

lzma_stream& Decoder::Contexts::xz_restart() {
  // Re-initialising a stream that already holds a decoder reuses its allocations.
  xz_used_ = true;
  const lzma_ret ret = lzma_stream_decoder(&xz_, xz_memlimit, 0);
  if (ret != LZMA_OK) {
    detail::fail(ErrorCode::resource_error,
                 "xz: cannot initialise the lzma stream decoder (lzma_ret " +
                     detail::num(static_cast<std::uint64_t>(ret)) + ")");
  }
  return xz_;
}

Decoder::Decoder() : contexts_(std::make_unique<Contexts>()) {}

Decoder& thread_decoder() {
  // Contexts reused across chunks, graphs, executors and stages.
  thread_local Decoder decoder;
  return decoder;
}
Decoder::~Decoder() = default;
Decoder::Decoder(Decoder&&) noexcept = default;
Decoder& Decoder::operator=(Decoder&&) noexcept = default;

std::size_t Decoder::decode_into(Codec codec, ConstBytes src, MutableBytes dst) {
  switch (codec) {
    case Codec::raw: return raw_into(src, dst);
    case Codec::zstd: return zstd_into(src, dst);
    case Codec::lz4_block: return lz4_block_into(src, dst);
    case Codec::lz4_frame: return lz4_frame_into(src, dst);
    case Codec::root_blocks: return root_blocks_into(src, dst);
  }
  detail::fail(ErrorCode::invalid_argument,
               "unknown codec value " + detail::num(static_cast<std::uint64_t>(codec)));
}

std::size_t Decoder::raw_into(ConstBytes src, MutableBytes dst) {
  if (src.size() > dst.size()) {
    detail::fail(ErrorCode::size_mismatch, "raw: " + detail::num(src.size()) +
                                               " input bytes do not fit a destination of " +
                                               detail::num(dst.size()) + " bytes");
  }
  if (!src.empty()) std::memcpy(dst.data(), src.data(), src.size());
  return src.size();
}

}  // namespace decoflow
