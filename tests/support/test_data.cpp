// Deterministic data and the reference compressors (see test_data.hpp).
#include "test_data.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include <libdeflate.h>
#include <lz4.h>
#include <lz4frame.h>
#include <lzma.h>
#include <xxhash.h>
#include <zstd.h>

#include "splitmix64.hpp"

namespace decoflow::test {

namespace {

// One Gaussian per pair of uniforms (Box-Muller; the second is not worth the state).
struct Rng : samples::SplitMix64 {
  double gaussian() {
    const double u = uniform();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * uniform());
  }
};

void put_be32(Bytes& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::byte>(value >> shift));
}

[[noreturn]] void fail_helper(const std::string& what) { throw std::runtime_error(what); }

}  // namespace

Bytes random_bytes(std::size_t n, std::uint64_t seed) {
  Rng rng{{seed}};
  Bytes out(n);
  for (std::size_t i = 0; i < n; i += 8) {
    const std::uint64_t word = rng.next();
    for (std::size_t k = 0; k < 8 && i + k < n; ++k) out[i + k] = static_cast<std::byte>(word >> (8 * k));
  }
  return out;
}

Bytes physics_bytes(std::size_t n, std::uint64_t seed) {
  Rng rng{{seed}};
  Bytes out;
  out.reserve(n + 4096);
  std::uint32_t offset = 0;
  while (out.size() < n) {
    const std::uint64_t kind = rng.next() % 3;
    const std::size_t run = 64 + rng.next() % 512;  // values per run, like one basket's branch
    for (std::size_t i = 0; i < run; ++i) {
      std::uint32_t word = 0;
      if (kind == 0) {  // momentum in GeV, kept to 1/256 precision as detectors do
        const float value = static_cast<float>(std::round((30.0 + 12.0 * rng.gaussian()) * 256.0) / 256.0);
        std::memcpy(&word, &value, sizeof word);
      } else if (kind == 1) {  // multiplicity
        word = static_cast<std::uint32_t>(rng.next() % 3 + (rng.next() % 8 == 0 ? rng.next() % 6 : 0));
      } else {  // entry offsets of a jagged branch
        offset += static_cast<std::uint32_t>(rng.next() % 5);
        word = offset;
      }
      put_be32(out, word);
    }
  }
  out.resize(n);
  return out;
}

Bytes concat(std::initializer_list<ConstBytes> parts) {
  Bytes out;
  for (ConstBytes part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

Bytes zstd_compress(ConstBytes data, int level, bool checksum, bool content_size) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, checksum ? 1 : 0);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, content_size ? 1 : 0);
  Bytes out(ZSTD_compressBound(data.size()));
  const std::size_t size = ZSTD_compress2(cctx, out.data(), out.size(), data.data(), data.size());
  ZSTD_freeCCtx(cctx);
  if (ZSTD_isError(size)) fail_helper(std::string("zstd_compress: ") + ZSTD_getErrorName(size));
  out.resize(size);
  return out;
}

Bytes lz4_block_compress(ConstBytes data) {
  Bytes out(static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(data.size()))));
  const int size = LZ4_compress_default(reinterpret_cast<const char*>(data.data()),
                                        reinterpret_cast<char*>(out.data()),
                                        static_cast<int>(data.size()), static_cast<int>(out.size()));
  if (size <= 0) fail_helper("lz4_block_compress failed");
  out.resize(static_cast<std::size_t>(size));
  return out;
}

Bytes lz4_frame_compress(ConstBytes data, const Lz4FrameOptions& options) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.blockSizeID = static_cast<LZ4F_blockSizeID_t>(options.block_size_id);
  prefs.frameInfo.blockMode = options.linked ? LZ4F_blockLinked : LZ4F_blockIndependent;
  prefs.frameInfo.contentChecksumFlag =
      options.content_checksum ? LZ4F_contentChecksumEnabled : LZ4F_noContentChecksum;
  prefs.frameInfo.blockChecksumFlag = options.block_checksum ? LZ4F_blockChecksumEnabled : LZ4F_noBlockChecksum;
  prefs.frameInfo.contentSize = options.content_size ? data.size() : 0;
  Bytes out(LZ4F_compressFrameBound(data.size(), &prefs));
  const std::size_t size = LZ4F_compressFrame(out.data(), out.size(), data.data(), data.size(), &prefs);
  if (LZ4F_isError(size)) fail_helper(std::string("lz4_frame_compress: ") + LZ4F_getErrorName(size));
  out.resize(size);
  return out;
}

Bytes zlib_compress(ConstBytes data, int level) {
  libdeflate_compressor* compressor = libdeflate_alloc_compressor(level);
  Bytes out(libdeflate_zlib_compress_bound(compressor, data.size()));
  const std::size_t size =
      libdeflate_zlib_compress(compressor, data.data(), data.size(), out.data(), out.size());
  libdeflate_free_compressor(compressor);
  if (size == 0) fail_helper("zlib_compress failed");
  out.resize(size);
  return out;
}

Bytes xz_compress(ConstBytes data, std::uint32_t preset) {
  Bytes out(lzma_stream_buffer_bound(data.size()));
  std::size_t size = 0;
  const lzma_ret ret = lzma_easy_buffer_encode(
      preset, LZMA_CHECK_CRC32, nullptr, reinterpret_cast<const std::uint8_t*>(data.data()),
      data.size(), reinterpret_cast<std::uint8_t*>(out.data()), &size, out.size());
  if (ret != LZMA_OK) fail_helper("xz_compress failed");
  out.resize(size);
  return out;
}

Bytes root_block_header(std::string_view algo, std::uint8_t method, std::size_t compressed,
                        std::size_t uncompressed) {
  if (algo.size() != 2 || compressed > 0xFFFFFF || uncompressed > 0xFFFFFF) {
    fail_helper("root_block_header: bad algorithm or size");
  }
  Bytes header(9);
  header[0] = static_cast<std::byte>(algo[0]);
  header[1] = static_cast<std::byte>(algo[1]);
  header[2] = static_cast<std::byte>(method);
  for (std::size_t i = 0; i < 3; ++i) {
    header[3 + i] = static_cast<std::byte>(compressed >> (8 * i));
    header[6 + i] = static_cast<std::byte>(uncompressed >> (8 * i));
  }
  return header;
}

Bytes root_blocks(ConstBytes payload, std::string_view algo, int level) {
  constexpr std::size_t max_block = 0xFFFFFF;  // ROOT's kMAXZIPBUF
  Bytes out;
  for (std::size_t start = 0; start < payload.size(); start += max_block) {
    const ConstBytes part = payload.subspan(start, std::min(max_block, payload.size() - start));
    Bytes body;
    std::uint8_t method = 0;
    if (algo == "ZS") {
      body = zstd_compress(part, level);
      method = 1;
    } else if (algo == "L4") {
      const Bytes block = lz4_block_compress(part);
      const std::uint64_t sum = XXH64(block.data(), block.size(), 0);
      for (int shift = 56; shift >= 0; shift -= 8) body.push_back(static_cast<std::byte>(sum >> shift));
      body.insert(body.end(), block.begin(), block.end());
      method = 1;
    } else if (algo == "ZL") {
      body = zlib_compress(part, level);
      method = 8;
    } else if (algo == "XZ") {
      body = xz_compress(part, static_cast<std::uint32_t>(level));
      method = 0;
    } else {
      fail_helper("root_blocks: unknown algorithm " + std::string(algo));
    }
    const Bytes header = root_block_header(algo, method, body.size(), part.size());
    out.insert(out.end(), header.begin(), header.end());
    out.insert(out.end(), body.begin(), body.end());
  }
  return out;
}

}  // namespace decoflow::test
