// decoflow_fuzz_corpus: writes the seed corpora of the fuzz targets.
//
//   decoflow_fuzz_corpus OUTDIR HZZ_FIXTURE TESTDATA_ROOT_DIR
//
// OUTDIR/<target>/ receives one file per seed, in each target's input layout
// (decode targets: 3-byte destination size + compressed bytes; scanners: a
// whole file; the graph target: the layout described in fuzz_graph.cpp).
// Seeds are made here, at run time, from deterministic data, and from the
// real baskets of the uproot-HZZ ROOT files, read in place at the positions
// tests/fixtures/hzz_baskets.tsv lists (nothing is copied into the repository),
// and the RNTuples of TESTDATA_ROOT_DIR/rntuple and tests/fixtures/rntuple.
// Missing ROOT files only mean fewer seeds.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "decoflow/root_file.hpp"
#include "test_data.hpp"

namespace {

namespace fs = std::filesystem;
using decoflow::test::Bytes;
using decoflow::test::physics_bytes;
using decoflow::test::random_bytes;
using decoflow::test::view;

[[noreturn]] void die(const std::string& why) { throw std::runtime_error(why); }

Bytes zstd(const Bytes& data, int level, bool checksum, bool content_size) {
  return decoflow::test::zstd_compress(view(data), level, checksum, content_size);
}
Bytes lz4_block(const Bytes& data) { return decoflow::test::lz4_block_compress(view(data)); }
Bytes lz4_frame(const Bytes& data, const decoflow::test::Lz4FrameOptions& options) {
  return decoflow::test::lz4_frame_compress(view(data), options);
}
Bytes root_block(const Bytes& data, std::string_view algo) {
  return decoflow::test::root_blocks(view(data), algo, 1);
}
Bytes cat(std::initializer_list<const Bytes*> parts) {
  Bytes out;
  for (const Bytes* p : parts) out.insert(out.end(), p->begin(), p->end());
  return out;
}

void put_le(Bytes& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::byte>(value >> (8 * i)));
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
std::uint64_t be(const Bytes& b, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = v << 8 | std::to_integer<std::uint64_t>(b[at + static_cast<std::size_t>(i)]);
  return v;
}

Bytes read_file(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  const std::vector<char> chars{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  Bytes bytes(chars.size());
  for (std::size_t i = 0; i < chars.size(); ++i) bytes[i] = static_cast<std::byte>(chars[i]);
  return bytes;
}

// fuzz_rntuple seeds: each RNTuple of each .root file in `dirs`, as its
// anchor (7 little-endian uint64) then the whole file. The anchor is found
// where ROOT writes it: after its key's class name "ROOT::RNTuple", its name
// and title, a byte count (with ROOT's 0x40000000 flag), class version 2,
// format epoch 1, then big-endian fields. Small files only (< 1 MiB).
std::size_t rntuple_seeds(Writer& w, const std::vector<fs::path>& dirs) {
  static constexpr char kClass[] = "\x0dROOT::RNTuple";
  std::size_t n = 0;
  for (const fs::path& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() != ".root" || entry.file_size() > (1u << 20)) continue;
      const Bytes file = read_file(entry.path());
      const auto* text = reinterpret_cast<const char*>(file.data());
      const std::string_view all(text, file.size());
      for (std::size_t at = all.find(std::string_view(kClass, 14)); at != std::string_view::npos;
           at = all.find(std::string_view(kClass, 14), at + 1)) {
        std::size_t j = at + 14;
        if (j >= file.size()) break;
        j += 1 + std::to_integer<std::size_t>(file[j]);  // name
        if (j >= file.size()) break;
        j += 1 + std::to_integer<std::size_t>(file[j]);  // title
        if (j + 6 + 8 + 56 > file.size()) break;
        if ((be(file, j, 4) & 0x40000000u) == 0 || be(file, j + 4, 2) != 2 || be(file, j + 6, 2) != 1) continue;
        Bytes seed;
        for (int k = 0; k < 7; ++k) put_le(seed, be(file, j + 14 + 8 * static_cast<std::size_t>(k), 8), 8);
        seed.insert(seed.end(), file.begin(), file.end());
        w.file("fuzz_rntuple", seed);
        ++n;
      }
    }
  }
  return n;
}

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
      const std::vector<char> chars{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
      Bytes bytes(chars.size());
      for (std::size_t i = 0; i < chars.size(); ++i) bytes[i] = static_cast<std::byte>(chars[i]);
      it = files.emplace(file, std::move(bytes)).first;
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

// fuzz_root_meta's seeds: each ROOT file under the folders (whole, when
// small), and each of its TTrees' decompressed payloads after its fKeylen.
std::size_t meta_seeds(Writer& w, const std::vector<fs::path>& dirs) {
  std::size_t n = 0;
  for (const fs::path& dir : dirs) {
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() != ".root") continue;
      try {
        const decoflow::RootFile file = decoflow::RootFile::open(entry.path().string());
        const auto all = file.file()->bytes();
        if (all.size() <= (std::size_t{1} << 20)) {
          Bytes seed{std::byte{0}};
          seed.insert(seed.end(), all.begin(), all.end());
          w.file("fuzz_root_meta", seed);
          ++n;
        }
        for (const auto& [path, key] : file.walk()) {
          if (key.class_name != "TTree" || key.objlen > (std::size_t{1} << 20)) continue;
          const auto payload = file.read_object(key);
          Bytes seed{std::byte{1}, std::byte(key.keylen >> 8), std::byte(key.keylen & 0xFF)};
          seed.insert(seed.end(), payload.begin(), payload.end());
          w.file("fuzz_root_meta", seed);
          ++n;
        }
      } catch (const decoflow::Error&) {
        // a file the reader refuses seeds nothing
      }
    }
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
  out.push_back(std::byte{0});  // descriptor: no checksums
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
  Bytes header{std::byte{flags}};
  put_le(header, array0, 2);
  put_le(header, array1, 2);
  header.push_back(static_cast<std::byte>(chunks.size()));
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
    header.push_back(std::byte{c.array});
    header.push_back(std::byte{c.codec});
    header.push_back(std::byte{0});
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
      const Bytes data = physics_bytes(n, seed++);
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
        const decoflow::test::Lz4FrameOptions o{.block_size_id = 4,
                                                .content_size = variant == 1,
                                                .block_checksum = variant == 2,
                                                .content_checksum = variant == 2 || variant == 3,
                                                .linked = variant == 3};
        const Bytes lf = lz4_frame(variant == 3 ? two : data, o);
        w.decode("fuzz_lz4_frame", variant == 3 ? 2 * n : n, lf);
        w.file("fuzz_scan_lz4", lf);
      }
      const Bytes lz_a = lz4_frame(data, {.content_size = true, .block_checksum = true,
                                          .content_checksum = true});
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
    const std::vector<GraphChunk> mixed = {{0, physics_bytes(64, 90)}, {1, physics_bytes(256, 91)},
                                           {2, physics_bytes(128, 92)}, {3, physics_bytes(96, 93)},
                                           {4, physics_bytes(160, 94)}};
    w.file("fuzz_graph", graph_seed(0, 704, 0, mixed));
    w.file("fuzz_graph", graph_seed(1 | 2, 704, 0, mixed));  // byteswap 4
    w.file("fuzz_graph", graph_seed(8 | 16, 512, 512,
                                    {{1, physics_bytes(256, 95), 0}, {2, physics_bytes(256, 96), 1},
                                     {1, physics_bytes(200, 97), 2}}));  // second array, scratch, twice
    w.file("fuzz_graph", graph_seed(32, 4000, 0,
                                    {{1, physics_bytes(1000, 98)}, {1, physics_bytes(1000, 99)},
                                     {2, physics_bytes(1000, 100)}, {3, physics_bytes(1000, 101)}}));  // cancel

    const std::size_t baskets = root_seeds(w, argv[2], argv[3]);
    const fs::path root_dir = argv[3];
    meta_seeds(w, {root_dir, root_dir / "tree", fs::path(argv[2]).parent_path() / "root"});
    const std::size_t rntuples =
        rntuple_seeds(w, {fs::path(argv[3]) / "rntuple", fs::path(argv[2]).parent_path() / "rntuple"});
    std::printf("decoflow_fuzz_corpus: %zu seeds (%zu real ROOT baskets, %zu RNTuples) in %s\n",
                w.total(), baskets, rntuples, argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "decoflow_fuzz_corpus: %s\n", e.what());
    return 1;
  }
  return 0;
}
