// Frame scans: zstd (plain, pzstd, seekable) and lz4 frame files split into
// pieces, then each piece decoded into its own slice and compared.
#include <cstdlib>
#include <string>
#include <vector>

#include <xxhash.h>

#include "catch.hpp"
#include "decoflow/decoder.hpp"
#include "decoflow/frame_scan.hpp"
#include "test_support.hpp"

using namespace decoflow;
using namespace decoflow::test;

namespace {

void put_le32(Bytes& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::byte>(value >> (8 * i)));
}

/// A pzstd-style skippable frame: magic 0x184D2A50, 4 bytes of payload holding
/// the size of the frame that follows.
Bytes pzstd_header(std::size_t frame_size) {
  Bytes out;
  put_le32(out, 0x184D2A50U);
  put_le32(out, 4);
  put_le32(out, static_cast<std::uint32_t>(frame_size));
  return out;
}

/// Decodes every piece into the next part of one output, as the engine does:
/// straight into slices when the size is known, else into a max-size scratch.
Bytes decode_pieces(const FrameScan& scan, const Bytes& file) {
  Decoder decoder;
  Bytes out;
  for (const FramePiece& piece : scan.pieces) {
    const ConstBytes src = view(file).subspan(piece.offset, piece.size);
    GuardedBuffer dst(piece.decoded_size ? *piece.decoded_size : piece.max_decoded_size);
    const std::size_t written = decoder.decode_into(piece.codec, src, dst.span());
    REQUIRE(dst.guards_intact());
    if (piece.decoded_size) REQUIRE(written == *piece.decoded_size);
    REQUIRE(written <= piece.max_decoded_size);
    const Bytes part = dst.prefix(written);
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

/// Checks the lz4 content checksums a scan returned against the decoded pieces.
void check_content_checksums(const FrameScan& scan, const Bytes& file) {
  for (const auto& sum : scan.content_checksums) {
    FrameScan part;
    part.pieces.assign(scan.pieces.begin() + static_cast<std::ptrdiff_t>(sum.first_piece),
                       scan.pieces.begin() + static_cast<std::ptrdiff_t>(sum.end_piece));
    const Bytes decoded = decode_pieces(part, file);
    CHECK(XXH32(decoded.data(), decoded.size(), 0) == sum.xxh32);
  }
}

std::string scan_error(ErrorCode code, const Bytes& file, FrameScan (*scan)(ConstBytes)) {
  return require_error(code, [&] { scan(view(file)); });
}

}  // namespace

TEST_CASE("zstd scan: concatenated frames with content sizes", "[scan][zstd]") {
  const Bytes a = physics_bytes(100000, 1);
  const Bytes b = physics_bytes(1, 2);
  const Bytes c = random_bytes(300000, 3);
  const Bytes empty;
  const Bytes file = concat({view(zstd_compress(view(a))), view(zstd_compress(view(b), 19)),
                             view(zstd_compress(view(empty))), view(zstd_compress(view(c), 1, true))});
  for (auto scan_fn : {&scan_zstd_frames, &scan_frames}) {
    const FrameScan scan = scan_fn(view(file));
    REQUIRE(scan.pieces.size() == 4);
    REQUIRE(scan.sizes_known);
    CHECK(scan.pieces[0].offset == 0);
    CHECK(*scan.pieces[0].decoded_size == a.size());
    CHECK(*scan.pieces[1].decoded_size == 1);
    CHECK(*scan.pieces[2].decoded_size == 0);
    CHECK(*scan.pieces[3].decoded_size == c.size());
    CHECK(scan.pieces[3].offset + scan.pieces[3].size == file.size());
    for (const FramePiece& piece : scan.pieces) {
      CHECK(piece.codec == Codec::zstd);
      CHECK(piece.max_decoded_size == *piece.decoded_size);
    }
    CHECK(scan.content_checksums.empty());
    CHECK(decode_pieces(scan, file) == concat({view(a), view(b), view(c)}));
  }
}

TEST_CASE("zstd scan: pzstd layout built by hand", "[scan][zstd]") {
  std::vector<Bytes> parts = {physics_bytes(200000, 4), physics_bytes(150000, 5), random_bytes(1000, 6)};
  Bytes file;
  for (const Bytes& part : parts) {
    const Bytes frame = zstd_compress(view(part), 3, false, false);
    const Bytes header = pzstd_header(frame.size());
    file.insert(file.end(), header.begin(), header.end());
    file.insert(file.end(), frame.begin(), frame.end());
  }
  const FrameScan scan = scan_frames(view(file));
  REQUIRE(scan.pieces.size() == 3);
  CHECK_FALSE(scan.sizes_known);
  CHECK(scan.pieces[0].offset == 12);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK_FALSE(scan.pieces[i].decoded_size);
    CHECK(scan.pieces[i].max_decoded_size >= parts[i].size());
  }
  CHECK(decode_pieces(scan, file) == concat({view(parts[0]), view(parts[1]), view(parts[2])}));
}

TEST_CASE("zstd scan: a file written by pzstd", "[scan][zstd][tool]") {
  if (std::system("command -v pzstd > /dev/null 2>&1") != 0) {
    WARN("pzstd not installed: layout covered by the hand-built test only");
    return;
  }
  const Bytes data = physics_bytes(6 * 1024 * 1024, 12);
  const std::string in = write_temp_file(view(data), ".bin");
  const std::string out = in + ".zst";
  const std::string command = "pzstd -q -f -1 -p 2 '" + in + "' -o '" + out + "'";
  REQUIRE(std::system(command.c_str()) == 0);
  const Bytes file = read_file(out);
  remove_file(in);
  remove_file(out);
  const FrameScan scan = scan_frames(view(file));
  REQUIRE(!scan.pieces.empty());
  INFO("pzstd wrote " << scan.pieces.size() << " frames");
  CHECK(scan.pieces.size() > 1);  // pzstd -1 cuts its input every 2 MiB
  CHECK_FALSE(scan.sizes_known);   // and writes no content sizes
  CHECK(scan.pieces[0].offset == 12);  // after its skippable frame
  CHECK(decode_pieces(scan, file) == data);
}

TEST_CASE("zstd scan: seekable format", "[scan][zstd]") {
  std::vector<Bytes> parts = {physics_bytes(70000, 7), physics_bytes(70000, 8), physics_bytes(1234, 9)};
  for (bool checksums : {true, false}) {
    DYNAMIC_SECTION("checksums " << checksums) {
      Bytes file;
      Bytes table;
      for (const Bytes& part : parts) {
        const Bytes frame = zstd_compress(view(part), 3, false, false);
        file.insert(file.end(), frame.begin(), frame.end());
        put_le32(table, static_cast<std::uint32_t>(frame.size()));
        put_le32(table, static_cast<std::uint32_t>(part.size()));
        if (checksums) put_le32(table, static_cast<std::uint32_t>(XXH64(part.data(), part.size(), 0)));
      }
      put_le32(table, static_cast<std::uint32_t>(parts.size()));
      table.push_back(std::byte{static_cast<unsigned char>(checksums ? 0x80 : 0)});
      put_le32(table, 0x8F92EAB1U);
      Bytes with_table = file;
      put_le32(with_table, 0x184D2A5EU);
      put_le32(with_table, static_cast<std::uint32_t>(table.size()));
      with_table.insert(with_table.end(), table.begin(), table.end());

      const FrameScan plain = scan_zstd_frames(view(file));
      CHECK_FALSE(plain.sizes_known);

      const FrameScan scan = scan_zstd_frames(view(with_table));
      REQUIRE(scan.pieces.size() == 3);
      REQUIRE(scan.sizes_known);
      for (std::size_t i = 0; i < 3; ++i) CHECK(*scan.pieces[i].decoded_size == parts[i].size());
      CHECK(decode_pieces(scan, with_table) == concat({view(parts[0]), view(parts[1]), view(parts[2])}));

      // A seek table that disagrees with the frames is corrupt.
      Bytes bad = with_table;
      const std::size_t first_entry = file.size() + 8;
      bad[first_entry] ^= std::byte{0x01};  // compressed size of frame 0
      const std::string cause = scan_error(ErrorCode::corrupt_input, bad, &scan_zstd_frames);
      CHECK(cause.find("seek table") != std::string::npos);
      Bytes wrong_count = with_table;
      wrong_count[wrong_count.size() - 9] = std::byte{2};
      scan_error(ErrorCode::corrupt_input, wrong_count, &scan_zstd_frames);
    }
  }
}

TEST_CASE("zstd scan: bad files", "[scan][zstd][bad]") {
  const Bytes a = physics_bytes(100000, 10);
  const Bytes frame = zstd_compress(view(a));
  const Bytes file = concat({view(frame), view(frame)});

  SECTION("empty input") {
    const std::string cause = scan_error(ErrorCode::corrupt_input, {}, &scan_zstd_frames);
    CHECK(cause.find("empty") != std::string::npos);
    scan_error(ErrorCode::corrupt_input, {}, &scan_frames);
  }
  SECTION("truncated last frame names its offset") {
    const Bytes cut(file.begin(), file.end() - 10);
    const std::string cause = scan_error(ErrorCode::corrupt_input, cut, &scan_zstd_frames);
    CHECK(cause.find("truncated") != std::string::npos);
    CHECK(cause.find(std::to_string(frame.size())) != std::string::npos);
    scan_error(ErrorCode::corrupt_input, Bytes(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(frame.size()) + 2),
               &scan_zstd_frames);
  }
  SECTION("truncated skippable frame") {
    Bytes bad = concat({view(frame), view(pzstd_header(100))});
    bad.erase(bad.end() - 2, bad.end());  // not resize(): GCC 12 -Wstringop-overflow
    scan_error(ErrorCode::corrupt_input, bad, &scan_zstd_frames);
  }
  SECTION("garbage between frames") {
    Bytes bad = concat({view(frame), view(random_bytes(16, 1)), view(frame)});
    const std::string cause = scan_error(ErrorCode::corrupt_input, bad, &scan_zstd_frames);
    CHECK(cause.find(std::to_string(frame.size())) != std::string::npos);
  }
  SECTION("not a frame file at all") {
    scan_error(ErrorCode::unsupported_format, random_bytes(100, 2), &scan_frames);
  }
}

TEST_CASE("lz4 scan: independent blocks, every header option", "[scan][lz4]") {
  const Bytes data = physics_bytes(1000000, 20);
  struct Case {
    const char* name;
    Lz4FrameOptions options;
    bool sizes_known;
  };
  const Case cases[] = {
      {"plain 64K", {4, false, false, false, false}, false},
      {"content size 64K", {4, true, false, false, false}, true},
      {"checksums 256K", {5, false, true, true, false}, false},
      {"everything 1M", {6, true, true, true, false}, true},
      {"everything 4M", {7, true, true, true, false}, true},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.name) {
      const Bytes file = lz4_frame_compress(view(data), c.options);
      const FrameScan scan = scan_frames(view(file));
      // LZ4F shrinks the block size to fit small inputs: read it from the BD byte.
      const std::size_t block_max = std::size_t{1} << (8 + 2 * ((static_cast<unsigned>(file[5]) >> 4) & 7U));
      CHECK(block_max <= std::size_t{1} << (8 + 2 * c.options.block_size_id));
      CHECK(scan.pieces.size() == (data.size() + block_max - 1) / block_max);
      CHECK(scan.sizes_known == c.sizes_known);
      for (const FramePiece& piece : scan.pieces) {
        CHECK(piece.codec == Codec::lz4_block);
        CHECK(piece.max_decoded_size == block_max);
      }
      CHECK(scan.content_checksums.size() == (c.options.content_checksum ? 1U : 0U));
      CHECK(decode_pieces(scan, file) == data);
      check_content_checksums(scan, file);
    }
  }
}

TEST_CASE("lz4 scan: stored blocks, several frames, skippable frames", "[scan][lz4]") {
  const Bytes noise = random_bytes(150000, 21);  // incompressible: stored blocks
  const Bytes physics = physics_bytes(100000, 22);
  const Bytes empty;
  Bytes skippable;
  put_le32(skippable, 0x184D2A5AU);
  put_le32(skippable, 3);
  skippable.resize(skippable.size() + 3, std::byte{9});
  const Bytes file = concat({view(lz4_frame_compress(view(noise), {4, true, true, true, false})),
                             view(skippable),
                             view(lz4_frame_compress(view(empty), {4, true, false, true, false})),
                             view(lz4_frame_compress(view(physics), {4, false, false, true, false}))});
  const FrameScan scan = scan_lz4_frames(view(file));
  REQUIRE(scan.pieces.size() == 3 + 2);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(scan.pieces[i].codec == Codec::raw);
    CHECK(scan.pieces[i].decoded_size == scan.pieces[i].size);
  }
  CHECK_FALSE(scan.sizes_known);  // the last frame has no content size
  REQUIRE(scan.content_checksums.size() == 3);
  CHECK(scan.content_checksums[1].first_piece == scan.content_checksums[1].end_piece);
  CHECK(decode_pieces(scan, file) == concat({view(noise), view(physics)}));
  check_content_checksums(scan, file);
}

TEST_CASE("lz4 scan: bad files", "[scan][lz4][bad]") {
  const Bytes data = physics_bytes(300000, 23);
  const Bytes file = lz4_frame_compress(view(data), {4, true, true, true, false});

  SECTION("linked blocks are rejected") {
    const Bytes linked = lz4_frame_compress(view(data), {4, false, false, false, true});
    const std::string cause = scan_error(ErrorCode::unsupported_format, linked, &scan_frames);
    CHECK(cause.find("linked") != std::string::npos);
  }
  SECTION("empty input") { scan_error(ErrorCode::corrupt_input, {}, &scan_lz4_frames); }
  SECTION("truncated anywhere") {
    for (std::size_t keep : {std::size_t{3}, std::size_t{6}, std::size_t{12}, std::size_t{100},
                             file.size() / 2, file.size() - 1, file.size() - 4}) {
      INFO("kept " << keep);
      const std::string cause =
          scan_error(ErrorCode::corrupt_input, Bytes(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(keep)),
                     &scan_lz4_frames);
      CHECK(cause.find("truncated") != std::string::npos);
    }
  }
  SECTION("header checksum") {
    Bytes bad = file;
    bad[4 + 2 + 8] ^= std::byte{0x01};  // the HC byte after FLG, BD, content size
    scan_error(ErrorCode::checksum_mismatch, bad, &scan_lz4_frames);
  }
  SECTION("block checksum") {
    Bytes bad = file;
    bad[file.size() / 2] ^= std::byte{0x08};
    scan_error(ErrorCode::checksum_mismatch, bad, &scan_lz4_frames);
  }
  SECTION("block larger than the block maximum") {
    Bytes bad = file;
    const std::size_t first_block = 4 + 2 + 8 + 1;
    bad[first_block + 2] = std::byte{0x10};  // size word ~1 MiB in a 64 KiB frame
    scan_error(ErrorCode::corrupt_input, bad, &scan_lz4_frames);
  }
  SECTION("legacy format") {
    Bytes legacy;
    put_le32(legacy, 0x184C2102U);
    put_le32(legacy, 0);
    scan_error(ErrorCode::unsupported_format, legacy, &scan_frames);
  }
  SECTION("garbage after a frame") {
    Bytes bad = concat({view(file), view(random_bytes(10, 1))});
    const std::string cause = scan_error(ErrorCode::corrupt_input, bad, &scan_lz4_frames);
    CHECK(cause.find(std::to_string(file.size())) != std::string::npos);
  }
}
