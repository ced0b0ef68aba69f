// An RNTuple page's framing and column encodings (column_chunk.hpp's
// rntuple_page / rntuple_zeros chunks): internal to decoflow_graphs.
#pragma once

#include <cstdint>
#include <optional>

#include "decoflow/column_chunk.hpp"

namespace decoflow::detail {

/// Decodes the page `stored` of `chunk` (chunk.entries elements) into
/// `content` (exactly entries × chunk.width bytes): checksum, ROOT blocks or
/// raw, then the encoding. Throws Error naming what disagrees (sizes,
/// checksum, an offset that goes backwards). Thread-safe for distinct chunks.
void decode_rntuple_page(const ColumnChunk& chunk, ConstBytes stored, MutableBytes content,
                         Decoder& decoder, ScratchPool& scratch);

/// The bytes ROOT compression blocks say they decode to (the sum of their
/// headers' uncompressed sizes), checked before anything is allocated for
/// them; nullopt when `stored` is not a sequence of whole block headers and
/// payloads. Thread-safe.
std::optional<std::uint64_t> root_blocks_decoded_size(ConstBytes stored) noexcept;

/// The bytes a page of `elements` elements holds once decompressed.
std::uint64_t rntuple_page_bytes(const ColumnChunk& chunk, std::uint64_t elements) noexcept;

}  // namespace decoflow::detail
