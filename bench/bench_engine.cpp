// decoflow-bench-engine: the engine doing the native roofline's job.
//
// The same data as ../shared/anchors/native_roofline.cpp (same generator, seed,
// masking and big-endian packing), the same chunks compressed with zstd level 3
// and raw lz4 blocks, decoded by a decoflow::Executor into slices of one
// pre-touched DestinationArray, best of REPS runs, at 1, 2, 4, ... MAX_THREADS
// threads. The table has the anchor's shape (GB/s of output), so
// bench/run_native.sh can print the two side by side:
//
//   InputBuffer (all chunks, in memory) ──► decode ──► [byteswap(4)] ──► slices
//                                                                         of one
//   chunk i: input [zoff_i, +zsize_i)  →  array [i * CHUNK, +CHUNK)   DestinationArray
//
// The "memcpy" column is the engine's own memory bound: a graph of Codec::raw
// chunks (each a memcpy of its source slice), beside the anchor's parallel_for
// of memcpy.
//
// Usage: decoflow-bench-engine [MIB=512] [CHUNK_KIB=256] [MAX_THREADS=16] [REPS=5]
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <lz4.h>
#include <zstd.h>

#include "anchor_data.hpp"
#include "decoflow/decoflow.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Parses a positive integer argument, or returns `fallback` when absent.
std::size_t arg_or(int argc, char** argv, int index, std::size_t fallback) {
  if (argc <= index) return fallback;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(argv[index], &end, 10);
  if (end == argv[index] || *end != '\0' || value == 0) {
    std::fprintf(stderr, "decoflow-bench-engine: argument %d (\"%s\") must be a positive integer\n",
                 index, argv[index]);
    std::exit(2);
  }
  return static_cast<std::size_t>(value);
}

struct Compressed {
  std::shared_ptr<const decoflow::InputBuffer> input;
  std::vector<std::uint64_t> offsets;  // per chunk, into input
  std::vector<std::uint64_t> sizes;
};

// Compresses each chunk of `src` on its own (as the anchor does) and lays the
// results back to back in one in-memory input, as a file would hold them.
Compressed compress(const std::vector<std::byte>& src, std::size_t chunk, decoflow::Codec codec) {
  Compressed out;
  std::vector<std::byte> all;
  std::vector<std::byte> tmp;
  for (std::size_t off = 0; off < src.size(); off += chunk) {
    const std::size_t n = std::min(chunk, src.size() - off);
    std::size_t got = 0;
    if (codec == decoflow::Codec::zstd) {
      tmp.resize(ZSTD_compressBound(n));
      got = ZSTD_compress(tmp.data(), tmp.size(), &src[off], n, 3);
      if (ZSTD_isError(got)) {
        std::fprintf(stderr, "zstd: %s\n", ZSTD_getErrorName(got));
        std::exit(1);
      }
    } else {
      tmp.resize(static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(n))));
      const int z = LZ4_compress_default(reinterpret_cast<const char*>(&src[off]),
                                         reinterpret_cast<char*>(tmp.data()), static_cast<int>(n),
                                         static_cast<int>(tmp.size()));
      if (z <= 0) {
        std::fprintf(stderr, "lz4: compression failed\n");
        std::exit(1);
      }
      got = static_cast<std::size_t>(z);
    }
    out.offsets.push_back(all.size());
    out.sizes.push_back(got);
    all.insert(all.end(), tmp.begin(), tmp.begin() + static_cast<std::ptrdiff_t>(got));
  }
  out.input = decoflow::InputBuffer::from_bytes(std::move(all));
  return out;
}

// One graph: every chunk decoded with `codec` into its slice of `array`, then
// byteswapped in place when `swap`.
std::shared_ptr<const decoflow::Graph> make_graph(const Compressed& z, decoflow::Codec codec,
                                                  const std::shared_ptr<decoflow::DestinationArray>& array,
                                                  std::size_t chunk, bool swap) {
  auto graph = std::make_shared<decoflow::Graph>(std::string("bench-") +
                                                 std::string(decoflow::to_string(codec)));
  const std::uint32_t input = graph->add_input(z.input);
  const std::uint32_t out = graph->add_array(array);
  graph->add_stage(decoflow::Stage::decode());
  if (swap) graph->add_stage(decoflow::Stage::byteswap(4));
  graph->reserve_chunks(z.offsets.size());
  for (std::size_t i = 0; i < z.offsets.size(); ++i) {
    decoflow::ChunkSpec spec;
    spec.input = input;
    spec.input_offset = z.offsets[i];
    spec.input_size = z.sizes[i];
    spec.array = out;
    spec.dest_offset = i * chunk;
    spec.dest_size = std::min<std::uint64_t>(chunk, array->size() - i * chunk);
    spec.codec = codec;
    spec.tag = static_cast<std::int64_t>(i);
    graph->add_chunk(spec);
  }
  return graph;
}

// Best of `reps` runs of `graph` on `executor`, as GB/s of output.
double best_gbps(decoflow::Executor& executor, const std::shared_ptr<const decoflow::Graph>& graph,
                 std::size_t total, std::size_t reps) {
  double best = 1e30;
  for (std::size_t r = 0; r < reps; ++r) {
    const auto start = Clock::now();
    executor.submit(graph).get();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count());
  }
  return static_cast<double>(total) / best / 1e9;
}

bool equal_swapped(const std::byte* got, const std::byte* want, std::size_t size) {
  for (std::size_t i = 0; i + 4 <= size; i += 4) {
    std::uint32_t a = 0;
    std::uint32_t b = 0;
    std::memcpy(&a, got + i, 4);
    std::memcpy(&b, want + i, 4);
    if (a != __builtin_bswap32(b)) return false;
  }
  return true;
}

[[noreturn]] void mismatch(const char* what, const char* codec, std::size_t threads) {
  std::fprintf(stderr, "decoflow-bench-engine: %s output differs from the source (%s, %zu threads)\n",
               what, codec, threads);
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) try {
  const std::size_t total = arg_or(argc, argv, 1, 512) << 20;  // MiB of output
  const std::size_t chunk = arg_or(argc, argv, 2, 256) << 10;  // KiB per chunk
  const std::size_t max_threads = arg_or(argc, argv, 3, 16);
  const std::size_t reps = arg_or(argc, argv, 4, 5);
  if (chunk % 8 != 0) {
    std::fprintf(stderr, "decoflow-bench-engine: CHUNK_KIB must keep chunks a multiple of 8 bytes\n");
    return 2;
  }

  const std::vector<std::byte> src = decoflow::samples::anchor_physics_data(total);
  // Pre-touched, as the anchor's std::vector<char> dst + memset: no page faults timed.
  std::vector<std::byte> dst(total);
  std::memset(dst.data(), 1, total);
  auto array = decoflow::DestinationArray::adopt(dst.data(), total, nullptr);

  // One executor per thread count, each reused for every graph and repetition.
  std::vector<std::size_t> thread_counts;
  std::vector<std::unique_ptr<decoflow::Executor>> executors;
  for (std::size_t t = 1; t <= max_threads; t *= 2) {
    thread_counts.push_back(t);
    executors.push_back(std::make_unique<decoflow::Executor>(static_cast<unsigned>(t)));
  }

  // The memory bound through the engine: raw chunks straight from the source.
  Compressed raw;
  raw.input = decoflow::InputBuffer::wrap(decoflow::ConstBytes(src.data(), src.size()), nullptr);
  for (std::size_t off = 0; off < total; off += chunk) {
    raw.offsets.push_back(off);
    raw.sizes.push_back(std::min(chunk, total - off));
  }
  const auto copy_graph = make_graph(raw, decoflow::Codec::raw, array, chunk, false);

  std::printf("output %zu MiB, chunk %zu KiB, %zu chunks (decoflow engine, best of %zu)\n",
              total >> 20, chunk >> 10, total / chunk, reps);
  struct Named {
    const char* name;
    decoflow::Codec codec;
  };
  for (const Named& c : {Named{"zstd-3", decoflow::Codec::zstd}, Named{"lz4", decoflow::Codec::lz4_block}}) {
    const Compressed z = compress(src, chunk, c.codec);
    if (const char* dump = std::getenv("DECOFLOW_BENCH_DUMP"); dump != nullptr && *dump != '\0') {
      // The same chunks for another front end (bench/python_vs_cpp.py): the
      // compressed input and its offsets and sizes (uint64, native order).
      auto write = [&](const std::string& name, const void* data, std::size_t bytes) {
        std::FILE* f = std::fopen((std::string(dump) + "/" + name).c_str(), "wb");
        if (f == nullptr || std::fwrite(data, 1, bytes, f) != bytes || std::fclose(f) != 0) {
          throw std::runtime_error("cannot write " + name + " in " + dump);
        }
      };
      const std::string base = c.name;
      write(base + ".bin", z.input->bytes().data(), z.input->size());
      write(base + ".offsets", z.offsets.data(), z.offsets.size() * 8);
      write(base + ".sizes", z.sizes.data(), z.sizes.size() * 8);
      write("source.bin", src.data(), src.size());
    }
    const auto decode = make_graph(z, c.codec, array, chunk, false);
    const auto decode_swap = make_graph(z, c.codec, array, chunk, true);
    std::printf("%s: ratio %.2f\n  threads  decode GB/s  decode+byteswap GB/s  memcpy GB/s\n", c.name,
                static_cast<double>(total) / static_cast<double>(z.input->size()));
    for (std::size_t k = 0; k < executors.size(); ++k) {
      decoflow::Executor& executor = *executors[k];
      std::memset(dst.data(), 1, total);  // poison: every byte must be written again
      const double d = best_gbps(executor, decode, total, reps);
      if (std::memcmp(dst.data(), src.data(), total) != 0) mismatch("decoded", c.name, thread_counts[k]);
      const double ds = best_gbps(executor, decode_swap, total, reps);
      if (!equal_swapped(dst.data(), src.data(), total)) mismatch("byteswapped", c.name, thread_counts[k]);
      const double mc = best_gbps(executor, copy_graph, total, reps);
      if (std::memcmp(dst.data(), src.data(), total) != 0) mismatch("copied", c.name, thread_counts[k]);
      std::printf("  %7zu  %11.2f  %20.2f  %11.2f\n", thread_counts[k], d, ds, mc);
      std::fflush(stdout);
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "decoflow-bench-engine: %s\n", e.what());
  return 1;
}
