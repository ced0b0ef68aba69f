// decoflow-decode: decodes a multi-frame .zst or independent-block .lz4 file in
// parallel into one output file.
//
//   INPUT ──► mmap ──► scan frames (zstd / lz4 by magic, headers only)
//                          │
//        sizes known ──────┼──── sizes unknown (pzstd, lz4 CLI)
//              │                          │
//   (a) decode piece i ──►        (b) decode piece i ──► scratch ──► place (ordered):
//       slice [prefix(i), +size)      running offset, lz4 content XXH32, pwrite
//       of OUTPUT mapped MAP_SHARED          │
//              └────────────┬────────────────┘
//                           ▼
//          [--compare ORIGINAL: byte for byte] ──► summary line on stderr
//
// Exit status: 0 success, 1 bad input / failed decode / I/O error / compare
// mismatch, 2 bad arguments. A partly written output file is removed on
// failure unless --keep-partial.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "decoflow/decoflow.hpp"
#include "decoflow/frame_scan.hpp"
#include "decoflow/frames_file.hpp"
#include "thread_count.hpp"

#ifndef DECOFLOW_VERSION
#define DECOFLOW_VERSION "unknown"
#endif

namespace {

constexpr const char* tool = "decoflow-decode";

constexpr const char* usage_text =
    "usage: decoflow-decode [OPTIONS] INPUT OUTPUT\n"
    "\n"
    "Decodes INPUT, a multi-frame zstd file (pzstd output, concatenated zstd\n"
    "outputs, the zstd seekable format) or an lz4 file with independent blocks\n"
    "(the lz4 CLI's default), in parallel into OUTPUT ('-' for stdout).\n"
    "A regular INPUT is memory-mapped; '-' (stdin) or a pipe is read whole first.\n"
    "Only files of several frames or blocks decode in parallel: make zstd files\n"
    "with pzstd (or compress pieces separately and concatenate the outputs).\n"
    "When the file declares every decoded size, pieces decode straight into a\n"
    "shared mapping of OUTPUT (path 'slices'); otherwise each piece decodes into\n"
    "scratch and is written in order (path 'ordered').\n"
    "\n"
    "options:\n"
    "  -T, --threads N     worker threads (default, or 0: one per hardware thread)\n"
    "      --verify        verify every checksum the format carries and report it\n"
    "                      (lz4 content checksums; zstd frame checksums and lz4\n"
    "                      block checksums are always verified)\n"
    "      --compare FILE  compare the output with FILE byte for byte\n"
    "      --progress      show a progress line even when stderr is not a terminal\n"
    "  -q, --quiet         print errors only\n"
    "  -f, --force         overwrite OUTPUT if it exists\n"
    "      --keep-partial  keep a partly written OUTPUT after a failure\n"
    "      --ordered       use the ordered path even when sizes are known\n"
    "  -h, --help          show this help\n"
    "  -V, --version       show the version\n"
    "\n"
    "exit status: 0 success, 1 bad input or failed decode/compare, 2 bad arguments\n";

struct Options {
  unsigned threads = 0;
  bool verify = false;
  std::string compare;
  bool progress = false;
  bool quiet = false;
  bool force = false;
  bool keep_partial = false;
  bool ordered = false;
  std::string input;
  std::string output;
};

/// Thrown for a command-line mistake: exit 2.
struct UsageError {
  std::string message;
};
/// Thrown for anything else that fails: exit 1.
struct Failure {
  std::string message;
};

std::atomic<bool> interrupted{false};
extern "C" void on_signal(int) { interrupted.store(true); }

unsigned parse_threads(std::string_view text) {
  const std::string copy(text);
  const auto threads = decoflow_samples::parse_thread_count(copy);
  if (!threads) {
    throw UsageError{"--threads needs a number from 0 (one per hardware thread) to 4096, not '" +
                     copy + "'"};
  }
  return *threads;
}

/// Returns nullopt when the program should exit 0 at once (--help, --version).
std::optional<Options> parse(int argc, char** argv) {
  Options o;
  std::vector<std::string> positional;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&](std::string_view name) -> std::string {
      if (i + 1 >= argc) throw UsageError{std::string(name) + " needs a value"};
      return argv[++i];
    };
    if (options_done || arg == "-" || arg.empty() || arg[0] != '-') {
      positional.emplace_back(arg);
    } else if (arg == "--") {
      options_done = true;
    } else if (arg == "-h" || arg == "--help") {
      std::fputs(usage_text, stdout);
      return std::nullopt;
    } else if (arg == "-V" || arg == "--version") {
      std::printf("decoflow-decode %s\n", DECOFLOW_VERSION);
      return std::nullopt;
    } else if (arg == "-T" || arg == "--threads") {
      o.threads = parse_threads(value(arg));
    } else if (arg.starts_with("--threads=")) {
      o.threads = parse_threads(arg.substr(10));
    } else if (arg.starts_with("-T") && arg.size() > 2) {
      o.threads = parse_threads(arg.substr(2));
    } else if (arg == "--verify") {
      o.verify = true;
    } else if (arg == "--compare") {
      o.compare = value(arg);
    } else if (arg.starts_with("--compare=")) {
      o.compare = std::string(arg.substr(10));
    } else if (arg == "--progress") {
      o.progress = true;
    } else if (arg == "-q" || arg == "--quiet") {
      o.quiet = true;
    } else if (arg == "-f" || arg == "--force") {
      o.force = true;
    } else if (arg == "--keep-partial") {
      o.keep_partial = true;
    } else if (arg == "--ordered") {
      o.ordered = true;
    } else {
      throw UsageError{"unknown option '" + std::string(arg) + "'"};
    }
  }
  if (positional.size() != 2) {
    throw UsageError{positional.size() < 2 ? "needs INPUT and OUTPUT"
                                           : "too many arguments ('" + positional[2] + "')"};
  }
  o.input = positional[0];
  o.output = positional[1];
  if (o.input == "-" && ::isatty(STDIN_FILENO) != 0) {
    throw UsageError{"INPUT '-' is stdin, which is a terminal: pipe the compressed file in, or name it"};
  }
  if (o.output == "-" && !o.compare.empty()) {
    throw UsageError{"--compare needs an OUTPUT file, not stdout"};
  }
  if (o.progress && o.quiet) throw UsageError{"--progress and --quiet contradict each other"};
  return o;
}

std::string format_bytes(double bytes) {
  char text[32];
  if (bytes >= 1e9) {
    std::snprintf(text, sizeof text, "%.2f GB", bytes / 1e9);
  } else if (bytes >= 1e6) {
    std::snprintf(text, sizeof text, "%.1f MB", bytes / 1e6);
  } else {
    std::snprintf(text, sizeof text, "%.0f bytes", bytes);
  }
  return text;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Removes the output on failure (unless kept) and closes it.
class OutputFile {
 public:
  OutputFile(const Options& o, const std::string& input_path) : path_(o.output), keep_(o.keep_partial) {
    if (path_ == "-") {
      fd_ = STDOUT_FILENO;
      return;
    }
    struct stat out {};
    if (::stat(path_.c_str(), &out) == 0) {
      struct stat in {};
      if (::stat(input_path.c_str(), &in) == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino) {
        throw UsageError{"OUTPUT '" + path_ + "' is the input file"};
      }
      if (!o.force) throw UsageError{"OUTPUT '" + path_ + "' exists (use --force to overwrite it)"};
    }
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd_ < 0) throw Failure{"cannot create '" + path_ + "': " + std::strerror(errno)};
  }
  ~OutputFile() {
    if (fd_ >= 0 && fd_ != STDOUT_FILENO) ::close(fd_);
    if (!committed_ && !keep_ && fd_ != STDOUT_FILENO) ::unlink(path_.c_str());
  }
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  int fd() const { return fd_; }
  bool is_stdout() const { return fd_ == STDOUT_FILENO; }
  /// Closes the file, reporting errors; after this, the output stays.
  void commit() {
    if (fd_ != STDOUT_FILENO && ::close(fd_) != 0) {
      fd_ = -1;
      throw Failure{"cannot close '" + path_ + "': " + std::strerror(errno)};
    }
    fd_ = -1;
    committed_ = true;
  }
  /// Keeps the file even though a later step (--compare) failed.
  void keep() { committed_ = true; }

 private:
  std::string path_;
  bool keep_;
  int fd_ = -1;
  bool committed_ = false;
};

/// Prints "\rdecoding X: 42% 112.0 MB 1.21 GB/s" every half second once a run
/// has taken a second, when stderr is a terminal or --progress asks.
void wait_with_progress(const decoflow::FramesDecode& decode, const Options& o,
                        std::chrono::steady_clock::time_point start) {
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  const bool show = !o.quiet && (o.progress || tty);
  const decoflow::GraphRun& run = decode.run();
  double last_print = 0;
  bool printed = false;
  while (!run.wait_for(std::chrono::milliseconds(100))) {
    if (interrupted.load()) {
      decoflow::GraphRun(run).cancel();
      continue;
    }
    const double elapsed = seconds_since(start);
    if (!show || elapsed < 1.0 || elapsed - last_print < 0.5) continue;
    last_print = elapsed;
    const decoflow::Progress p = run.progress();
    const double fraction =
        p.chunks_total == 0 ? 1.0 : static_cast<double>(p.chunks_done) / static_cast<double>(p.chunks_total);
    std::fprintf(stderr, "%sdecoding %s: %3.0f%% %s out, %.2f GB/s%s", tty ? "\r" : "",
                 o.input.c_str(), 100.0 * fraction, format_bytes(static_cast<double>(p.bytes_done)).c_str(),
                 static_cast<double>(p.bytes_done) / elapsed / 1e9, tty ? "\x1b[K" : "\n");
    std::fflush(stderr);
    printed = true;
  }
  if (printed && tty) std::fputs("\r\x1b[K", stderr);
}

/// Compares the output with the original; throws Failure naming the first
/// differing byte.
void compare_files(const std::string& output, const std::string& original, bool quiet) {
  std::shared_ptr<const decoflow::InputBuffer> a, b;
  try {
    a = decoflow::InputBuffer::map_file(output);
    b = decoflow::InputBuffer::map_file(original);
  } catch (const decoflow::Error& e) {
    throw Failure{"--compare: " + e.cause()};
  }
  const std::size_t common = std::min(a->size(), b->size());
  constexpr std::size_t block = 1 << 20;
  for (std::size_t at = 0; at < common; at += block) {
    const std::size_t n = std::min(block, common - at);
    if (std::memcmp(a->bytes().data() + at, b->bytes().data() + at, n) == 0) continue;
    std::size_t k = at;
    while (a->bytes()[k] == b->bytes()[k]) ++k;
    throw Failure{"--compare: '" + output + "' differs from '" + original + "' at byte " +
                  std::to_string(k)};
  }
  if (a->size() != b->size()) {
    throw Failure{"--compare: '" + output + "' has " + std::to_string(a->size()) + " bytes, '" +
                  original + "' has " + std::to_string(b->size())};
  }
  if (!quiet) {
    std::fprintf(stderr, "%s: compare: identical to %s (%zu bytes)\n", tool, original.c_str(),
                 a->size());
  }
}

/// A regular file is mapped; '-' (stdin), a pipe, a socket or a character
/// device (/dev/stdin on a pipe) cannot be, so it is read whole into memory.
std::shared_ptr<const decoflow::InputBuffer> open_input(const std::string& path) {
  const bool is_stdin = path == "-";
  if (!is_stdin) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
      return decoflow::InputBuffer::map_file(path);  // it names the path when it fails
    }
  }
  const int fd = is_stdin ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw decoflow::Error(decoflow::ErrorCode::io_error,
                          "cannot open '" + path + "': " + std::strerror(errno));
  }
  std::vector<std::byte> bytes;
  std::size_t size = 0;
  for (;;) {
    if (bytes.size() - size < (1u << 20)) bytes.resize(std::max<std::size_t>(bytes.size() * 2, 4u << 20));
    const ssize_t n = ::read(fd, bytes.data() + size, bytes.size() - size);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      if (!is_stdin) ::close(fd);
      throw decoflow::Error(decoflow::ErrorCode::io_error,
                            "cannot read " + std::string(is_stdin ? "stdin" : "'" + path + "'") +
                                " at byte " + std::to_string(size) + ": " + std::strerror(error));
    }
    size += static_cast<std::size_t>(n);
  }
  if (!is_stdin) ::close(fd);
  bytes.resize(size);
  return decoflow::InputBuffer::from_bytes(std::move(bytes));
}

std::string format_name(const decoflow::FrameScan& scan) {
  if (scan.pieces.empty()) return "empty";
  return scan.pieces.front().codec == decoflow::Codec::zstd ? "zstd" : "lz4";
}

/// INPUT as messages name it: 'path', or stdin for '-'.
std::string shown_input(const Options& o) {
  return o.input == "-" ? std::string("stdin") : "'" + o.input + "'";
}

int decode(const Options& o) {
  const auto start = std::chrono::steady_clock::now();
  std::shared_ptr<const decoflow::InputBuffer> input;
  decoflow::FrameScan scan;
  try {
    input = open_input(o.input);
    scan = decoflow::scan_frames(input->bytes());
  } catch (const decoflow::Error& e) {
    throw Failure{shown_input(o) + ": " + std::string(to_string(e.code())) + ": " + e.cause()};
  }
  const std::string format = format_name(scan);

  OutputFile output(o, o.input);
  decoflow::Executor executor(o.threads);
  decoflow::FramesOptions options;
  options.name = o.input == "-" ? std::string("stdin") : o.input;
  options.verify_content_checksums = o.verify;
  options.prefer_slices = !o.ordered;
  options.sequential_output = output.is_stdout();
  options.output_name = output.is_stdout() ? std::string("stdout") : "'" + o.output + "'";
  decoflow::FramesResult result;
  try {
    decoflow::FramesDecode job = decoflow::decode_frames_to_fd(executor, input, scan, output.fd(), options);
    input.reset();  // the graph holds the mapping while it runs
    wait_with_progress(job, o, start);
    result = job.finish();
  } catch (const decoflow::Error& e) {
    if (e.code() == decoflow::ErrorCode::cancelled && interrupted.load()) {
      throw Failure{"interrupted"};
    }
    throw Failure{shown_input(o) + ": " + std::string(to_string(e.code())) + ": " + e.cause() +
                  (e.node().empty() ? "" : " [node '" + e.node() + "']")};
  }
  output.commit();
  const double seconds = seconds_since(start);

  if (!o.quiet) {
    if (o.verify) {
      std::string what;
      if (result.zstd_checksums_verified != 0) {
        what = std::to_string(result.zstd_checksums_verified) + " zstd frame checksum" +
               (result.zstd_checksums_verified == 1 ? "" : "s");
        if (result.zstd_checksums_verified != result.pieces) {
          what += " (" + std::to_string(result.pieces - result.zstd_checksums_verified) +
                  " frames carry none)";
        }
      }
      if (result.content_checksums_verified != 0) {
        what = std::to_string(result.content_checksums_verified) + " lz4 content checksum" +
               (result.content_checksums_verified == 1 ? "" : "s");
      }
      if (what.empty()) {
        std::fprintf(stderr, "%s: verify: %s carries no content checksums%s\n", tool, o.input.c_str(),
                     format == "lz4" ? " (lz4 block checksums, if any, were verified)" : "");
      } else {
        std::fprintf(stderr, "%s: verify: %s OK\n", tool, what.c_str());
      }
    }
  }
  if (!o.compare.empty()) {
    try {
      compare_files(o.output, o.compare, o.quiet);
    } catch (const Failure&) {
      output.keep();
      throw;
    }
  }
  if (!o.quiet) {
    const char* why = result.path == decoflow::FramesPath::slices
                          ? "sizes known: decoded into the mapped output"
                          : "decoded into scratch, written in order";
    if (result.pieces == 1 && result.bytes_out != 0) {
      // The most common .zst files (zstd, zstd -T8) are one frame: say why
      // nothing ran in parallel, and how to write files that can.
      std::fprintf(stderr,
                   format == "zstd"
                       ? "%s: note: %s is a single zstd frame, which one thread decodes: only files "
                         "of several frames decode in parallel (zstd and zstd -T write one frame "
                         "per file; pzstd writes one per few MiB of input; or compress pieces "
                         "separately and concatenate the outputs)\n"
                       : "%s: note: %s is a single lz4 block, which one thread decodes: only files "
                         "of several blocks decode in parallel (smaller blocks: lz4 -B4 or -B5)\n",
                   tool, o.input == "-" ? "stdin" : o.input.c_str());
    }
    std::fprintf(stderr,
                 "%s: %s -> %s: %s in, %s out, %.3f s, %.2f GB/s, %u threads, %s, %llu pieces, "
                 "path %s (%s)\n",
                 tool, o.input.c_str(), o.output.c_str(), format_bytes(static_cast<double>(result.bytes_in)).c_str(),
                 format_bytes(static_cast<double>(result.bytes_out)).c_str(), seconds,
                 static_cast<double>(result.bytes_out) / seconds / 1e9, executor.threads(), format.c_str(),
                 static_cast<unsigned long long>(result.pieces), std::string(to_string(result.path)).c_str(),
                 why);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<Options> options;
  try {
    options = parse(argc, argv);
    if (!options) return 0;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: %s\n(see %s --help)\n", tool, e.message.c_str(), tool);
    return 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);  // a closed stdout becomes an EPIPE write error, not a silent death
  try {
    return decode(*options);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: %s\n", tool, e.message.c_str());
    return 2;
  } catch (const Failure& e) {
    std::fprintf(stderr, "%s: %s\n", tool, e.message.c_str());
    return 1;
  } catch (const decoflow::Error& e) {
    std::fprintf(stderr, "%s: %s\n", tool, e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", tool, e.what());
    return 1;
  }
}
