#include "decoflow/codec.hpp"

namespace decoflow {

std::string_view to_string(Codec codec) noexcept {
  switch (codec) {
    case Codec::raw: return "raw";
    case Codec::zstd: return "zstd";
    case Codec::lz4_block: return "lz4_block";
    case Codec::lz4_frame: return "lz4_frame";
    case Codec::root_blocks: return "root_blocks";
  }
  return "unknown";
}

std::optional<Codec> codec_from_string(std::string_view name) noexcept {
  if (name == "raw") return Codec::raw;
  if (name == "zstd") return Codec::zstd;
  if (name == "lz4_block") return Codec::lz4_block;
  if (name == "lz4_frame" || name == "lz4") return Codec::lz4_frame;
  if (name == "root_blocks" || name == "root") return Codec::root_blocks;
  return std::nullopt;
}

}  // namespace decoflow
