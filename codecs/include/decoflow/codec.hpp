// decoflow/codec.hpp: the compressed formats decoflow decodes, by name.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace decoflow {

/// One compressed format of a chunk's input.
enum class Codec : std::uint8_t {
  raw,          ///< stored bytes: copied as they are
  zstd,         ///< one or more zstd frames (skippable frames skipped)
  lz4_block,    ///< one raw lz4 block; the decoded size is the destination size
  lz4_frame,    ///< one or more lz4 frames (LZ4F), blocks linked or independent
  root_blocks,  ///< ROOT compressed blocks (ZS, L4, ZL, XZ; or the whole basket stored raw)
};

/// The codec's name as used by the tools and the Python API ("zstd", "lz4_block",
/// "root_blocks", ...). Thread-safe.
std::string_view to_string(Codec codec) noexcept;

/// Parses a name written by to_string() (also accepts "root" for root_blocks and
/// "lz4" for lz4_frame). Returns nullopt for an unknown name. Thread-safe.
std::optional<Codec> codec_from_string(std::string_view name) noexcept;

}  // namespace decoflow
