// decoflow/frame_scan.hpp: splitting a compressed file into independently
// decodable pieces (zstd frames, lz4 frame blocks) without decoding them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "decoflow/bytes.hpp"
#include "decoflow/codec.hpp"

namespace decoflow {

/// One independently decodable piece of a compressed file.
struct FramePiece {
  std::size_t offset = 0;           ///< byte offset of the piece in the file
  std::size_t size = 0;             ///< compressed bytes of the piece
  Codec codec = Codec::raw;         ///< how to decode it (zstd, lz4_block or raw)
  std::optional<std::uint64_t> decoded_size;  ///< exact decoded size when the file says
  std::uint64_t max_decoded_size = 0;         ///< an upper bound on the decoded size
};

/// What a scan found: the pieces in file order, and checks the caller may run on
/// the decoded output.
struct FrameScan {
  std::vector<FramePiece> pieces;
  /// True when every piece has decoded_size (decode straight into slices).
  bool sizes_known = false;
  /// lz4 frames: XXH32 content checksums to verify over the concatenated output,
  /// one per frame that carries one, with the index range of its pieces.
  struct ContentChecksum {
    std::size_t first_piece = 0;
    std::size_t end_piece = 0;
    std::uint32_t xxh32 = 0;
  };
  std::vector<ContentChecksum> content_checksums;
};

/// Scans a file of concatenated zstd frames (as written by `zstd`, by `pzstd`,
/// which puts a 12-byte skippable frame before each frame, or in the zstd
/// seekable format, whose seek table gives every frame's decoded size).
/// Skippable frames are skipped. Throws decoflow::Error (corrupt_input) for a
/// truncated or malformed file, naming the byte offset; an empty file is an
/// error. Thread-safe.
FrameScan scan_zstd_frames(ConstBytes file);

/// Scans a file of lz4 frames (as written by the `lz4` tool) whose blocks are
/// independent; each data block becomes one piece (lz4_block, or raw for a
/// block stored uncompressed). Frames with linked blocks are rejected with
/// unsupported_format (they cannot be decoded in parallel). Block checksums are
/// verified during the scan; content checksums are returned for the caller.
/// Throws decoflow::Error naming the byte offset. Thread-safe.
FrameScan scan_lz4_frames(ConstBytes file);

/// Dispatches on the first magic number: zstd (or skippable) or lz4.
FrameScan scan_frames(ConstBytes file);

}  // namespace decoflow
