// decoflow_fuzz_corpus: writes the seed corpora of the fuzz targets.
//
//   decoflow_fuzz_corpus OUTDIR HZZ_FIXTURE TESTDATA_ROOT_DIR
//
// OUTDIR/<target>/ receives one file per seed, in each target's input layout
// (decode targets: 3-byte destination size + compressed bytes; scanners: a
// whole file; the graph target: the layout described in fuzz_graph.cpp).
// Seeds are made here, at run time, from deterministic data, and from the
// real baskets of the uproot-HZZ ROOT files, read in place at the positions
// tests/fixtures/hzz_baskets.tsv lists (nothing is copied into the repository).
// Missing ROOT files only mean fewer seeds.
#include <libdeflate.h>
#include <lz4.h>
#include <lz4frame.h>
#include <lzma.h>
#include <xxhash.h>
#include <zstd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

// splitmix64: the same data on every machine.
struct Rng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
};

// Big-endian words in runs, like ROOT baskets: compressible 2-4x.
Bytes physics(std::size_t n, std::uint64_t seed) {
  Rng rng{seed};
  Bytes out;
  std::uint32_t offset = 0;
  while (out.size() < n) {
    const std::uint64_t kind = rng.next() % 3;
    const std::size_t run = 16 + rng.next() % 128;
    for (std::size_t i = 0; i < run; ++i) {
      std::uint32_t word = 0;
      if (kind == 0) {
        word = 0x41F00000u + static_cast<std::uint32_t>(rng.next() % 4096) * 256;
      } else if (kind == 1) {
        word = static_cast<std::uint32_t>(rng.next() % 4);
      } else {
        offset += static_cast<std::uint32_t>(rng.next() % 5);
        word = offset;
      }
      for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(word >> shift));
    }
  }
  out.resize(n);
  return out;
}

Bytes random_bytes(std::size_t n, std::uint64_t seed) {
  Rng rng{seed};
  Bytes out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng.next());
  return out;
}

[[noreturn]] void die(const std::string& why) { throw std::runtime_error(why); }

Bytes zstd(const Bytes& data, int level, bool checksum, bool content_size) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, checksum ? 1 : 0);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, content_size ? 1 : 0);
  Bytes out(ZSTD_compressBound(data.size()));
  const std::size_t n = ZSTD_compress2(cctx, out.data(), out.size(), data.data(), data.size());
  ZSTD_freeCCtx(cctx);
  if (ZSTD_isError(n)) die("zstd failed");
  out.resize(n);
  return out;
}

Bytes lz4_block(const Bytes& data) {
  Bytes out(static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(data.size()))));
  const int n = LZ4_compress_default(reinterpret_cast<const char*>(data.data()),
                                     reinterpret_cast<char*>(out.data()), static_cast<int>(data.size()),
                                     static_cast<int>(out.size()));
  if (n <= 0) die("lz4 failed");
  out.resize(static_cast<std::size_t>(n));
  return out;
}

struct Lz4Options {
  bool content_size = false;
  bool block_checksum = false;
  bool content_checksum = false;
  bool linked = false;
};

Bytes lz4_frame(const Bytes& data, const Lz4Options& o) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = o.linked ? LZ4F_blockLinked : LZ4F_blockIndependent;
  prefs.frameInfo.contentChecksumFlag = o.content_checksum ? LZ4F_contentChecksumEnabled : LZ4F_noContentChecksum;
  prefs.frameInfo.blockChecksumFlag = o.block_checksum ? LZ4F_blockChecksumEnabled : LZ4F_noBlockChecksum;
  prefs.frameInfo.contentSize = o.content_size ? data.size() : 0;
  Bytes out(LZ4F_compressFrameBound(data.size(), &prefs));
  const std::size_t n = LZ4F_compressFrame(out.data(), out.size(), data.data(), data.size(), &prefs);
  if (LZ4F_isError(n)) die("lz4 frame failed");
  out.resize(n);
  return out;
}

void put_le(Bytes& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

Bytes cat(std::initializer_list<const Bytes*> parts) {
  Bytes out;
  for (const Bytes* p : parts) out.insert(out.end(), p->begin(), p->end());
  return out;
}

// One ROOT block: 9-byte header (tag, method, le24 compressed, le24 decoded) + body.
Bytes root_block(const Bytes& data, std::string_view algo) {
  Bytes body;
  std::uint8_t method = 0;
  if (algo == "ZS") {
    body = zstd(data, 1, false, true);
    method = 1;
  } else if (algo == "L4") {
    const Bytes block = lz4_block(data);
    const std::uint64_t sum = XXH64(block.data(), block.size(), 0);
    for (int shift = 56; shift >= 0; shift -= 8) body.push_back(static_cast<std::uint8_t>(sum >> shift));
    body.insert(body.end(), block.begin(), block.end());
    method = 1;
  } else if (algo == "ZL") {
    libdeflate_compressor* c = libdeflate_alloc_compressor(6);
    body.resize(libdeflate_zlib_compress_bound(c, data.size()));
    body.resize(libdeflate_zlib_compress(c, data.data(), data.size(), body.data(), body.size()));
    libdeflate_free_compressor(c);
    method = 8;
  } else {  // XZ
    body.resize(lzma_stream_buffer_bound(data.size()));
    std::size_t n = 0;
    if (lzma_easy_buffer_encode(1, LZMA_CHECK_CRC32, nullptr, data.data(), data.size(), body.data(), &n,
                                body.size()) != LZMA_OK) {
      die("xz failed");
    }
    body.resize(n);
  }
  Bytes out{static_cast<std::uint8_t>(algo[0]), static_cast<std::uint8_t>(algo[1]), method};
  put_le(out, body.size(), 3);
  put_le(out, data.size(), 3);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

class Writer {
 public:
  explicit Writer(fs::path root) : root_(std::move(root)) {}

  void file(const std::string& target, const Bytes& bytes) {
    const fs::path dir = root_ / target;
    fs::create_directories(dir);
    const fs::path path = dir / ("seed-" + std::to_string(counts_[target]++));
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) die("cannot write " + path.string());
    ++total_;
  }
  // A decode target's seed: 3-byte destination size, then the input.
  void decode(const std::string& target, std::size_t dst_size, const Bytes& src) {
    Bytes seed;
    put_le(seed, dst_size, 3);
    seed.insert(seed.end(), src.begin(), src.end());
    file(target, seed);
  }
  std::size_t total() const { return total_; }

 private:
  fs::path root_;
  std::map<std::string, std::size_t> counts_;
  std::size_t total_ = 0;
};

// Real baskets: payload after the TKey, decoded size objlen (the fixture's rows).
std::size_t root_seeds(Writer& w, const fs::path& fixture, const fs::path& root_dir) {
  std::ifstream in(fixture);
  if (!in) return 0;
  std::map<std::string, Bytes> files;
  std::string line;
  std::size_t n = 0;
  std::map<std::string, int> per_file;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream cols(line);
    std::string file, branch;
    std::uint64_t basket = 0, seek = 0, compressed = 0, keylen = 0, objlen = 0;
    if (!(cols >> file >> branch >> basket >> seek >> compressed >> keylen >> objlen)) continue;
    if (per_file[file]++ >= 12) continue;  // a dozen baskets per codec is plenty of variety
    auto it = files.find(file);
    if (it == files.end()) {
      std::ifstream f(root_dir / file, std::ios::binary);
      if (!f) continue;
      it = files.emplace(file, Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>())).first;
    }
    const Bytes& bytes = it->second;
    if (seek + compressed > bytes.size() || keylen > compressed) continue;
    const Bytes payload(bytes.begin() + static_cast<std::ptrdiff_t>(seek + keylen),
                        bytes.begin() + static_cast<std::ptrdiff_t>(seek + compressed));
    w.decode("fuzz_root_blocks", objlen, payload);
    ++n;
  }
  return n;
}

// pzstd's layout: a 12-byte skippable frame holding the next frame's size.
Bytes pzstd_file(const std::vector<Bytes>& frames) {
  Bytes out;
  for (const Bytes& f : frames) {
    put_le(out, 0x184D2A50, 4);
    put_le(out, 4, 4);
    put_le(out, f.size(), 4);
    out.insert(out.end(), f.begin(), f.end());
  }
  return out;
}

// The zstd seekable format: frames, then a skippable frame with the seek table.
Bytes seekable_file(const std::vector<Bytes>& frames, const std::vector<std::size_t>& sizes) {
  Bytes out;
  for (const Bytes& f : frames) out.insert(out.end(), f.begin(), f.end());
  put_le(out, 0x184D2A5E, 4);
  put_le(out, frames.size() * 8 + 9, 4);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    put_le(out, frames[i].size(), 4);
    put_le(out, sizes[i], 4);
  }
  put_le(out, frames.size(), 4);
  out.push_back(0);  // descriptor: no checksums
  put_le(out, 0x8F92EAB1, 4);
  return out;
}

// A graph seed (fuzz_graph.cpp's layout) of chunks laid end to end in array 0.
struct GraphChunk {
  std::uint8_t codec;
  Bytes content;
  std::uint8_t array = 0;  // 0, 1, 2 = scratch
};
Bytes graph_seed(std::uint8_t flags, std::size_t array0, std::size_t array1,
                 const std::vector<GraphChunk>& chunks) {
  Bytes header{flags};
  put_le(header, array0, 2);
  put_le(header, array1, 2);
  header.push_back(static_cast<std::uint8_t>(chunks.size()));
  Bytes input;
  std::size_t dest[2] = {0, 0};
  for (const GraphChunk& c : chunks) {
    Bytes packed;
    switch (c.codec) {
      case 0: packed = c.content; break;
      case 1: packed = zstd(c.content, 3, false, true); break;
      case 2: packed = lz4_block(c.content); break;
      case 3: packed = lz4_frame(c.content, {}); break;
      default: packed = root_block(c.content, "ZS"); break;
    }
    put_le(header, input.size(), 2);
    put_le(header, packed.size(), 2);
    const std::size_t a = c.array == 1 ? 1 : 0;
    put_le(header, dest[a], 2);
    put_le(header, c.content.size(), 2);
    if (c.array != 2) dest[a] += c.content.size();
    header.push_back(c.array);
    header.push_back(c.codec);
    header.push_back(0);
    input.insert(input.end(), packed.begin(), packed.end());
  }
  header.insert(header.end(), input.begin(), input.end());
  return header;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s OUTDIR HZZ_FIXTURE TESTDATA_ROOT_DIR\n", argv[0]);
    return 2;
  }
  try {
    Writer w{fs::path(argv[1])};
    const std::size_t sizes[] = {0, 1, 100, 1000, 5000, 70000};
    std::uint64_t seed = 1;
    for (std::size_t n : sizes) {
      const Bytes data = physics(n, seed++);
      const Bytes noise = random_bytes(n, seed++);
      w.decode("fuzz_raw", n, data);
      w.decode("fuzz_raw", n + 7, noise);
      if (n == 0) continue;  // the codecs below refuse empty input; raw covers it
      for (int level : {1, 3, 19}) {
        const Bytes f = zstd(data, level, level == 3, level != 19);
        w.decode("fuzz_zstd", n, f);
      }
      const Bytes two = cat({&data, &noise});
      const Bytes f1 = zstd(data, 1, true, true), f2 = zstd(noise, 1, false, false);
      w.decode("fuzz_zstd", 2 * n, cat({&f1, &f2}));
      w.decode("fuzz_zstd", n - 1, f1);  // one byte short: size_mismatch
      w.decode("fuzz_lz4_block", n, lz4_block(data));
      w.decode("fuzz_lz4_block", n + 1, lz4_block(noise));
      for (int variant = 0; variant < 4; ++variant) {
        const Lz4Options o{variant == 1, variant == 2, variant == 2 || variant == 3, variant == 3};
        const Bytes lf = lz4_frame(variant == 3 ? two : data, o);
        w.decode("fuzz_lz4_frame", variant == 3 ? 2 * n : n, lf);
        w.file("fuzz_scan_lz4", lf);
      }
      const Bytes lz_a = lz4_frame(data, {true, true, true, false});
      const Bytes lz_b = lz4_frame(noise, {});
      w.file("fuzz_scan_lz4", cat({&lz_a, &lz_b}));
      w.decode("fuzz_lz4_frame", 2 * n, cat({&lz_a, &lz_b}));
      for (const char* algo : {"ZS", "L4", "ZL", "XZ"}) w.decode("fuzz_root_blocks", n, root_block(data, algo));
      const Bytes b1 = root_block(data, "ZS"), b2 = root_block(noise, "L4");
      w.decode("fuzz_root_blocks", 2 * n, cat({&b1, &b2}));  // two blocks back to back
      w.decode("fuzz_root_blocks", n, data);                  // stored raw

      const std::vector<Bytes> frames = {zstd(data, 3, true, false), zstd(noise, 1, false, false),
                                         zstd(data, 1, false, true)};
      w.file("fuzz_scan_zstd", cat({&frames[0], &frames[1], &frames[2]}));
      w.file("fuzz_scan_zstd", pzstd_file(frames));
      w.file("fuzz_scan_zstd", seekable_file(frames, {n, n, n}));
    }
    // Graphs: every codec into array 0, then with byteswap, scratch, a second array.
    const std::vector<GraphChunk> mixed = {{0, physics(64, 90)}, {1, physics(256, 91)},
                                           {2, physics(128, 92)}, {3, physics(96, 93)},
                                           {4, physics(160, 94)}};
    w.file("fuzz_graph", graph_seed(0, 704, 0, mixed));
    w.file("fuzz_graph", graph_seed(1 | 2, 704, 0, mixed));  // byteswap 4
    w.file("fuzz_graph", graph_seed(8 | 16, 512, 512,
                                    {{1, physics(256, 95), 0}, {2, physics(256, 96), 1},
                                     {1, physics(200, 97), 2}}));  // second array, scratch, twice
    w.file("fuzz_graph", graph_seed(32, 4000, 0,
                                    {{1, physics(1000, 98)}, {1, physics(1000, 99)},
                                     {2, physics(1000, 100)}, {3, physics(1000, 101)}}));  // cancel

    const std::size_t baskets = root_seeds(w, argv[2], argv[3]);
    std::printf("decoflow_fuzz_corpus: %zu seeds (%zu real ROOT baskets) in %s\n", w.total(), baskets,
                argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "decoflow_fuzz_corpus: %s\n", e.what());
    return 1;
  }
  return 0;
}
