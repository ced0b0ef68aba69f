#include "engine_fixtures.hpp"

#include <algorithm>
#include <cstring>
#include <random>

namespace decoflow::test {

Bytes compress_as(Codec codec, ConstBytes content) {
  switch (codec) {
    case Codec::raw: return Bytes(content.begin(), content.end());
    case Codec::zstd: return zstd_compress(content, 3);
    case Codec::lz4_block: return lz4_block_compress(content);
    case Codec::lz4_frame: return lz4_frame_compress(content);
    case Codec::root_blocks: return content.empty() ? Bytes{} : root_blocks(content, "ZS");
  }
  return {};
}

ChunkedData make_chunks(std::size_t count, std::size_t max_size, const std::vector<Codec>& codecs,
                        std::uint64_t seed, std::size_t gap, std::size_t align) {
  ChunkedData data;
  data.gap = gap;
  std::mt19937_64 rng(seed);
  std::size_t dest = gap;
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t size = max_size == 0 ? 0 : static_cast<std::size_t>(rng() % max_size);
    size -= size % align;
    const Codec codec = codecs[i % codecs.size()];
    Bytes content = physics_bytes(size, seed * 1000003 + i);
    Bytes packed = compress_as(codec, view(content));
    ChunkSpec c;
    c.input = 0;
    c.input_offset = data.compressed.size();
    c.input_size = packed.size();
    c.array = 0;
    c.dest_offset = dest;
    c.dest_size = size;
    c.codec = codec;
    c.tag = static_cast<std::int64_t>(i);
    data.chunks.push_back(c);
    data.original_offset.push_back(data.original.size());
    data.original.insert(data.original.end(), content.begin(), content.end());
    data.compressed.insert(data.compressed.end(), packed.begin(), packed.end());
    dest += size + gap;
  }
  data.array_size = dest;
  return data;
}

BuiltGraph build_graph(const ChunkedData& data, std::string name) {
  BuiltGraph built{DestinationArray::allocate(data.array_size), Graph(std::move(name))};
  std::memset(built.array->data(), static_cast<int>(poison_byte), built.array->size());
  built.graph.add_input(InputBuffer::from_bytes(data.compressed));
  built.graph.add_array(built.array);
  built.graph.add_stage(Stage::decode());
  built.graph.reserve_chunks(data.chunks.size());
  for (const ChunkSpec& c : data.chunks) built.graph.add_chunk(c);
  return built;
}

bool slice_matches(const ChunkedData& data, const DestinationArray& array, std::size_t i) {
  const ChunkSpec& c = data.chunks[i];
  return c.dest_size == 0 || std::memcmp(array.data() + c.dest_offset,
                                         data.original.data() + data.original_offset[i],
                                         c.dest_size) == 0;
}

bool slice_untouched(const ChunkedData& data, const DestinationArray& array, std::size_t i) {
  const ChunkSpec& c = data.chunks[i];
  const std::byte* p = array.data() + c.dest_offset;
  return std::all_of(p, p + c.dest_size, [](std::byte b) { return b == poison_byte; });
}

bool gaps_intact(const ChunkedData& data, const DestinationArray& array) {
  std::size_t pos = 0;
  auto poisoned = [&](std::size_t from, std::size_t to) {
    return std::all_of(array.data() + from, array.data() + to,
                       [](std::byte b) { return b == poison_byte; });
  };
  for (const ChunkSpec& c : data.chunks) {
    if (!poisoned(pos, c.dest_offset)) return false;
    pos = c.dest_offset + c.dest_size;
  }
  return poisoned(pos, array.size());
}

}  // namespace decoflow::test
