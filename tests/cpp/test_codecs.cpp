// Codecs: round trips and bad inputs for raw, zstd, lz4 blocks and lz4 frames.
// Every decode runs into a GuardedBuffer, and the guards are checked after it,
// whether it succeeded or threw.
#include <cstring>
#include <string>
#include <vector>

#include <zstd.h>

#include "catch.hpp"
#include "decoflow/codec.hpp"
#include "decoflow/decoder.hpp"
#include "test_support.hpp"

using namespace decoflow;
using namespace decoflow::test;

namespace {

const std::vector<std::size_t> sizes = {0, 1, 1000, 256 * 1024, 3 * 1024 * 1024};

/// Decodes into a guarded destination of `dst_size`, checks the guards and that
/// the output equals `expected` (and that exactly that many bytes were written).
void check_round_trip(Decoder& decoder, Codec codec, const Bytes& compressed, const Bytes& expected,
                      std::size_t dst_size) {
  GuardedBuffer dst(dst_size);
  const std::size_t written = decoder.decode_into(codec, view(compressed), dst.span());
  REQUIRE(dst.guards_intact());
  REQUIRE(written == expected.size());
  REQUIRE(dst.prefix(written) == expected);
  // Bytes past the output stay untouched, except for zstd, which may use the
  // unused tail of dst as scratch for literals (still inside dst: allowed).
  if (codec != Codec::zstd) {
    for (std::size_t i = written; i < dst.size(); ++i) REQUIRE(dst.view()[i] == GuardedBuffer::poison);
  }
}

/// A decode that must fail with `code`; the guards must hold all the same.
std::string check_error(Decoder& decoder, Codec codec, const Bytes& src, std::size_t dst_size,
                        ErrorCode code) {
  GuardedBuffer dst(dst_size);
  std::string cause =
      require_error(code, [&] { decoder.decode_into(codec, view(src), dst.span()); });
  REQUIRE(dst.guards_intact());
  return cause;
}

Bytes data_for(std::size_t size, bool physics) {
  return physics ? physics_bytes(size, 7 + size) : random_bytes(size, 11 + size);
}

}  // namespace

TEST_CASE("codec names round-trip and accept aliases", "[codecs]") {
  for (Codec codec : {Codec::raw, Codec::zstd, Codec::lz4_block, Codec::lz4_frame, Codec::root_blocks}) {
    REQUIRE(codec_from_string(to_string(codec)) == codec);
  }
  CHECK(to_string(Codec::root_blocks) == "root_blocks");
  CHECK(codec_from_string("root") == Codec::root_blocks);
  CHECK(codec_from_string("lz4") == Codec::lz4_frame);
  CHECK(codec_from_string("gzip") == std::nullopt);
  CHECK(codec_from_string("") == std::nullopt);
}

TEST_CASE("raw copies and refuses input larger than the destination", "[codecs][raw]") {
  Decoder decoder;
  const Bytes data = physics_bytes(1000);
  check_round_trip(decoder, Codec::raw, data, data, 1000);
  check_round_trip(decoder, Codec::raw, data, data, 1200);  // returns 1000: the caller compares
  check_round_trip(decoder, Codec::raw, Bytes{}, Bytes{}, 0);
  const std::string cause = check_error(decoder, Codec::raw, data, 999, ErrorCode::size_mismatch);
  CHECK(cause.find("1000") != std::string::npos);
  check_error(decoder, Codec::raw, data, 0, ErrorCode::size_mismatch);
}

TEST_CASE("zstd round trips", "[codecs][zstd]") {
  Decoder decoder;
  for (bool physics : {true, false}) {
    for (std::size_t size : sizes) {
      DYNAMIC_SECTION((physics ? "physics " : "random ") << size << " bytes") {
        const Bytes data = data_for(size, physics);
        check_round_trip(decoder, Codec::zstd, zstd_compress(view(data), 3), data, size);
        check_round_trip(decoder, Codec::zstd, zstd_compress(view(data), 1, true, false), data, size);
        // A frame without content size into a larger destination: returns the size.
        check_round_trip(decoder, Codec::zstd, zstd_compress(view(data), 1, false, false), data, size + 100);
      }
    }
  }
}

TEST_CASE("zstd decodes several frames and skips skippable frames", "[codecs][zstd]") {
  Decoder decoder;
  const Bytes a = physics_bytes(5000, 1);
  const Bytes b = physics_bytes(70000, 2);
  const Bytes skippable = {std::byte{0x53}, std::byte{0x2A}, std::byte{0x4D}, std::byte{0x18},
                           std::byte{3}, std::byte{0}, std::byte{0}, std::byte{0},
                           std::byte{1}, std::byte{2}, std::byte{3}};
  const Bytes za = zstd_compress(view(a));
  const Bytes zb = zstd_compress(view(b), 5, true, false);
  const Bytes file = concat({view(skippable), view(za), view(skippable), view(zb)});
  check_round_trip(decoder, Codec::zstd, file, concat({view(a), view(b)}), a.size() + b.size());
}

TEST_CASE("zstd rejects bad input with precise codes", "[codecs][zstd][bad]") {
  Decoder decoder;
  const Bytes data = physics_bytes(100000, 3);
  const Bytes frame = zstd_compress(view(data), 3, true);

  SECTION("empty input") {
    const std::string cause = check_error(decoder, Codec::zstd, {}, 100, ErrorCode::corrupt_input);
    CHECK(cause.find("empty") != std::string::npos);
  }
  SECTION("truncated frame") {
    for (std::size_t keep : {std::size_t{3}, std::size_t{10}, frame.size() / 2, frame.size() - 1}) {
      const Bytes cut(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(keep));
      check_error(decoder, Codec::zstd, cut, data.size(), ErrorCode::corrupt_input);
    }
  }
  SECTION("flipped payload byte, caught by the content checksum at the latest") {
    Bytes bad = frame;
    bad[bad.size() / 2] ^= std::byte{0x40};
    // A roomier destination keeps the error on the data, not on its size.
    check_error(decoder, Codec::zstd, bad, data.size() + 4096, ErrorCode::corrupt_input);
    // Random data ends up in raw blocks: only the checksum can see this flip.
    const Bytes noise = random_bytes(50000, 9);
    Bytes bad_raw = zstd_compress(view(noise), 3, true);
    bad_raw[bad_raw.size() / 2] ^= std::byte{0x01};
    check_error(decoder, Codec::zstd, bad_raw, noise.size(), ErrorCode::corrupt_input);
  }
  SECTION("declared content size larger than the destination is refused up front") {
    const std::string cause = check_error(decoder, Codec::zstd, frame, data.size() - 1, ErrorCode::size_mismatch);
    CHECK(cause.find(std::to_string(data.size())) != std::string::npos);
  }
  SECTION("content larger than the destination without a declared size") {
    const Bytes unsized = zstd_compress(view(data), 3, false, false);
    check_error(decoder, Codec::zstd, unsized, data.size() - 1, ErrorCode::size_mismatch);
    check_error(decoder, Codec::zstd, unsized, 0, ErrorCode::size_mismatch);
  }
  SECTION("a wrong declared content size is caught") {
    // 1000 bytes: the header stores size - 256 in 2 bytes right after the descriptor.
    const Bytes small = physics_bytes(1000, 4);
    Bytes bad = zstd_compress(view(small), 3);
    REQUIRE(ZSTD_getFrameContentSize(bad.data(), bad.size()) == 1000);
    const auto fhd = static_cast<unsigned>(bad[4]);
    const std::size_t fcs_at = 5 + ((fhd & 0x20U) ? 0 : 1) + (fhd & 3U ? 1U << ((fhd & 3U) - 1) : 0U);
    bad[fcs_at] = static_cast<std::byte>(static_cast<unsigned>(bad[fcs_at]) + 1);
    REQUIRE(ZSTD_getFrameContentSize(bad.data(), bad.size()) == 1001);
    check_error(decoder, Codec::zstd, bad, 2000, ErrorCode::corrupt_input);
  }
  SECTION("trailing garbage") {
    Bytes bad = frame;
    for (int i = 0; i < 7; ++i) bad.push_back(std::byte{0x5A});
    check_error(decoder, Codec::zstd, bad, data.size() + 100, ErrorCode::corrupt_input);
  }
  SECTION("zero-size destination with non-empty content") {
    check_error(decoder, Codec::zstd, frame, 0, ErrorCode::size_mismatch);
  }
  SECTION("an empty frame into an empty destination is fine") {
    check_round_trip(decoder, Codec::zstd, zstd_compress({}), {}, 0);
  }
  SECTION("the decoder works again after an error") {
    check_error(decoder, Codec::zstd, Bytes(frame.begin(), frame.begin() + 100), data.size(),
                ErrorCode::corrupt_input);
    check_round_trip(decoder, Codec::zstd, frame, data, data.size());
  }
}

TEST_CASE("lz4 block round trips", "[codecs][lz4]") {
  Decoder decoder;
  for (bool physics : {true, false}) {
    for (std::size_t size : sizes) {
      DYNAMIC_SECTION((physics ? "physics " : "random ") << size << " bytes") {
        const Bytes data = data_for(size, physics);
        const Bytes block = lz4_block_compress(view(data));
        check_round_trip(decoder, Codec::lz4_block, block, data, size);
        check_round_trip(decoder, Codec::lz4_block, block, data, size + 33);
      }
    }
  }
}

TEST_CASE("lz4 block rejects bad input", "[codecs][lz4][bad]") {
  Decoder decoder;
  const Bytes data = physics_bytes(100000, 5);
  const Bytes block = lz4_block_compress(view(data));
  SECTION("empty input") { check_error(decoder, Codec::lz4_block, {}, 10, ErrorCode::corrupt_input); }
  SECTION("truncated") {
    check_error(decoder, Codec::lz4_block, Bytes(block.begin(), block.end() - 1), data.size(),
                ErrorCode::corrupt_input);
    check_error(decoder, Codec::lz4_block, Bytes(block.begin(), block.begin() + 1000), data.size(),
                ErrorCode::corrupt_input);
  }
  SECTION("destination smaller than the content") {
    const std::string cause =
        check_error(decoder, Codec::lz4_block, block, data.size() - 1, ErrorCode::corrupt_input);
    CHECK(cause.find("destination") != std::string::npos);
    check_error(decoder, Codec::lz4_block, block, 0, ErrorCode::corrupt_input);
  }
  SECTION("garbage") {
    Bytes bad(200, std::byte{0xFF});
    check_error(decoder, Codec::lz4_block, bad, 100000, ErrorCode::corrupt_input);
  }
  SECTION("the decoder works again after an error") {
    check_error(decoder, Codec::lz4_block, Bytes(block.begin(), block.end() - 3), data.size(),
                ErrorCode::corrupt_input);
    check_round_trip(decoder, Codec::lz4_block, block, data, data.size());
  }
}

TEST_CASE("lz4 frame round trips", "[codecs][lz4]") {
  Decoder decoder;
  for (bool physics : {true, false}) {
    for (std::size_t size : sizes) {
      DYNAMIC_SECTION((physics ? "physics " : "random ") << size << " bytes") {
        const Bytes data = data_for(size, physics);
        Lz4FrameOptions plain;
        Lz4FrameOptions full{5, true, true, true, false};
        Lz4FrameOptions linked{4, false, false, true, true};
        for (const Lz4FrameOptions& options : {plain, full, linked}) {
          const Bytes frame = lz4_frame_compress(view(data), options);
          check_round_trip(decoder, Codec::lz4_frame, frame, data, size);
          check_round_trip(decoder, Codec::lz4_frame, frame, data, size + 1000);
        }
      }
    }
  }
}

TEST_CASE("lz4 frame decodes concatenated frames", "[codecs][lz4]") {
  Decoder decoder;
  const Bytes a = physics_bytes(300000, 1);
  const Bytes b = random_bytes(1000, 2);
  const Bytes file = concat({view(lz4_frame_compress(view(a), {4, true, true, true, false})),
                             view(lz4_frame_compress(view(b)))});
  check_round_trip(decoder, Codec::lz4_frame, file, concat({view(a), view(b)}), a.size() + b.size());
}

TEST_CASE("lz4 frame rejects bad input", "[codecs][lz4][bad]") {
  Decoder decoder;
  const Bytes data = physics_bytes(300000, 6);
  const Bytes frame = lz4_frame_compress(view(data), {4, true, true, true, false});

  SECTION("empty input") { check_error(decoder, Codec::lz4_frame, {}, 10, ErrorCode::corrupt_input); }
  SECTION("truncated anywhere") {
    for (std::size_t drop : {std::size_t{1}, std::size_t{4}, std::size_t{8}, frame.size() / 2,
                             frame.size() - 5}) {
      const Bytes cut(frame.begin(), frame.end() - static_cast<std::ptrdiff_t>(drop));
      const std::string cause = check_error(decoder, Codec::lz4_frame, cut, data.size(), ErrorCode::corrupt_input);
      CHECK(cause.find("truncated") != std::string::npos);
    }
  }
  SECTION("block checksum mismatch") {
    Bytes bad = frame;
    bad[frame.size() / 2] ^= std::byte{0x10};
    check_error(decoder, Codec::lz4_frame, bad, data.size(), ErrorCode::checksum_mismatch);
  }
  SECTION("content checksum mismatch") {
    Bytes bad = frame;
    bad[bad.size() - 1] ^= std::byte{0x01};
    check_error(decoder, Codec::lz4_frame, bad, data.size(), ErrorCode::checksum_mismatch);
  }
  SECTION("content larger than the destination") {
    check_error(decoder, Codec::lz4_frame, frame, data.size() - 1, ErrorCode::size_mismatch);
    check_error(decoder, Codec::lz4_frame, frame, 70000, ErrorCode::size_mismatch);
    const Bytes unsized = lz4_frame_compress(view(data));
    check_error(decoder, Codec::lz4_frame, unsized, data.size() - 1, ErrorCode::size_mismatch);
    check_error(decoder, Codec::lz4_frame, unsized, 0, ErrorCode::size_mismatch);
  }
  SECTION("trailing garbage") {
    Bytes bad = frame;
    for (int i = 0; i < 6; ++i) bad.push_back(std::byte{0x77});
    check_error(decoder, Codec::lz4_frame, bad, data.size() + 100, ErrorCode::corrupt_input);
  }
  SECTION("not a frame") {
    check_error(decoder, Codec::lz4_frame, random_bytes(100, 3), 1000, ErrorCode::corrupt_input);
  }
  SECTION("the decoder works again after an error") {
    check_error(decoder, Codec::lz4_frame, Bytes(frame.begin(), frame.begin() + 5000), data.size(),
                ErrorCode::corrupt_input);
    check_round_trip(decoder, Codec::lz4_frame, frame, data, data.size());
    Bytes bad = frame;
    bad[frame.size() / 3] ^= std::byte{0x10};
    check_error(decoder, Codec::lz4_frame, bad, data.size(), ErrorCode::checksum_mismatch);
    check_round_trip(decoder, Codec::lz4_frame, frame, data, data.size());
  }
}

TEST_CASE("one decoder serves every codec in turn, and survives moves", "[codecs]") {
  Decoder decoder;
  const Bytes data = physics_bytes(20000, 8);
  const Bytes z = zstd_compress(view(data));
  const Bytes b = lz4_block_compress(view(data));
  const Bytes f = lz4_frame_compress(view(data));
  for (int round = 0; round < 3; ++round) {
    check_round_trip(decoder, Codec::zstd, z, data, data.size());
    check_error(decoder, Codec::zstd, b, data.size(), ErrorCode::corrupt_input);
    check_round_trip(decoder, Codec::lz4_block, b, data, data.size());
    check_round_trip(decoder, Codec::lz4_frame, f, data, data.size());
    check_error(decoder, Codec::lz4_frame, z, data.size(), ErrorCode::corrupt_input);
  }
  Decoder moved = std::move(decoder);
  check_round_trip(moved, Codec::zstd, z, data, data.size());
  Decoder fresh;
  fresh = std::move(moved);
  check_round_trip(fresh, Codec::lz4_frame, f, data, data.size());
}
