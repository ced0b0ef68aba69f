// engine_fixtures.hpp: building graphs of compressed chunks for engine tests.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "decoflow/codec.hpp"
#include "decoflow/destination.hpp"
#include "decoflow/graph.hpp"
#include "decoflow/input.hpp"
#include "test_support.hpp"

namespace decoflow::test {

inline constexpr std::byte poison_byte{0xA5};

/// Chunks of known content compressed into one input buffer, each destined for
/// its own slice of one destination array, with a poisoned gap between slices
/// (so a write outside a slice shows up as a changed gap byte).
struct ChunkedData {
  Bytes original;                    // the expected content of each slice, concatenated
  std::vector<std::size_t> original_offset;  // where chunk i's content starts in `original`
  Bytes compressed;                  // all chunk inputs, back to back
  std::vector<ChunkSpec> chunks;     // input 0, array 0
  std::size_t array_size = 0;        // slices plus gaps
  std::size_t gap = 0;
};

/// Compresses `count` chunks of physics-like data of sizes in [0, max_size)
/// (rounded to `align`), cycling through `codecs`.
ChunkedData make_chunks(std::size_t count, std::size_t max_size,
                        const std::vector<Codec>& codecs, std::uint64_t seed = 7,
                        std::size_t gap = 16, std::size_t align = 8);

/// A graph over `data`: one input, one poisoned array, the decode stage.
struct BuiltGraph {
  std::shared_ptr<DestinationArray> array;
  Graph graph;
};
BuiltGraph build_graph(const ChunkedData& data, std::string name = "test-graph");

/// True when chunk i's slice equals its original content.
bool slice_matches(const ChunkedData& data, const DestinationArray& array, std::size_t i);
/// True when chunk i's slice is entirely poison (never written).
bool slice_untouched(const ChunkedData& data, const DestinationArray& array, std::size_t i);
/// True when every gap byte between and around slices is still poison.
bool gaps_intact(const ChunkedData& data, const DestinationArray& array);

/// Compresses `content` as one chunk of `codec`.
Bytes compress_as(Codec codec, ConstBytes content);

}  // namespace decoflow::test
