// Frames files through the engine: both paths ((a) slices of one array or a
// mapped output file, (b) scratch + ordered placement) on generated zstd and
// lz4 files, every output compared byte for byte; bad inputs named by piece;
// ROOT block tables into slices.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "catch.hpp"
#include "decoflow/decoflow.hpp"
#include "decoflow/frame_scan.hpp"
#include "decoflow/frames_file.hpp"
#include "test_support.hpp"

using namespace decoflow;
using namespace decoflow::test;

namespace {

void put_le32(Bytes& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::byte>(value >> (8 * i)));
}

void append(Bytes& out, const Bytes& part) { out.insert(out.end(), part.begin(), part.end()); }

/// Parts of different sizes and contents (one empty, one incompressible), so
/// prefix sums, stored lz4 blocks and empty frames all occur.
std::vector<Bytes> make_parts() {
  return {physics_bytes(300000, 1), physics_bytes(70001, 2), Bytes{}, random_bytes(90000, 3),
          physics_bytes(1, 4),      physics_bytes(250000, 5)};
}

Bytes joined(const std::vector<Bytes>& parts) {
  Bytes out;
  for (const Bytes& p : parts) append(out, p);
  return out;
}

enum class ZstdLayout { content_sizes, pzstd, seekable };

/// A multi-frame zstd file: `zstd` outputs concatenated (content sizes), pzstd's
/// layout (a 12-byte skippable frame before every frame, no content size), or
/// the seekable format (no content sizes, a seek table at the end).
Bytes zstd_file(const std::vector<Bytes>& parts, ZstdLayout layout, bool checksums) {
  Bytes file;
  Bytes table;
  for (const Bytes& part : parts) {
    const Bytes frame = zstd_compress(view(part), 3, checksums, layout == ZstdLayout::content_sizes);
    if (layout == ZstdLayout::pzstd) {
      put_le32(file, 0x184D2A50U);
      put_le32(file, 4);
      put_le32(file, static_cast<std::uint32_t>(frame.size()));
    }
    append(file, frame);
    put_le32(table, static_cast<std::uint32_t>(frame.size()));
    put_le32(table, static_cast<std::uint32_t>(part.size()));
  }
  if (layout == ZstdLayout::seekable) {
    put_le32(table, static_cast<std::uint32_t>(parts.size()));
    table.push_back(std::byte{0});
    put_le32(table, 0x8F92EAB1U);
    put_le32(file, 0x184D2A5EU);
    put_le32(file, static_cast<std::uint32_t>(table.size()));
    append(file, table);
  }
  return file;
}

/// One lz4 frame per part, 64 KiB blocks, independent.
Bytes lz4_file(const std::vector<Bytes>& parts, const Lz4FrameOptions& options) {
  Bytes file;
  for (const Bytes& part : parts) append(file, lz4_frame_compress(view(part), options));
  return file;
}

struct Decoded {
  FramesResult result;
  Bytes output;
};

/// Decodes `file` with decode_frames_to_fd into a temporary output file.
Decoded decode_to_file(const Bytes& file, bool prefer_slices, unsigned threads = 3) {
  const std::string in_path = write_temp_file(view(file), ".in");
  const std::string out_path = write_temp_file({}, ".out");
  Decoded decoded;
  {
    const int fd = ::open(out_path.c_str(), O_RDWR | O_TRUNC);
    REQUIRE(fd >= 0);
    try {
      auto input = InputBuffer::map_file(in_path);
      FrameScan scan = scan_frames(input->bytes());
      Executor executor(threads);
      FramesOptions options;
      options.prefer_slices = prefer_slices;
      FramesDecode job = decode_frames_to_fd(executor, input, std::move(scan), fd, options);
      decoded.result = job.finish();
    } catch (...) {
      ::close(fd);
      remove_file(in_path);
      remove_file(out_path);
      throw;
    }
    ::close(fd);
  }
  decoded.output = read_file(out_path);
  remove_file(in_path);
  remove_file(out_path);
  return decoded;
}

/// Runs `action`, requires an Error with `code` located at chunk `piece`, and
/// returns its cause.
std::string require_piece_error(ErrorCode code, std::int64_t piece, const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    INFO("decoflow::Error: " << e.what());
    CHECK(e.code() == code);
    CHECK(e.chunk() == piece);
    return e.cause();
  }
  FAIL("expected decoflow::Error with code " << to_string(code));
  return {};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("frames file: zstd layouts decode by both paths", "[frames-file][zstd]") {
  const std::vector<Bytes> parts = make_parts();
  const Bytes original = joined(parts);
  const struct {
    ZstdLayout layout;
    const char* name;
    bool sizes_known;
  } layouts[] = {{ZstdLayout::content_sizes, "zstd outputs, content sizes", true},
                 {ZstdLayout::pzstd, "pzstd skippable frames", false},
                 {ZstdLayout::seekable, "seekable format", true}};
  for (const auto& l : layouts) {
    for (bool checksums : {false, true}) {
      for (bool prefer_slices : {true, false}) {
        DYNAMIC_SECTION(l.name << ", checksums " << checksums << ", prefer slices " << prefer_slices) {
          const Bytes file = zstd_file(parts, l.layout, checksums);
          const Decoded d = decode_to_file(file, prefer_slices);
          REQUIRE(d.output == original);
          const bool slices = prefer_slices && l.sizes_known;
          CHECK(d.result.path == (slices ? FramesPath::slices : FramesPath::ordered));
          CHECK(d.result.bytes_in == file.size());
          CHECK(d.result.bytes_out == original.size());
          CHECK(d.result.pieces == parts.size());
          CHECK(d.result.zstd_checksums_verified == (checksums ? parts.size() : 0));
        }
      }
    }
  }
}

TEST_CASE("frames file: lz4 frames with every header option decode by both paths", "[frames-file][lz4]") {
  const std::vector<Bytes> parts = make_parts();
  const Bytes original = joined(parts);
  for (int flags = 0; flags < 8; ++flags) {
    Lz4FrameOptions options;
    options.content_size = (flags & 1) != 0;
    options.block_checksum = (flags & 2) != 0;
    options.content_checksum = (flags & 4) != 0;
    for (bool prefer_slices : {true, false}) {
      DYNAMIC_SECTION("content size " << options.content_size << ", block checksums "
                                      << options.block_checksum << ", content checksum "
                                      << options.content_checksum << ", prefer slices " << prefer_slices) {
        const Bytes file = lz4_file(parts, options);
        const Decoded d = decode_to_file(file, prefer_slices, 2);
        REQUIRE(d.output == original);
        const bool slices = prefer_slices && options.content_size;
        CHECK(d.result.path == (slices ? FramesPath::slices : FramesPath::ordered));
        CHECK(d.result.bytes_out == original.size());
        CHECK(d.result.content_checksums_verified == (options.content_checksum ? parts.size() : 0));
      }
    }
  }
}

TEST_CASE("frames file: graphs into an array, a vector sink, and again", "[frames-file]") {
  const std::vector<Bytes> parts = make_parts();
  const Bytes original = joined(parts);
  Lz4FrameOptions lz4_options;
  lz4_options.content_size = true;
  lz4_options.content_checksum = true;
  for (const Bytes& file : {zstd_file(parts, ZstdLayout::content_sizes, true), lz4_file(parts, lz4_options)}) {
    auto input = InputBuffer::from_bytes(file);
    const FrameScan scan = scan_frames(input->bytes());
    REQUIRE(scan.sizes_known);
    REQUIRE(decoded_size(scan) == original.size());
    Executor executor(2);

    // Path (a) at an offset inside a larger poisoned array: only its bytes change.
    constexpr std::size_t before = 100, after = 50;
    auto array = DestinationArray::allocate(before + original.size() + after);
    std::fill(array->data(), array->data() + array->size(), std::byte{0xA5});
    auto graph = std::make_shared<const Graph>(frames_to_array_graph(input, scan, array, before));
    for (int round = 0; round < 2; ++round) {  // the same graph runs twice (checksums restart)
      executor.submit(graph).get();
      const ConstBytes all(array->data(), array->size());
      CHECK(std::all_of(all.begin(), all.begin() + before, [](std::byte b) { return b == std::byte{0xA5}; }));
      CHECK(std::all_of(all.end() - after, all.end(), [](std::byte b) { return b == std::byte{0xA5}; }));
      CHECK(std::equal(original.begin(), original.end(), all.begin() + before));
    }
    require_error(ErrorCode::invalid_argument, [&] {
      (void)frames_to_array_graph(input, scan, DestinationArray::allocate(original.size() - 1), 0);
    });

    // Path (b) into a std::vector, run twice: offsets restart at 0.
    Bytes out;
    std::vector<std::uint64_t> offsets;
    auto sink_graph = std::make_shared<const Graph>(
        frames_to_sink_graph(input, scan, [&](std::uint64_t offset, ConstBytes bytes) {
          offsets.push_back(offset);
          CHECK(offset == out.size());
          out.insert(out.end(), bytes.begin(), bytes.end());
        }));
    for (int round = 0; round < 2; ++round) {
      out.clear();
      executor.submit(sink_graph).get();
      CHECK(out == original);
    }
    require_error(ErrorCode::invalid_argument, [&] { (void)frames_to_sink_graph(input, scan, nullptr); });
  }
}

TEST_CASE("frames file: sizes unknown refuse path (a) graphs", "[frames-file][bad]") {
  const Bytes file = zstd_file(make_parts(), ZstdLayout::pzstd, false);
  auto input = InputBuffer::from_bytes(file);
  const FrameScan scan = scan_frames(input->bytes());
  const std::string cause = require_error(ErrorCode::invalid_argument, [&] { (void)decoded_size(scan); });
  CHECK(contains(cause, "piece 0"));
  require_error(ErrorCode::invalid_argument, [&] {
    (void)frames_to_array_graph(input, scan, DestinationArray::allocate(1 << 20));
  });
}

TEST_CASE("frames file: empty and truncated inputs fail the scan", "[frames-file][bad]") {
  require_error(ErrorCode::corrupt_input, [] { (void)decode_to_file({}, true); });
  const std::vector<Bytes> parts = make_parts();
  Lz4FrameOptions lz4_options;
  lz4_options.content_checksum = true;
  for (const Bytes& whole : {zstd_file(parts, ZstdLayout::content_sizes, false),
                             zstd_file(parts, ZstdLayout::pzstd, false), lz4_file(parts, lz4_options)}) {
    const Bytes cut(whole.begin(), whole.end() - 7);
    const std::string cause = require_error(ErrorCode::corrupt_input, [&] { (void)decode_to_file(cut, true); });
    CHECK(contains(cause, "truncated"));
    CHECK(contains(cause, "at byte"));
  }
}

TEST_CASE("frames file: a corrupted frame in the middle names its piece", "[frames-file][bad]") {
  const std::vector<Bytes> parts = make_parts();
  for (ZstdLayout layout : {ZstdLayout::content_sizes, ZstdLayout::pzstd}) {
    for (bool prefer_slices : {true, false}) {
      DYNAMIC_SECTION("layout " << static_cast<int>(layout) << ", prefer slices " << prefer_slices) {
        Bytes file = zstd_file(parts, layout, true);
        const FrameScan scan = scan_frames(view(file));
        const FramePiece& victim = scan.pieces[3];  // the incompressible part
        file[victim.offset + victim.size / 2] ^= std::byte{0x5A};
        const std::string cause = require_piece_error(ErrorCode::corrupt_input, 3, [&] {
          (void)decode_to_file(file, prefer_slices);
        });
        CHECK(contains(cause, "piece 3: zstd frame at input bytes " + std::to_string(victim.offset)));
      }
    }
  }

  // An lz4 block whose bytes were damaged (no block checksum to catch it early).
  Bytes file = lz4_file(parts, {});
  const FrameScan scan = scan_frames(view(file));
  std::size_t victim = 0;
  while (scan.pieces[victim].codec != Codec::lz4_block || victim < 2) ++victim;
  Bytes damaged = file;
  for (std::size_t k = 0; k < 8; ++k) damaged[scan.pieces[victim].offset + k] = std::byte{0xFF};
  try {
    (void)decode_to_file(damaged, true);
    FAIL("no error");
  } catch (const Error& e) {
    INFO(e.what());
    CHECK(e.chunk() == static_cast<std::int64_t>(victim));
    CHECK(contains(e.cause(), "piece " + std::to_string(victim) + ": lz4 block"));
  }
}

TEST_CASE("frames file: an lz4 content checksum mismatch names the frame", "[frames-file][bad][lz4]") {
  const std::vector<Bytes> parts = {physics_bytes(200000, 1), physics_bytes(150000, 2)};
  for (bool content_size : {true, false}) {
    Lz4FrameOptions options;
    options.content_checksum = true;
    options.content_size = content_size;
    const Bytes first = lz4_frame_compress(view(parts[0]), options);
    Bytes second = lz4_frame_compress(view(parts[1]), options);
    second[second.size() - 2] ^= std::byte{0x01};  // inside the stored content checksum
    const Bytes file = concat({view(first), view(second)});
    const FrameScan scan = scan_frames(view(file));
    REQUIRE(scan.content_checksums.size() == 2);
    const std::size_t first_piece = scan.content_checksums[1].first_piece;
    const std::size_t last_piece = scan.content_checksums[1].end_piece - 1;
    for (bool prefer_slices : {true, false}) {
      DYNAMIC_SECTION("content size " << content_size << ", prefer slices " << prefer_slices) {
        const std::string cause =
            require_piece_error(ErrorCode::checksum_mismatch, static_cast<std::int64_t>(last_piece),
                                [&] { (void)decode_to_file(file, prefer_slices); });
        CHECK(contains(cause, "content checksum mismatch"));
        CHECK(contains(cause, "pieces " + std::to_string(first_piece) + ".." + std::to_string(last_piece)));
      }
    }
    // Checksums not asked for: the same file decodes.
    auto input = InputBuffer::from_bytes(file);
    FramesOptions no_verify;
    no_verify.verify_content_checksums = false;
    Bytes out;
    Executor executor(2);
    executor.run(frames_to_sink_graph(input, scan, [&](std::uint64_t, ConstBytes b) {
      out.insert(out.end(), b.begin(), b.end());
    }, no_verify));
    CHECK(out == concat({view(parts[0]), view(parts[1])}));
  }
}

TEST_CASE("frames file: linked-block lz4 and garbage are rejected", "[frames-file][bad][lz4]") {
  Lz4FrameOptions linked;
  linked.linked = true;
  const Bytes file = lz4_frame_compress(view(physics_bytes(300000, 1)), linked);
  const std::string cause = require_error(ErrorCode::unsupported_format, [&] { (void)decode_to_file(file, true); });
  CHECK(contains(cause, "linked blocks"));
  require_error(ErrorCode::unsupported_format, [] { (void)decode_to_file(random_bytes(1000, 9), true); });
}

TEST_CASE("frames file: progress is readable while running and exact at the end", "[frames-file]") {
  const std::vector<Bytes> parts = make_parts();
  const Bytes file = zstd_file(parts, ZstdLayout::pzstd, false);
  const std::string in_path = write_temp_file(view(file), ".zst");
  const std::string out_path = write_temp_file({}, ".out");
  const int fd = ::open(out_path.c_str(), O_RDWR | O_TRUNC);
  REQUIRE(fd >= 0);
  {
    auto input = InputBuffer::map_file(in_path);
    Executor executor(2);
    FramesDecode job = decode_frames_to_fd(executor, input, scan_frames(input->bytes()), fd);
    CHECK(job.path() == FramesPath::ordered);
    CHECK(job.scan().pieces.size() == parts.size());
    const Progress before = job.run().progress();
    CHECK(before.chunks_total == parts.size());
    const FramesResult result = job.finish();
    const Progress done = job.run().progress();
    CHECK(done.chunks_done == parts.size());
    CHECK(done.bytes_done == result.bytes_out);
    require_error(ErrorCode::invalid_argument, [&] { (void)job.finish(); });
  }
  ::close(fd);
  CHECK(read_file(out_path) == joined(parts));
  remove_file(in_path);
  remove_file(out_path);
}

TEST_CASE("ROOT block table into slices, with and without byteswap", "[frames-file][root]") {
  // Three baskets, each compressed with a different ROOT algorithm, laid out in
  // a file with junk between them (TKey headers in a real file).
  const std::vector<Bytes> baskets = {physics_bytes(40000, 1), physics_bytes(64000, 2), physics_bytes(4, 3)};
  const char* algos[] = {"ZS", "L4", "ZL"};
  Bytes file = random_bytes(77, 5);
  std::vector<RootBlockChunk> table;
  std::uint64_t dest = 0;
  for (std::size_t i = 0; i < baskets.size(); ++i) {
    const Bytes payload = root_blocks(view(baskets[i]), algos[i]);
    table.push_back({file.size(), payload.size(), baskets[i].size(), dest});
    append(file, payload);
    append(file, random_bytes(33, 6 + i));
    dest += baskets[i].size();
  }
  const Bytes original = joined(baskets);
  auto input = InputBuffer::from_bytes(file);
  Executor executor(2);
  for (unsigned width : {1U, 4U}) {
    auto array = DestinationArray::allocate(original.size());
    executor.run(root_blocks_graph(input, table, array, width));
    Bytes expected = original;
    if (width == 4) byteswap_in_place(expected, 4);
    CHECK(std::equal(expected.begin(), expected.end(), array->data()));
  }
  require_error(ErrorCode::invalid_argument, [&] {
    (void)root_blocks_graph(input, table, DestinationArray::allocate(original.size()), 3);
  });
  // A damaged basket fails as its chunk.
  Bytes bad = file;
  bad[table[1].file_offset] = std::byte{'Q'};  // an unknown algorithm
  auto bad_input = InputBuffer::from_bytes(bad);
  try {
    executor.run(root_blocks_graph(bad_input, table, DestinationArray::allocate(original.size()), 1));
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.chunk() == 1);
  }
}
