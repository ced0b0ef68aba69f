// ROOT compressed blocks: 9-byte headers ("ZS", "L4", "ZL", "XZ"), each block
// decoded straight into its part of dst. Layout: uproot src/uproot/compression.py,
// ROOT core/zip/src/RZip.cxx.
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include <lz4.h>
#include <xxhash.h>

#include "detail_contexts.hpp"

namespace decoflow {

namespace {

constexpr std::size_t header_size = 9;
constexpr std::size_t l4_checksum_size = 8;

std::uint32_t load_le24(const std::byte* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16;
}

/// The two tag bytes as text: "ZS", or "0x00 0x1f" when not printable.
std::string tag_text(const std::byte* p) {
  const auto printable = [](std::byte b) {
    const auto c = static_cast<unsigned char>(b);
    return c >= 0x20 && c < 0x7f;
  };
  if (printable(p[0]) && printable(p[1])) {
    return std::string{'"', static_cast<char>(p[0]), static_cast<char>(p[1]), '"'};
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string text;
  for (int i = 0; i < 2; ++i) {
    const auto c = static_cast<unsigned>(p[i]);
    if (i) text += ' ';
    text += "0x";
    text += hex[c >> 4];
    text += hex[c & 0xF];
  }
  return text;
}

/// One xz stream of exactly `src` into exactly `dst`.
/// `what()` names the block in an error message (built only on failure).
template <typename What>
void xz_exact(lzma_stream& stream, ConstBytes src, MutableBytes dst, const What& what) {
  stream.next_in = reinterpret_cast<const std::uint8_t*>(src.data());
  stream.avail_in = src.size();
  stream.next_out = reinterpret_cast<std::uint8_t*>(dst.data());
  stream.avail_out = dst.size();
  const lzma_ret ret = lzma_code(&stream, LZMA_FINISH);
  const std::size_t produced = dst.size() - stream.avail_out;
  switch (ret) {
    case LZMA_STREAM_END:
      if (produced != dst.size()) {
        detail::fail(ErrorCode::size_mismatch, what() + ": decoded " + detail::num(produced) +
                                                   " bytes, header says " + detail::num(dst.size()));
      }
      if (stream.avail_in != 0) {
        detail::fail(ErrorCode::corrupt_input, what() + ": " + detail::num(stream.avail_in) +
                                                   " bytes after the end of the xz stream");
      }
      return;
    case LZMA_OK:
    case LZMA_BUF_ERROR:
      if (stream.avail_out == 0) {
        // dst is full: more content, or a stream cut before its end? Ask for one
        // more byte into scratch (never dst) to tell.
        std::uint8_t probe[1];
        stream.next_out = probe;
        stream.avail_out = sizeof probe;
        const lzma_ret again = lzma_code(&stream, LZMA_FINISH);
        if (again == LZMA_STREAM_END && stream.avail_out == sizeof probe) {
          if (stream.avail_in != 0) {
            detail::fail(ErrorCode::corrupt_input, what() + ": " + detail::num(stream.avail_in) +
                                                       " bytes after the end of the xz stream");
          }
          return;  // the footer needed one more call: exact fit after all
        }
        if (stream.avail_in != 0 || stream.avail_out == 0) {
          detail::fail(ErrorCode::size_mismatch, what() + ": content larger than the header's " +
                                                     detail::num(dst.size()) + " bytes");
        }
      }
      detail::fail(ErrorCode::corrupt_input, what() + ": truncated xz stream (" +
                                                 detail::num(produced) + " of " +
                                                 detail::num(dst.size()) + " bytes decoded)");
    case LZMA_MEMLIMIT_ERROR:
    case LZMA_MEM_ERROR:
      detail::fail(ErrorCode::resource_error,
                   what() + ": the xz stream needs more memory than allowed (" +
                       detail::num(lzma_memusage(&stream)) + " bytes)");
    case LZMA_DATA_ERROR:
      detail::fail(ErrorCode::corrupt_input, what() + ": corrupt xz data");
    case LZMA_FORMAT_ERROR:
      detail::fail(ErrorCode::corrupt_input, what() + ": not an xz stream");
    case LZMA_OPTIONS_ERROR:
      detail::fail(ErrorCode::unsupported_format, what() + ": unsupported xz options");
    default:
      detail::fail(ErrorCode::corrupt_input,
                   what() + ": xz decoding failed (lzma_ret " + detail::num(static_cast<std::uint64_t>(ret)) + ")");
  }
}

/// libdeflate reports a cut or corrupt stream as "insufficient space" when the
/// garbage it decodes overflows dst. Only on this error path, decode again into a
/// scratch buffer as large as any ROOT block can be, to name the right cause.
[[noreturn]] void zlib_overflow(libdeflate_decompressor* decompressor, ConstBytes payload,
                                std::size_t uncompressed, const std::string& what) {
  constexpr std::size_t max_block = std::size_t{1} << 24;
  std::unique_ptr<std::byte[]> scratch(new (std::nothrow) std::byte[max_block]);
  std::size_t actual = 0;
  const libdeflate_result ret =
      scratch ? libdeflate_zlib_decompress(decompressor, payload.data(), payload.size(),
                                           scratch.get(), max_block, &actual)
              : LIBDEFLATE_INSUFFICIENT_SPACE;
  if (ret == LIBDEFLATE_BAD_DATA) {
    detail::fail(ErrorCode::corrupt_input, what + ": zlib: corrupt or truncated deflate data");
  }
  detail::fail(ErrorCode::size_mismatch,
               what + ": zlib: content larger than the header's " + detail::num(uncompressed) +
                   " bytes" + (ret == LIBDEFLATE_SUCCESS ? " (" + detail::num(actual) + " bytes)" : ""));
}

}  // namespace

std::size_t Decoder::root_blocks_into(ConstBytes src, MutableBytes dst,
                                      BlockChecksums checksums) {
  // ROOT's rule: a basket that did not shrink is stored as it is.
  if (src.size() == dst.size()) {
    if (!src.empty()) std::memcpy(dst.data(), src.data(), src.size());
    return src.size();
  }
  if (src.empty()) {
    detail::fail(ErrorCode::corrupt_input, "root blocks: empty input for a destination of " +
                                               detail::num(dst.size()) + " bytes");
  }
  if (!contexts_) contexts_ = std::make_unique<Contexts>();

  std::size_t in = 0;
  std::size_t out = 0;
  for (std::size_t block = 0; in < src.size(); ++block) {
    // Messages are made only on failure: a block decoded allocates nothing.
    const auto where = [&] { return "root block " + detail::num(block) + " at byte " + detail::num(in); };
    if (block > 0 && out == dst.size()) {
      detail::fail(ErrorCode::corrupt_input,
                   "root blocks: " + detail::num(src.size() - in) + " bytes of trailing garbage at byte " +
                       detail::num(in) + ", after " + detail::num(block) +
                       " blocks filled the destination");
    }
    if (src.size() - in < header_size) {
      detail::fail(ErrorCode::corrupt_input,
                   where() + ": truncated header (" + detail::num(src.size() - in) + " of 9 bytes)");
    }
    const std::byte* header = src.data() + in;
    const char tag0 = static_cast<char>(header[0]);
    const char tag1 = static_cast<char>(header[1]);
    const std::size_t compressed = load_le24(header + 3);
    const std::size_t uncompressed = load_le24(header + 6);
    const auto what = [&] { return where() + " (" + tag_text(header) + ")"; };

    if (tag0 == 'C' && tag1 == 'S') {
      detail::fail(ErrorCode::unsupported_format,
                   where() + ": old ROOT 'CS' compression is not supported");
    }
    const bool known = (tag0 == 'Z' && tag1 == 'S') || (tag0 == 'L' && tag1 == '4') ||
                       (tag0 == 'Z' && tag1 == 'L') || (tag0 == 'X' && tag1 == 'Z');
    if (!known) {
      detail::fail(ErrorCode::unsupported_format,
                   where() + ": unknown compression algorithm " + tag_text(header));
    }
    // Validate both sizes before touching the payload: a header claiming 16 MiB
    // for a 10-byte input fails here, with no allocation and no write.
    if (compressed > src.size() - in - header_size) {
      detail::fail(ErrorCode::corrupt_input,
                   what() + ": truncated: header claims " + detail::num(compressed) +
                       " compressed bytes, input has " + detail::num(src.size() - in - header_size) +
                       " left");
    }
    if (uncompressed > dst.size() - out) {
      detail::fail(ErrorCode::size_mismatch,
                   what() + ": header claims " + detail::num(uncompressed) +
                       " uncompressed bytes, destination has " + detail::num(dst.size() - out) +
                       " left");
    }
    const ConstBytes payload = src.subspan(in + header_size, compressed);
    const MutableBytes part = dst.subspan(out, uncompressed);

    if (tag0 == 'Z' && tag1 == 'S') {
      ZSTD_DCtx* dctx = contexts_->zstd();
      const std::size_t ret =
          ZSTD_decompressDCtx(dctx, part.data(), part.size(), payload.data(), payload.size());
      if (ZSTD_isError(ret)) {
        ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
        if (ZSTD_getErrorCode(ret) == ZSTD_error_dstSize_tooSmall) {
          detail::fail(ErrorCode::size_mismatch,
                       what() + ": content larger than the header's " + detail::num(uncompressed) + " bytes");
        }
        detail::fail(ErrorCode::corrupt_input, what() + ": zstd: " + ZSTD_getErrorName(ret));
      }
      if (ret != uncompressed) {
        detail::fail(ErrorCode::size_mismatch, what() + ": decoded " + detail::num(ret) +
                                                   " bytes, header says " + detail::num(uncompressed));
      }
    } else if (tag0 == 'L' && tag1 == '4') {
      if (compressed < l4_checksum_size + 1) {
        detail::fail(ErrorCode::corrupt_input, what() + ": compressed size " + detail::num(compressed) +
                                                   " is too small for the checksum and a block");
      }
      const ConstBytes block_data = payload.subspan(l4_checksum_size);
      if (checksums == BlockChecksums::verify &&
          load_be<8>(payload.data()) != XXH64(block_data.data(), block_data.size(), 0)) {
        detail::fail(ErrorCode::checksum_mismatch,
                     what() + ": XXH64 of the lz4 payload does not match the stored checksum");
      }
      // Both sizes are below 2^24, so the int conversions are exact.
      const int got = LZ4_decompress_safe(reinterpret_cast<const char*>(block_data.data()),
                                          reinterpret_cast<char*>(part.data()),
                                          static_cast<int>(block_data.size()),
                                          static_cast<int>(part.size()));
      if (got < 0) {
        detail::fail(ErrorCode::corrupt_input,
                     what() + ": lz4: malformed block (or content larger than the header's " +
                         detail::num(uncompressed) + " bytes)");
      }
      if (static_cast<std::size_t>(got) != uncompressed) {
        detail::fail(ErrorCode::size_mismatch, what() + ": decoded " + detail::num(static_cast<std::uint64_t>(got)) +
                                                   " bytes, header says " + detail::num(uncompressed));
      }
    } else if (tag0 == 'Z' && tag1 == 'L') {
      std::size_t used = 0;
      const libdeflate_result ret = libdeflate_zlib_decompress_ex(
          contexts_->deflate(), payload.data(), payload.size(), part.data(), part.size(), &used,
          nullptr);
      switch (ret) {
        case LIBDEFLATE_SUCCESS: break;
        case LIBDEFLATE_SHORT_OUTPUT:
          detail::fail(ErrorCode::size_mismatch,
                       what() + ": zlib: content shorter than the header's " + detail::num(uncompressed) + " bytes");
        case LIBDEFLATE_INSUFFICIENT_SPACE:
          zlib_overflow(contexts_->deflate(), payload, uncompressed, what());
        default:
          detail::fail(ErrorCode::corrupt_input, what() + ": zlib: corrupt or truncated deflate data");
      }
      if (used != payload.size()) {
        detail::fail(ErrorCode::corrupt_input, what() + ": " + detail::num(payload.size() - used) +
                                                   " bytes after the end of the zlib stream");
      }
    } else {
      xz_exact(contexts_->xz_restart(), payload, part, what);
    }
    in += header_size + compressed;
    out += uncompressed;
  }
  if (out != dst.size()) {
    detail::fail(ErrorCode::size_mismatch, "root blocks: decoded " + detail::num(out) +
                                               " bytes, destination expects " + detail::num(dst.size()));
  }
  return out;
}

}  // namespace decoflow
