// ROOT compressed blocks: every algorithm, multi-block baskets, raw baskets, and
// the malformed headers real decoders meet. Guards checked after every decode.
#include <string>
#include <vector>

#include <xxhash.h>

#include "catch.hpp"
#include "decoflow/decoder.hpp"
#include "test_support.hpp"

using namespace decoflow;
using namespace decoflow::test;

namespace {

void check_round_trip(Decoder& decoder, const Bytes& src, const Bytes& expected) {
  GuardedBuffer dst(expected.size());
  const std::size_t written = decoder.root_blocks_into(view(src), dst.span());
  REQUIRE(dst.guards_intact());
  REQUIRE(written == expected.size());
  REQUIRE(dst.prefix(written) == expected);
}

std::string check_error(Decoder& decoder, const Bytes& src, std::size_t dst_size, ErrorCode code) {
  GuardedBuffer dst(dst_size);
  std::string cause = require_error(code, [&] { decoder.root_blocks_into(view(src), dst.span()); });
  REQUIRE(dst.guards_intact());
  return cause;
}

/// Sets the 24-bit little-endian field at `at` (3: compressed, 6: uncompressed).
void set_le24(Bytes& bytes, std::size_t at, std::size_t value) {
  for (std::size_t i = 0; i < 3; ++i) bytes[at + i] = static_cast<std::byte>(value >> (8 * i));
}

const char* const algorithms[] = {"ZS", "L4", "ZL", "XZ"};

}  // namespace

TEST_CASE("root blocks round trip for every algorithm and size", "[root]") {
  Decoder decoder;
  for (const char* algo : algorithms) {
    for (std::size_t size : {std::size_t{1}, std::size_t{1000}, std::size_t{256 * 1024},
                             std::size_t{3 * 1024 * 1024}}) {
      DYNAMIC_SECTION(algo << " physics " << size << " bytes") {
        const Bytes data = physics_bytes(size, size + 1);
        const Bytes src = root_blocks(view(data), algo);
        REQUIRE(src.size() != data.size());
        check_round_trip(decoder, src, data);
      }
      DYNAMIC_SECTION(algo << " random " << size << " bytes") {
        // Incompressible: the blocks come out larger than the payload, still valid.
        const Bytes data = random_bytes(size, size + 2);
        const Bytes src = root_blocks(view(data), algo);
        REQUIRE(src.size() != data.size());
        check_round_trip(decoder, src, data);
      }
    }
  }
}

TEST_CASE("root blocks: payloads over 16 MiB span several blocks", "[root][large]") {
  Decoder decoder;
  const Bytes data = physics_bytes(0xFFFFFF + 1234567, 99);
  for (const char* algo : algorithms) {
    DYNAMIC_SECTION(algo) {
      const Bytes src = root_blocks(view(data), algo);
      // Two headers: the second block starts right after the first.
      const std::size_t first = 9 + (static_cast<std::size_t>(src[3]) | static_cast<std::size_t>(src[4]) << 8 |
                                     static_cast<std::size_t>(src[5]) << 16);
      REQUIRE(src[first] == src[0]);
      check_round_trip(decoder, src, data);
      // One byte short in the destination: the second block's header says so.
      const std::string cause = check_error(decoder, src, data.size() - 1, ErrorCode::size_mismatch);
      CHECK(cause.find("root block 1") != std::string::npos);
    }
  }
}

TEST_CASE("root blocks: a basket of the same size is stored raw", "[root]") {
  Decoder decoder;
  const Bytes data = random_bytes(5000, 3);
  check_round_trip(decoder, data, data);
  check_round_trip(decoder, Bytes{}, Bytes{});
  // Looks like a header, but sizes equal: still a raw copy.
  Bytes header_like = root_blocks(view(physics_bytes(100, 1)), "ZS");
  check_round_trip(decoder, header_like, header_like);
}

TEST_CASE("root blocks: mixed algorithms in one basket", "[root]") {
  Decoder decoder;
  const Bytes a = physics_bytes(40000, 1);
  const Bytes b = physics_bytes(30000, 2);
  const Bytes c = physics_bytes(20000, 3);
  const Bytes d = physics_bytes(10000, 4);
  const Bytes src = concat({view(root_blocks(view(a), "ZS")), view(root_blocks(view(b), "L4")),
                            view(root_blocks(view(c), "ZL")), view(root_blocks(view(d), "XZ"))});
  check_round_trip(decoder, src, concat({view(a), view(b), view(c), view(d)}));
}

TEST_CASE("root blocks reject bad input", "[root][bad]") {
  Decoder decoder;
  const Bytes data = physics_bytes(50000, 5);

  SECTION("empty input with a non-empty destination") {
    check_error(decoder, {}, 100, ErrorCode::corrupt_input);
  }
  SECTION("header shorter than 9 bytes") {
    const Bytes src = root_blocks(view(data), "ZS");
    check_error(decoder, Bytes(src.begin(), src.begin() + 5), data.size(), ErrorCode::corrupt_input);
  }
  SECTION("header claiming 16 MiB for a 10-byte input") {
    // (A 10-byte basket that says it holds 100 bytes: not raw, so the header counts.)
    Bytes src = root_block_header("ZS", 1, 1, 0xFFFFFF);
    src.push_back(std::byte{0x28});
    REQUIRE(src.size() == 10);
    const std::string cause = check_error(decoder, src, 100, ErrorCode::size_mismatch);
    CHECK(cause.find("16777215") != std::string::npos);
    CHECK(cause.find("100 left") != std::string::npos);
    // Compressed size beyond the input: truncated.
    Bytes src2 = root_block_header("ZS", 1, 0xFFFFFF, 5);
    src2.push_back(std::byte{0x28});
    const std::string cause2 = check_error(decoder, src2, 5, ErrorCode::corrupt_input);
    CHECK(cause2.find("truncated") != std::string::npos);
  }
  SECTION("truncated block, each algorithm") {
    for (const char* algo : algorithms) {
      const Bytes src = root_blocks(view(data), algo);
      check_error(decoder, Bytes(src.begin(), src.end() - 1), data.size(), ErrorCode::corrupt_input);
    }
  }
  SECTION("stream cut short inside a block whose header agrees") {
    for (const char* algo : {"ZS", "ZL", "XZ"}) {
      INFO(algo);
      for (std::size_t drop : {std::size_t{1}, std::size_t{4}, std::size_t{100}}) {
        Bytes src = root_blocks(view(data), algo);
        src.resize(src.size() - drop);
        set_le24(src, 3, src.size() - 9);
        check_error(decoder, src, data.size(), ErrorCode::corrupt_input);
      }
    }
    // L4: the checksum covers the cut block, so recompute it to reach lz4 itself.
    Bytes l4 = root_blocks(view(data), "L4");
    l4.resize(l4.size() - 2);
    set_le24(l4, 3, l4.size() - 9);
    const std::uint64_t sum = XXH64(l4.data() + 17, l4.size() - 17, 0);
    for (std::size_t i = 0; i < 8; ++i) l4[9 + i] = static_cast<std::byte>(sum >> (56 - 8 * i));
    check_error(decoder, l4, data.size(), ErrorCode::corrupt_input);
  }
  SECTION("L4 checksum mismatch") {
    Bytes src = root_blocks(view(data), "L4");
    src[src.size() / 2] ^= std::byte{0x01};
    check_error(decoder, src, data.size(), ErrorCode::checksum_mismatch);
    Bytes src2 = root_blocks(view(data), "L4");
    src2[9] ^= std::byte{0x80};  // the stored checksum itself
    check_error(decoder, src2, data.size(), ErrorCode::checksum_mismatch);
    // A caller that verified a checksum over the whole input (an RNTuple
    // page's xxHash3) skips the blocks' own: the payload decodes as it is.
    Bytes out(data.size(), std::byte{0xAB});
    CHECK(decoder.root_blocks_into(view(src2), MutableBytes(out), BlockChecksums::covered) ==
          data.size());
    CHECK(out == data);
  }
  SECTION("corrupt payloads") {
    Bytes zs = root_blocks(view(data), "ZS");
    zs[9] ^= std::byte{0xFF};  // zstd magic
    check_error(decoder, zs, data.size(), ErrorCode::corrupt_input);
    Bytes zl = root_blocks(view(data), "ZL");
    zl[9] = std::byte{0x00};  // zlib header
    check_error(decoder, zl, data.size(), ErrorCode::corrupt_input);
    Bytes xz = root_blocks(view(data), "XZ");
    xz[xz.size() / 2] ^= std::byte{0x20};
    check_error(decoder, xz, data.size(), ErrorCode::corrupt_input);
  }
  SECTION("unknown algorithm tags") {
    Bytes src = root_blocks(view(data), "ZS");
    src[0] = std::byte{'Q'};
    src[1] = std::byte{'Q'};
    std::string cause = check_error(decoder, src, data.size(), ErrorCode::unsupported_format);
    CHECK(cause.find("\"QQ\"") != std::string::npos);
    src[0] = std::byte{0x01};
    src[1] = std::byte{0xFE};
    cause = check_error(decoder, src, data.size(), ErrorCode::unsupported_format);
    CHECK(cause.find("0x01 0xfe") != std::string::npos);
  }
  SECTION("old ROOT CS blocks") {
    Bytes src = root_block_header("CS", 8, 20, 100);
    src.resize(src.size() + 20, std::byte{0x11});
    const std::string cause = check_error(decoder, src, 100, ErrorCode::unsupported_format);
    CHECK(cause.find("CS") != std::string::npos);
  }
  SECTION("wrong declared uncompressed sizes, each algorithm") {
    for (const char* algo : algorithms) {
      INFO(algo);
      Bytes larger = root_blocks(view(data), algo);
      set_le24(larger, 6, data.size() + 1);
      check_error(decoder, larger, data.size() + 1, ErrorCode::size_mismatch);
      Bytes smaller = root_blocks(view(data), algo);
      set_le24(smaller, 6, data.size() - 1);
      // lz4 cannot tell "too small a destination" from corrupt data.
      check_error(decoder, smaller, data.size() - 1,
                  std::string(algo) == "L4" ? ErrorCode::corrupt_input : ErrorCode::size_mismatch);
    }
  }
  SECTION("destination smaller or larger than the content") {
    const Bytes src = root_blocks(view(data), "ZS");
    check_error(decoder, src, data.size() - 1, ErrorCode::size_mismatch);
    const std::string cause = check_error(decoder, src, data.size() + 1, ErrorCode::size_mismatch);
    CHECK(cause.find("decoded 50000") != std::string::npos);
    check_error(decoder, src, 0, ErrorCode::size_mismatch);
  }
  SECTION("trailing garbage after the last block") {
    Bytes src = root_blocks(view(data), "ZL");
    src.push_back(std::byte{0});
    src.push_back(std::byte{0});
    const std::string cause = check_error(decoder, src, data.size(), ErrorCode::corrupt_input);
    CHECK(cause.find("trailing") != std::string::npos);
  }
  SECTION("extra bytes inside a block after its stream") {
    for (const char* algo : {"ZS", "ZL", "XZ"}) {
      INFO(algo);
      Bytes src = root_blocks(view(data), algo);
      src.push_back(std::byte{0});
      set_le24(src, 3, src.size() - 9);
      check_error(decoder, src, data.size(), ErrorCode::corrupt_input);
    }
  }
  SECTION("the decoder works again after each error") {
    for (const char* algo : algorithms) {
      const Bytes good = root_blocks(view(data), algo);
      check_error(decoder, Bytes(good.begin(), good.end() - 3), data.size(), ErrorCode::corrupt_input);
      check_round_trip(decoder, good, data);
    }
  }
}
