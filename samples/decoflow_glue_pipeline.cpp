// decoflow-glue-pipeline: native decompression and Python glue in one graph,
// from a C++ program that embeds CPython.
//
//   chunks (zstd) ──► decode (native, GIL-free, into its slice)
//                        ──► glue: FILE.py:function (own-GIL subinterpreter per
//                            glue thread; returns an int per chunk)
//                        ──► byteswap 4 (native) ──► slice of one output array
//
// Generates physics-like big-endian data (int32 counts, float32 momenta),
// compresses it in chunks, then runs the graph: once to start the glue
// interpreters, then --repeat more times, beside the same graph without glue.
// Prints throughput, the sum of the glue's results and an XXH64 checksum of
// the output. Exit status 0 on success, 1 on a failed run, 2 on bad arguments.
#include <xxhash.h>
#include <zstd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "anchor_data.hpp"
#include "decoflow/decoflow.hpp"
#include "decoflow/glue.hpp"
#include "decoflow/python_host.hpp"
#include "thread_count.hpp"

namespace {

constexpr const char* usage_text =
    "usage: decoflow-glue-pipeline [OPTIONS] GLUE.py[:FUNCTION]\n"
    "\n"
    "Decompresses generated chunks natively, runs the Python FUNCTION (default:\n"
    "the file's name) from GLUE.py on every chunk in per-thread subinterpreters,\n"
    "byteswaps the result natively, and prints throughput and a checksum.\n"
    "The glue is called as FUNCTION(src, dst, index, tag) with memoryviews of the\n"
    "chunk's compressed input and its decoded (big-endian) slice; it may return an\n"
    "int or None. See samples/glue/count_fast.py.\n"
    "\n"
    "options:\n"
    "  -T, --threads N     engine threads (default, or 0: all cores)\n"
    "  --mib M             MiB of output to generate (default 64)\n"
    "  --chunk-kib K       KiB per chunk (default 32)\n"
    "  --repeat R          timed runs after the first (default 3; best is printed)\n"
    "  -h, --help          this text\n"
    "\n"
    "Python: the CPython decoflow was built against; set DECOFLOW_PYTHONHOME to\n"
    "use another installation of the same version.\n";

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

struct Options {
  unsigned threads = 0;
  std::size_t mib = 64;
  std::size_t chunk_kib = 32;
  int repeat = 3;
  std::string glue;
};

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> long {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return std::stol(argv[++i]);
    };
    if (a == "-h" || a == "--help") {
      std::fputs(usage_text, stdout);
      std::exit(0);
    } else if (a == "-T" || a == "--threads") {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      const auto n = decoflow_samples::parse_thread_count(argv[++i]);
      if (!n) {
        throw std::invalid_argument(a + " wants a number from 0 (all cores) to 4096, not '" +
                                    argv[i] + "'");
      }
      o.threads = *n;
    } else if (a == "--mib") {
      o.mib = static_cast<std::size_t>(value());
    } else if (a == "--chunk-kib") {
      o.chunk_kib = static_cast<std::size_t>(value());
    } else if (a == "--repeat") {
      o.repeat = static_cast<int>(value());
    } else if (!a.empty() && a[0] == '-') {
      throw std::invalid_argument("unknown option " + a);
    } else if (o.glue.empty()) {
      o.glue = a;
    } else {
      throw std::invalid_argument("one glue file only");
    }
  }
  if (o.glue.empty()) throw std::invalid_argument("no glue file given");
  if (o.mib == 0 || o.chunk_kib == 0 || o.repeat < 0) throw std::invalid_argument("sizes must be positive");
  return true;
}

// "dir/name.py:fn" -> a module:function target with dir on sys.path.
decoflow::GlueSpec glue_spec(const std::string& arg) {
  std::string file = arg;
  std::string function;
  if (auto colon = arg.rfind(':'); colon != std::string::npos && arg.rfind(".py") < colon) {
    file = arg.substr(0, colon);
    function = arg.substr(colon + 1);
  }
  const std::filesystem::path path = std::filesystem::absolute(file);
  if (!std::filesystem::is_regular_file(path) || path.extension() != ".py") {
    throw std::invalid_argument("glue file '" + file + "' is not a readable .py file");
  }
  const std::string module = path.stem().string();
  decoflow::GlueSpec spec;
  spec.target = module + ":" + (function.empty() ? module : function);
  spec.sys_path = {path.parent_path().string()};
  return spec;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  decoflow::GlueSpec spec;
  try {
    parse(argc, argv, options);
    spec = glue_spec(options.glue);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "decoflow-glue-pipeline: %s\n%s", e.what(), usage_text);
    return 2;
  }
  try {
    decoflow::PythonHost python;  // starts CPython; ends the glue interpreters and finalises

    const std::size_t total = options.mib << 20;
    const std::size_t chunk = options.chunk_kib << 10;
    const std::vector<std::byte> original = decoflow::samples::anchor_physics_data(total);
    std::vector<std::byte> packed;
    std::vector<decoflow::ChunkSpec> chunks;
    for (std::size_t off = 0; off < total; off += chunk) {
      const std::size_t n = std::min(chunk, total - off);
      const std::size_t at = packed.size();
      packed.resize(at + ZSTD_compressBound(n));
      const std::size_t z = ZSTD_compress(packed.data() + at, packed.size() - at, &original[off], n, 3);
      packed.resize(at + z);
      chunks.push_back({0, at, z, 0, off, n, decoflow::Codec::zstd, 0});
    }
    auto input = decoflow::InputBuffer::from_bytes(std::move(packed));
    auto output = decoflow::DestinationArray::allocate(total);
    auto make_graph = [&](bool with_glue) {
      decoflow::Graph graph(with_glue ? "glue-pipeline" : "native-only");
      graph.add_input(input);
      graph.add_array(output);
      graph.add_stage(decoflow::Stage::decode());
      if (with_glue) graph.add_stage(decoflow::glue_stage("glue", spec));
      graph.add_stage(decoflow::Stage::byteswap(4));
      graph.reserve_chunks(chunks.size());
      for (const auto& c : chunks) graph.add_chunk(c);
      return std::make_shared<const decoflow::Graph>(std::move(graph));
    };
    const auto native = make_graph(false);
    const auto glued = make_graph(true);

    decoflow::Executor executor(options.threads);
    auto timed = [&](const std::shared_ptr<const decoflow::Graph>& graph, int runs,
                     std::vector<std::int64_t>* results) {
      double best = 1e30;
      for (int r = 0; r < runs; ++r) {
        std::memset(output->data(), 0xA5, total);  // poison: every byte must be rewritten
        const auto start = std::chrono::steady_clock::now();
        decoflow::GraphRun run = executor.submit(graph);
        run.get();
        best = std::min(best, seconds_since(start));
        if (results != nullptr) *results = run.results();
      }
      return best;
    };

    std::vector<std::int64_t> results;
    const double first = timed(glued, 1, &results);  // starts the glue interpreters
    const double glue_best = options.repeat > 0 ? timed(glued, options.repeat, &results) : first;
    const double native_best = timed(native, std::max(options.repeat, 1), nullptr);
    timed(glued, 1, &results);  // leave the glued output for the checksum

    // The output must be the original, byteswapped.
    std::vector<std::byte> expected = original;
    decoflow::byteswap_in_place(decoflow::MutableBytes(expected.data(), expected.size()), 4);
    if (std::memcmp(expected.data(), output->data(), total) != 0) {
      std::fprintf(stderr, "decoflow-glue-pipeline: output differs from the original\n");
      return 1;
    }
    long long fast = 0;
    for (auto r : results) fast += r;
    const double gb = static_cast<double>(total) / 1e9;
    std::printf("glue %s: %zu chunks of %zu KiB, %zu MiB, %u threads, %u glue interpreters\n",
                spec.target.c_str(), chunks.size(), options.chunk_kib, options.mib,
                executor.threads(), decoflow::glue_interpreter_count());
    std::printf("first run (starts the interpreters): %.3f s\n", first);
    std::printf("with glue:   %.3f s  %.3f GB/s  (%.1f us of glue time per chunk per thread)\n",
                glue_best, gb / glue_best,
                (glue_best - native_best) * 1e6 * executor.threads() / static_cast<double>(chunks.size()));
    std::printf("native only: %.3f s  %.3f GB/s\n", native_best, gb / native_best);
    std::printf("glue results: sum %lld; output XXH64 %016llx (verified against the original)\n",
                fast, static_cast<unsigned long long>(XXH64(output->data(), total, 0)));
    return 0;
  } catch (const decoflow::Error& e) {
    std::fprintf(stderr, "decoflow-glue-pipeline: %s\n", e.what());
    return 1;
  }
}
