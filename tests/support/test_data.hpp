// test_data.hpp: deterministic test data and the compressors that produce
// every input format decoflow reads (zstd, lz4 block and frame, zlib, xz,
// ROOT blocks). No test framework here: the Catch2 tests (test_support.hpp)
// and the fuzz seed generator both use it. Failures throw std::runtime_error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "decoflow/bytes.hpp"

namespace decoflow::test {

using Bytes = std::vector<std::byte>;

/// Bytes as a read-only span (spans from temporaries are a classic bug: keep the vector).
inline ConstBytes view(const Bytes& bytes) { return {bytes.data(), bytes.size()}; }

/// `n` incompressible bytes, the same for the same seed on every platform.
Bytes random_bytes(std::size_t n, std::uint64_t seed = 1);
/// `n` bytes shaped like ROOT basket payloads: big-endian float32 momenta
/// (rounded, Gaussian), small int32 multiplicities and rising int32 offsets, in
/// runs. Compresses 2-4x, like real baskets. Deterministic for a seed.
Bytes physics_bytes(std::size_t n, std::uint64_t seed = 1);
/// Concatenates byte vectors.
Bytes concat(std::initializer_list<ConstBytes> parts);

/// One zstd frame. `checksum` adds the XXH64 content checksum; `content_size`
/// false leaves the content size out of the header (as pzstd and streams do).
Bytes zstd_compress(ConstBytes data, int level = 3, bool checksum = false,
                    bool content_size = true);
/// One raw lz4 block (LZ4_compress_default).
Bytes lz4_block_compress(ConstBytes data);

struct Lz4FrameOptions {
  unsigned block_size_id = 4;  ///< 4: 64 KiB, 5: 256 KiB, 6: 1 MiB, 7: 4 MiB
  bool content_size = false;
  bool block_checksum = false;
  bool content_checksum = false;
  bool linked = false;  ///< linked blocks (decodable by LZ4F, rejected by the scan)
};
/// One lz4 frame written by LZ4F_compressFrame.
Bytes lz4_frame_compress(ConstBytes data, const Lz4FrameOptions& options = {});

/// One zlib stream (libdeflate). / One xz stream, CRC32 check (as ROOT writes).
Bytes zlib_compress(ConstBytes data, int level = 6);
Bytes xz_compress(ConstBytes data, std::uint32_t preset = 1);

/// A 9-byte ROOT block header (sizes must fit 24 bits).
Bytes root_block_header(std::string_view algo, std::uint8_t method, std::size_t compressed,
                        std::size_t uncompressed);
/// A ROOT basket payload compressed as ROOT and uproot write it: `algo` is "ZS",
/// "L4", "ZL" or "XZ"; payloads over 0xFFFFFF bytes become several blocks. An
/// empty payload gives an empty result (stored raw). Does not apply ROOT's
/// "store raw when it does not shrink" rule: callers choose compressible data.
Bytes root_blocks(ConstBytes payload, std::string_view algo, int level = 1);

}  // namespace decoflow::test
