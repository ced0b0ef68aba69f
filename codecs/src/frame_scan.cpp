// Frame scans: split zstd / lz4 files into independently decodable pieces by
// reading headers only (nothing is decoded).
#include "decoflow/frame_scan.hpp"

#include <string>

#include <xxhash.h>

#include "detail_contexts.hpp"

namespace decoflow {

namespace {

using detail::fail;
using detail::load_le32;
using detail::load_le64;
using detail::num;

constexpr std::uint32_t zstd_magic = 0xFD2FB528U;
constexpr std::uint32_t lz4_magic = 0x184D2204U;
constexpr std::uint32_t lz4_legacy_magic = 0x184C2102U;
constexpr std::uint32_t seek_table_magic = 0x184D2A5EU;
constexpr std::uint32_t seekable_footer_magic = 0x8F92EAB1U;

/// Skippable frames (zstd and lz4 share them): magic 0x184D2A50..0x184D2A5F.
bool is_skippable(std::uint32_t magic) { return (magic & 0xFFFFFFF0U) == 0x184D2A50U; }

std::string hex32(std::uint32_t value) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string text = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) text += digits[(value >> shift) & 0xFU];
  return text;
}

/// Size of the skippable frame at `offset` (8-byte header + its payload).
std::size_t skippable_size(ConstBytes file, std::size_t offset, std::string_view format) {
  if (file.size() - offset < 8) {
    fail(ErrorCode::corrupt_input, std::string(format) + ": truncated skippable frame header at byte " +
                                       num(offset));
  }
  const std::size_t payload = load_le32(file.data() + offset + 4);
  if (payload > file.size() - offset - 8) {
    fail(ErrorCode::corrupt_input, std::string(format) + ": truncated skippable frame at byte " +
                                       num(offset) + ": it claims " + num(payload) +
                                       " bytes, the file has " + num(file.size() - offset - 8) +
                                       " left");
  }
  return 8 + payload;
}

/// A zstd seekable-format seek table at the end of the file, when there is one.
struct SeekTable {
  std::size_t offset = 0;  ///< where its skippable frame starts
  std::vector<std::pair<std::uint32_t, std::uint32_t>> entries;  ///< (compressed, decompressed)
};

std::optional<SeekTable> find_seek_table(ConstBytes file) {
  constexpr std::size_t footer = 9;
  if (file.size() < 8 + footer || load_le32(file.data() + file.size() - 4) != seekable_footer_magic) {
    return std::nullopt;
  }
  const std::byte* foot = file.data() + file.size() - footer;
  const std::uint64_t frames = load_le32(foot);
  const auto descriptor = static_cast<unsigned>(foot[4]);
  if ((descriptor & 0x7CU) != 0) {
    fail(ErrorCode::corrupt_input, "zstd seekable: seek table descriptor has reserved bits set (" +
                                       hex32(descriptor) + ")");
  }
  const std::uint64_t entry_size = (descriptor & 0x80U) != 0 ? 12 : 8;
  const std::uint64_t table = frames * entry_size + footer;
  if (table + 8 > file.size()) {
    fail(ErrorCode::corrupt_input, "zstd seekable: seek table of " + num(frames) +
                                       " frames is larger than the file (" + num(file.size()) +
                                       " bytes)");
  }
  SeekTable result;
  result.offset = file.size() - static_cast<std::size_t>(table) - 8;
  const std::byte* start = file.data() + result.offset;
  if (load_le32(start) != seek_table_magic || load_le32(start + 4) != table) {
    fail(ErrorCode::corrupt_input, "zstd seekable: the seek table footer at byte " +
                                       num(file.size() - footer) +
                                       " does not match a seek table frame at byte " +
                                       num(result.offset));
  }
  result.entries.reserve(static_cast<std::size_t>(frames));
  for (std::uint64_t i = 0; i < frames; ++i) {
    const std::byte* entry = start + 8 + i * entry_size;
    result.entries.emplace_back(load_le32(entry), load_le32(entry + 4));
  }
  return result;
}

void finish(FrameScan& scan) {
  scan.sizes_known = true;
  for (const FramePiece& piece : scan.pieces) {
    if (!piece.decoded_size) scan.sizes_known = false;
  }
}

}  // namespace

FrameScan scan_zstd_frames(ConstBytes file) {
  if (file.empty()) fail(ErrorCode::corrupt_input, "zstd: empty input");
  const std::optional<SeekTable> seek = find_seek_table(file);

  FrameScan scan;
  std::size_t offset = 0;
  while (offset < file.size()) {
    if (file.size() - offset < 4) {
      fail(ErrorCode::corrupt_input, "zstd: truncated frame at byte " + num(offset) + " (" +
                                         num(file.size() - offset) + " bytes left)");
    }
    const std::uint32_t magic = load_le32(file.data() + offset);
    if (is_skippable(magic)) {
      offset += skippable_size(file, offset, "zstd");
      continue;
    }
    if (magic != zstd_magic) {
      fail(ErrorCode::corrupt_input, "zstd: no frame at byte " + num(offset) + " (magic " +
                                         hex32(magic) + ")");
    }
    const void* frame = file.data() + offset;
    const std::size_t left = file.size() - offset;
    const std::size_t size = ZSTD_findFrameCompressedSize(frame, left);
    if (ZSTD_isError(size)) {
      const bool truncated = ZSTD_getErrorCode(size) == ZSTD_error_srcSize_wrong;
      fail(ErrorCode::corrupt_input, "zstd: " + std::string(truncated ? "truncated" : "malformed") +
                                         " frame at byte " + num(offset) + ": " +
                                         ZSTD_getErrorName(size));
    }
    FramePiece piece;
    piece.offset = offset;
    piece.size = size;
    piece.codec = Codec::zstd;
    const unsigned long long content = ZSTD_getFrameContentSize(frame, size);
    if (content == ZSTD_CONTENTSIZE_ERROR) {
      fail(ErrorCode::corrupt_input, "zstd: malformed frame header at byte " + num(offset));
    }
    if (content != ZSTD_CONTENTSIZE_UNKNOWN) piece.decoded_size = content;
    // The bound is the content size when declared, else blocks x block maximum.
    const unsigned long long bound = ZSTD_decompressBound(frame, size);
    if (bound == ZSTD_CONTENTSIZE_ERROR) {
      fail(ErrorCode::corrupt_input, "zstd: malformed frame at byte " + num(offset));
    }
    piece.max_decoded_size = bound;
    scan.pieces.push_back(piece);
    offset += size;
  }

  if (seek) {
    // Seekable format: the table lists every data frame; it must agree with the
    // frames found, and it supplies the sizes the frame headers leave out.
    if (seek->entries.size() != scan.pieces.size()) {
      fail(ErrorCode::corrupt_input, "zstd seekable: seek table lists " + num(seek->entries.size()) +
                                         " frames, the file has " + num(scan.pieces.size()));
    }
    for (std::size_t i = 0; i < scan.pieces.size(); ++i) {
      FramePiece& piece = scan.pieces[i];
      const auto [compressed, decompressed] = seek->entries[i];
      if (compressed != piece.size) {
        fail(ErrorCode::corrupt_input, "zstd seekable: seek table entry " + num(i) + " says " +
                                           num(compressed) + " compressed bytes, the frame at byte " +
                                           num(piece.offset) + " has " + num(piece.size));
      }
      if (piece.decoded_size && *piece.decoded_size != decompressed) {
        fail(ErrorCode::corrupt_input, "zstd seekable: seek table entry " + num(i) + " says " +
                                           num(decompressed) + " decoded bytes, the frame at byte " +
                                           num(piece.offset) + " declares " + num(*piece.decoded_size));
      }
      if (decompressed > piece.max_decoded_size) {
        fail(ErrorCode::corrupt_input, "zstd seekable: seek table entry " + num(i) + " says " +
                                           num(decompressed) + " decoded bytes, more than the frame at byte " +
                                           num(piece.offset) + " can hold (" +
                                           num(piece.max_decoded_size) + ")");
      }
      piece.decoded_size = decompressed;
      piece.max_decoded_size = decompressed;
    }
  }
  finish(scan);
  return scan;
}

FrameScan scan_lz4_frames(ConstBytes file) {
  if (file.empty()) fail(ErrorCode::corrupt_input, "lz4: empty input");
  FrameScan scan;
  std::size_t offset = 0;
  const auto need = [&](std::size_t at, std::size_t bytes, const char* what) {
    if (file.size() < at || file.size() - at < bytes) {
      fail(ErrorCode::corrupt_input, std::string("lz4: truncated ") + what + " at byte " + num(at) +
                                         " (needs " + num(bytes) + " bytes, " +
                                         num(file.size() > at ? file.size() - at : 0) + " left)");
    }
  };

  while (offset < file.size()) {
    need(offset, 4, "frame magic");
    const std::uint32_t magic = load_le32(file.data() + offset);
    if (is_skippable(magic)) {
      offset += skippable_size(file, offset, "lz4");
      continue;
    }
    if (magic == lz4_legacy_magic) {
      fail(ErrorCode::unsupported_format,
           "lz4: legacy-format frame at byte " + num(offset) + " is not supported");
    }
    if (magic != lz4_magic) {
      fail(ErrorCode::corrupt_input, "lz4: no frame at byte " + num(offset) + " (magic " +
                                         hex32(magic) + ")");
    }
    const std::size_t frame_offset = offset;
    need(offset + 4, 2, "frame header");
    const auto flg = static_cast<unsigned>(file[offset + 4]);
    const auto bd = static_cast<unsigned>(file[offset + 5]);
    if ((flg >> 6) != 1) {
      fail(ErrorCode::unsupported_format, "lz4: frame at byte " + num(offset) + " has version " +
                                              num(flg >> 6) + ", expected 1");
    }
    if ((flg & 0x02U) != 0 || (bd & 0x8FU) != 0) {
      fail(ErrorCode::corrupt_input,
           "lz4: frame at byte " + num(offset) + " has reserved header bits set");
    }
    const unsigned block_code = (bd >> 4) & 0x7U;
    if (block_code < 4) {
      fail(ErrorCode::corrupt_input, "lz4: frame at byte " + num(offset) +
                                         " has an invalid block maximum size code " + num(block_code));
    }
    const std::size_t block_max = std::size_t{1} << (8 + 2 * block_code);  // 64 KiB .. 4 MiB
    const bool independent = (flg & 0x20U) != 0;
    const bool block_checksums = (flg & 0x10U) != 0;
    const bool has_content_size = (flg & 0x08U) != 0;
    const bool content_checksum = (flg & 0x04U) != 0;
    const bool has_dict = (flg & 0x01U) != 0;
    const std::size_t descriptor_size = std::size_t{2} + (has_content_size ? 8U : 0U) + (has_dict ? 4U : 0U);
    need(offset + 4, descriptor_size + 1, "frame header");
    const std::byte* descriptor = file.data() + offset + 4;
    const auto stored_hc = static_cast<unsigned>(descriptor[descriptor_size]);
    const unsigned hc = (XXH32(descriptor, descriptor_size, 0) >> 8) & 0xFFU;
    if (hc != stored_hc) {
      fail(ErrorCode::checksum_mismatch,
           "lz4: frame header checksum mismatch at byte " + num(offset));
    }
    if (!independent) {
      fail(ErrorCode::unsupported_format,
           "lz4: frame at byte " + num(offset) +
               " uses linked blocks, which cannot be decoded in parallel (compress with "
               "independent blocks, e.g. `lz4 --BI`)");
    }
    if (has_dict) {
      fail(ErrorCode::unsupported_format,
           "lz4: frame at byte " + num(offset) + " needs a dictionary, which is not supported");
    }
    std::optional<std::uint64_t> content_size;
    if (has_content_size) content_size = load_le64(descriptor + 2);
    offset += 4 + descriptor_size + 1;

    const std::size_t first_piece = scan.pieces.size();
    while (true) {
      need(offset, 4, "block size");
      const std::uint32_t word = load_le32(file.data() + offset);
      if (word == 0) {
        offset += 4;
        break;
      }
      const bool stored = (word & 0x80000000U) != 0;
      const std::size_t size = word & 0x7FFFFFFFU;
      if (size > block_max) {
        fail(ErrorCode::corrupt_input, "lz4: block at byte " + num(offset) + " claims " + num(size) +
                                           " bytes, more than the frame's block maximum " +
                                           num(block_max));
      }
      need(offset + 4, size + (block_checksums ? 4 : 0), "block");
      const std::byte* data = file.data() + offset + 4;
      if (block_checksums && XXH32(data, size, 0) != load_le32(data + size)) {
        fail(ErrorCode::checksum_mismatch, "lz4: block checksum mismatch for the block at byte " +
                                               num(offset));
      }
      FramePiece piece;
      piece.offset = offset + 4;
      piece.size = size;
      if (stored) {
        piece.codec = Codec::raw;
        piece.decoded_size = size;
        piece.max_decoded_size = size;
      } else {
        piece.codec = Codec::lz4_block;
        piece.max_decoded_size = block_max;
      }
      scan.pieces.push_back(piece);
      offset += 4 + size + (block_checksums ? 4 : 0);
    }
    if (content_checksum) {
      need(offset, 4, "content checksum");
      scan.content_checksums.push_back(
          {first_piece, scan.pieces.size(), load_le32(file.data() + offset)});
      offset += 4;
    }

    if (content_size) {
      // The lz4 tool fills every block but the last, so a content size yields each
      // block's size. When the sizes cannot add up that way, leave them unknown.
      // (Only an assumption: callers compare what each block decodes to.)
      std::uint64_t stored_bytes = 0;
      std::uint64_t compressed_blocks = 0;
      for (std::size_t i = first_piece; i < scan.pieces.size(); ++i) {
        if (scan.pieces[i].codec == Codec::raw) {
          stored_bytes += scan.pieces[i].size;
        } else {
          ++compressed_blocks;
        }
      }
      if (compressed_blocks > 0) {
        const bool last_compressed = scan.pieces.back().codec == Codec::lz4_block;
        const std::uint64_t full = (compressed_blocks - (last_compressed ? 1 : 0)) * block_max;
        std::uint64_t last_size = 0;
        bool consistent = false;
        if (last_compressed) {
          consistent = *content_size > stored_bytes + full &&
                       *content_size - stored_bytes - full <= block_max;
          if (consistent) last_size = *content_size - stored_bytes - full;
        } else {
          consistent = *content_size == stored_bytes + full;
        }
        if (consistent) {
          for (std::size_t i = first_piece; i < scan.pieces.size(); ++i) {
            FramePiece& piece = scan.pieces[i];
            if (piece.codec != Codec::lz4_block) continue;
            piece.decoded_size = (last_compressed && i + 1 == scan.pieces.size()) ? last_size : block_max;
          }
        }
      } else if (*content_size != stored_bytes) {
        fail(ErrorCode::size_mismatch, "lz4: frame at byte " + num(frame_offset) + " declares " +
                                           num(*content_size) + " content bytes, its stored blocks hold " +
                                           num(stored_bytes));
      }
    }
  }
  finish(scan);
  return scan;
}

FrameScan scan_frames(ConstBytes file) {
  if (file.empty()) fail(ErrorCode::corrupt_input, "frame scan: empty input");
  // Skippable frames are common to both formats: look past them.
  std::size_t offset = 0;
  while (file.size() - offset >= 4) {
    const std::uint32_t magic = load_le32(file.data() + offset);
    if (magic == zstd_magic) return scan_zstd_frames(file);
    if (magic == lz4_magic || magic == lz4_legacy_magic) return scan_lz4_frames(file);
    if (!is_skippable(magic)) {
      fail(ErrorCode::unsupported_format, "frame scan: not a zstd or lz4 file (magic " + hex32(magic) +
                                              " at byte " + num(offset) + ")");
    }
    offset += skippable_size(file, offset, "frame scan");
    if (offset == file.size()) break;
  }
  if (offset == file.size()) return scan_zstd_frames(file);  // only skippable frames
  fail(ErrorCode::corrupt_input, "frame scan: truncated file: " + num(file.size() - offset) +
                                     " bytes at byte " + num(offset) + " are too few for a magic number");
}

}  // namespace decoflow
