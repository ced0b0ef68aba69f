// detail_contexts.hpp: the per-Decoder codec contexts and small helpers shared by
// the codec sources. Private to decoflow_codecs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <libdeflate.h>
// The error-code enum of LZ4F lives in its "static" section (header-only use).
#ifndef LZ4F_STATIC_LINKING_ONLY
#define LZ4F_STATIC_LINKING_ONLY
#endif
#include <lz4frame.h>
#include <lzma.h>
// ZSTD_decompressBound is in zstd's "static" section (exported by the shared library).
#ifndef ZSTD_STATIC_LINKING_ONLY
#define ZSTD_STATIC_LINKING_ONLY
#endif
#include <zstd.h>
#include <zstd_errors.h>

#include "decoflow/bytes.hpp"
#include "decoflow/decoder.hpp"
#include "decoflow/error.hpp"

namespace decoflow {

/// One context per library, created on first use and reused for every later chunk
/// (the point of keeping one Decoder per thread). Freed in the destructor.
struct Decoder::Contexts {
  Contexts() = default;
  ~Contexts();
  Contexts(const Contexts&) = delete;
  Contexts& operator=(const Contexts&) = delete;

  /// Each accessor creates its context on first call; resource_error if it cannot.
  ZSTD_DCtx* zstd();
  LZ4F_dctx* lz4f();
  /// Frees the LZ4F context after a failed frame; the next lz4f() makes a new
  /// one. LZ4F_resetDecompressionContext is not enough: lz4 (1.9.4) keeps the
  /// aborted frame's remaining content size, and the next frame that declares
  /// none then fails with frameSize_wrong (found by tests/fuzz/fuzz_lz4_frame).
  void lz4f_discard() noexcept;
  libdeflate_decompressor* deflate();
  /// (Re)starts the xz decoder on the kept stream, which reuses its memory.
  lzma_stream& xz_restart();

  /// Decoders refuse xz streams that would need more memory than this.
  static constexpr std::uint64_t xz_memlimit = std::uint64_t{1} << 30;

 private:
  ZSTD_DCtx* zstd_ = nullptr;
  LZ4F_dctx* lz4f_ = nullptr;
  libdeflate_decompressor* deflate_ = nullptr;
  lzma_stream xz_ = LZMA_STREAM_INIT;
  bool xz_used_ = false;
};

namespace detail {

/// Throws Error(code, cause). Kept out of line so hot paths stay small.
[[noreturn]] void fail(ErrorCode code, std::string cause);

/// "12345" — shorthand for the many sizes in messages.
inline std::string num(std::uint64_t value) { return std::to_string(value); }

/// Little-endian loads from unaligned bytes.
inline std::uint32_t load_le32(const std::byte* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}
inline std::uint64_t load_le64(const std::byte* p) {
  return static_cast<std::uint64_t>(load_le32(p)) |
         static_cast<std::uint64_t>(load_le32(p + 4)) << 32;
}

}  // namespace detail
}  // namespace decoflow
