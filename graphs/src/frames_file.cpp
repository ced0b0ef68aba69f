// Frames files and ROOT block tables as engine graphs (see frames_file.hpp for
// the two paths). Everything per chunk runs inside engine stages: the only
// state added here is one checksum / placement record per graph, allocated
// when the graph is built.
#include "decoflow/frames_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#define XXH_STATIC_LINKING_ONLY  // XXH32_state_t by value: no allocation per graph run
#include <xxhash.h>
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getFrameHeader
#include <zstd.h>

#include "decoflow/error.hpp"
#include "decoflow/stage.hpp"

namespace decoflow {

namespace {

std::string num(std::uint64_t value) { return std::to_string(value); }

std::string hex32(std::uint32_t value) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string text = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) text += digits[(value >> shift) & 0xFU];
  return text;
}

std::string graph_name(const FramesOptions& options, const InputBuffer& input) {
  if (!options.name.empty()) return options.name;
  return input.path().empty() ? std::string("frames") : input.path();
}

std::string_view piece_kind(Codec codec) {
  switch (codec) {
    case Codec::zstd: return "zstd frame";
    case Codec::lz4_block: return "lz4 block";
    case Codec::raw: return "stored lz4 block";
    default: return "piece";
  }
}

/// Input byte range of pieces [first, end) as "bytes A..B of the input".
std::string piece_range(const FrameScan& scan, std::size_t first, std::size_t end) {
  if (first >= end) return "no bytes";
  const FramePiece& last = scan.pieces[end - 1];
  return "input bytes " + num(scan.pieces[first].offset) + ".." + num(last.offset + last.size);
}

/// lz4 content checksums: XXH32 streamed over each frame's pieces, fed in
/// piece order by an ordered stage (so no locking). Frames without pieces are
/// checked when the graph is built.
class ContentChecks {
 public:
  explicit ContentChecks(const FrameScan& scan) {
    for (const FrameScan::ContentChecksum& sum : scan.content_checksums) {
      if (sum.first_piece == sum.end_piece) {
        const std::uint32_t empty = XXH32(nullptr, 0, 0);
        if (empty != sum.xxh32) {
          throw Error(ErrorCode::checksum_mismatch,
                      "lz4: content checksum mismatch for an empty frame before piece " +
                          num(sum.first_piece) + ": stored " + hex32(sum.xxh32) + ", computed " +
                          hex32(empty));
        }
        ++empty_verified_;
        continue;
      }
      Frame frame{sum.first_piece, sum.end_piece, sum.xxh32, piece_range(scan, sum.first_piece, sum.end_piece)};
      frames_.push_back(std::move(frame));
    }
  }

  bool empty() const noexcept { return frames_.empty() && empty_verified_ == 0; }
  std::uint64_t verified() const noexcept { return verified_ + empty_verified_; }

  /// Feeds piece `index`'s decoded bytes; pieces arrive in order, each once.
  void feed(std::size_t index, ConstBytes bytes) {
    if (index == 0) {  // a new run of the graph
      next_ = 0;
      verified_ = 0;
    }
    if (next_ == frames_.size()) return;
    const Frame& frame = frames_[next_];
    if (index < frame.first) return;
    if (index == frame.first) XXH32_reset(&state_, 0);
    XXH32_update(&state_, bytes.data(), bytes.size());
    if (index + 1 == frame.end) {
      const std::uint32_t computed = XXH32_digest(&state_);
      if (computed != frame.xxh32) {
        throw Error(ErrorCode::checksum_mismatch,
                    "lz4: content checksum mismatch for the frame of pieces " + num(frame.first) +
                        ".." + num(frame.end - 1) + " (" + frame.range + "): stored " +
                        hex32(frame.xxh32) + ", computed " + hex32(computed));
      }
      ++verified_;
      ++next_;
    }
  }

 private:
  struct Frame {
    std::size_t first;
    std::size_t end;
    std::uint32_t xxh32;
    std::string range;
  };
  std::vector<Frame> frames_;
  std::uint64_t empty_verified_ = 0;
  std::size_t next_ = 0;
  std::uint64_t verified_ = 0;
  XXH32_state_t state_{};
};

/// Path (b)'s ordered "place" stage: checks known sizes and checksums, then
/// hands each piece to the sink at the running offset.
struct Placement {
  FramesSink sink;
  std::vector<std::uint64_t> expected;  // per piece: decoded size, or unknown_size
  std::shared_ptr<ContentChecks> checks;  // null: not verified
  std::uint64_t offset = 0;               // bytes placed so far in this run
  static constexpr std::uint64_t unknown_size = ~std::uint64_t{0};

  void place(const ChunkView& view) {
    if (view.index == 0) offset = 0;
    const std::uint64_t want = expected[view.index];
    if (want != unknown_size && want != view.output.size()) {
      throw Error(ErrorCode::size_mismatch, "decoded " + num(view.output.size()) +
                                                " bytes, the file declares " + num(want));
    }
    if (checks) checks->feed(view.index, view.output);
    if (!view.output.empty()) sink(offset, view.output);
    offset += view.output.size();
  }
};

std::shared_ptr<ContentChecks> make_checks(const FrameScan& scan, const FramesOptions& options) {
  if (!options.verify_content_checksums || scan.content_checksums.empty()) return nullptr;
  return std::make_shared<ContentChecks>(scan);
}

Graph build_array_graph(std::shared_ptr<const InputBuffer> input, const FrameScan& scan,
                        std::shared_ptr<DestinationArray> array, std::uint64_t dest_offset,
                        const FramesOptions& options, const std::shared_ptr<ContentChecks>& checks) {
  if (!input || !array) throw Error(ErrorCode::invalid_argument, "frames graph: null input or array");
  const std::uint64_t total = decoded_size(scan);
  if (dest_offset > array->size() || total > array->size() - dest_offset) {
    throw Error(ErrorCode::invalid_argument,
                "frames graph: " + num(total) + " decoded bytes at offset " + num(dest_offset) +
                    " do not fit an array of " + num(array->size()) + " bytes");
  }
  Graph graph(graph_name(options, *input));
  const std::uint32_t in = graph.add_input(std::move(input));
  const std::uint32_t out = graph.add_array(std::move(array));
  graph.add_stage(Stage::decode());
  if (checks) {
    graph.add_stage(Stage::ordered("verify", [checks](const ChunkView& view) {
      checks->feed(view.index, view.output);
    }));
  }
  graph.reserve_chunks(scan.pieces.size());
  std::uint64_t offset = dest_offset;
  for (const FramePiece& piece : scan.pieces) {
    graph.add_chunk({.input = in, .input_offset = piece.offset, .input_size = piece.size,
                     .array = out, .dest_offset = offset, .dest_size = *piece.decoded_size,
                     .codec = piece.codec, .tag = static_cast<std::int64_t>(piece.offset)});
    offset += *piece.decoded_size;
  }
  return graph;
}

Graph build_sink_graph(std::shared_ptr<const InputBuffer> input, const FrameScan& scan,
                       const std::shared_ptr<Placement>& placement, const FramesOptions& options) {
  if (!input) throw Error(ErrorCode::invalid_argument, "frames graph: null input");
  if (!placement->sink) throw Error(ErrorCode::invalid_argument, "frames graph: null sink");
  placement->expected.reserve(scan.pieces.size());
  for (const FramePiece& piece : scan.pieces) {
    placement->expected.push_back(piece.decoded_size.value_or(Placement::unknown_size));
  }
  Graph graph(graph_name(options, *input));
  const std::uint32_t in = graph.add_input(std::move(input));
  graph.add_stage(Stage::decode());
  graph.add_stage(Stage::ordered("place", [placement](const ChunkView& view) {
    placement->place(view);
  }));
  graph.reserve_chunks(scan.pieces.size());
  for (const FramePiece& piece : scan.pieces) {
    graph.add_chunk({.input = in, .input_offset = piece.offset, .input_size = piece.size,
                     .array = scratch_output, .dest_offset = 0,
                     .dest_size = piece.max_decoded_size, .codec = piece.codec,
                     .tag = static_cast<std::int64_t>(piece.offset)});
  }
  return graph;
}

[[noreturn]] void fail_errno(const std::string& what) {
  throw Error(ErrorCode::io_error, what + ": " + std::strerror(errno));
}

}  // namespace

std::string_view to_string(FramesPath path) noexcept {
  return path == FramesPath::slices ? "slices" : "ordered";
}

std::uint64_t decoded_size(const FrameScan& scan) {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < scan.pieces.size(); ++i) {
    if (!scan.pieces[i].decoded_size) {
      throw Error(ErrorCode::invalid_argument,
                  "piece " + num(i) + " (" + std::string(piece_kind(scan.pieces[i].codec)) +
                      " at byte " + num(scan.pieces[i].offset) + ") has no known decoded size");
    }
    total += *scan.pieces[i].decoded_size;
  }
  return total;
}

Graph frames_to_array_graph(std::shared_ptr<const InputBuffer> input, const FrameScan& scan,
                            std::shared_ptr<DestinationArray> array, std::uint64_t dest_offset,
                            const FramesOptions& options) {
  return build_array_graph(std::move(input), scan, std::move(array), dest_offset, options,
                           make_checks(scan, options));
}

Graph frames_to_sink_graph(std::shared_ptr<const InputBuffer> input, const FrameScan& scan,
                           FramesSink sink, const FramesOptions& options) {
  auto placement = std::make_shared<Placement>();
  placement->sink = std::move(sink);
  placement->checks = make_checks(scan, options);
  return build_sink_graph(std::move(input), scan, placement, options);
}

FramesSink fd_sink(int fd, std::string what, bool positioned) {
  return [fd, positioned, what = std::move(what)](std::uint64_t offset, ConstBytes bytes) {
    const std::byte* p = bytes.data();
    std::size_t left = bytes.size();
    while (left > 0) {
      const ssize_t n = positioned ? ::pwrite(fd, p, left, static_cast<off_t>(offset))
                                 : ::write(fd, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail_errno("cannot write " + num(left) + " bytes at byte " + num(offset) + " of " + what);
      }
      p += n;
      left -= static_cast<std::size_t>(n);
      offset += static_cast<std::uint64_t>(n);
    }
  };
}

// ---------------------------------------------------------------------------
// decode_frames_to_fd

struct FramesDecode::State {
  FrameScan scan;
  FramesPath path = FramesPath::slices;
  GraphRun run;
  int fd = -1;
  bool regular = false;
  std::uint64_t bytes_in = 0;
  std::shared_ptr<DestinationArray> array;  // path (a): the output mapping
  std::shared_ptr<Placement> placement;     // path (b)
  std::shared_ptr<ContentChecks> checks;
  std::uint64_t zstd_checksums = 0;
  std::string output_name;
  bool finished = false;
};

FramesDecode::FramesDecode(std::unique_ptr<State> state) : state_(std::move(state)) {}
FramesDecode::FramesDecode(FramesDecode&&) noexcept = default;

namespace {
// Never leave a run writing to a descriptor the caller is about to close.
void stop_unfinished(const GraphRun& run) {
  if (run && !run.done()) {
    GraphRun(run).cancel();
    run.wait();
  }
}
}  // namespace

FramesDecode& FramesDecode::operator=(FramesDecode&& other) noexcept {
  if (this != &other) {
    if (state_) stop_unfinished(state_->run);
    state_ = std::move(other.state_);
  }
  return *this;
}

FramesDecode::~FramesDecode() {
  if (state_) stop_unfinished(state_->run);
}

FramesPath FramesDecode::path() const noexcept { return state_->path; }
const FrameScan& FramesDecode::scan() const noexcept { return state_->scan; }
const GraphRun& FramesDecode::run() const noexcept { return state_->run; }

FramesResult FramesDecode::finish() {
  State& s = *state_;
  if (s.finished) throw Error(ErrorCode::invalid_argument, "FramesDecode::finish() called twice");
  s.finished = true;
  s.run.wait();
  s.array.reset();  // unmaps the output file (the run has dropped its graph)
  if (std::exception_ptr error = s.run.error()) {
    try {
      std::rethrow_exception(error);
    } catch (const Error& e) {
      if (e.chunk() < 0 || static_cast<std::uint64_t>(e.chunk()) >= s.scan.pieces.size()) throw;
      const auto index = static_cast<std::size_t>(e.chunk());
      const FramePiece& piece = s.scan.pieces[index];
      throw Error(e.code(),
                  e.cause() + " (piece " + num(index) + ": " + std::string(piece_kind(piece.codec)) +
                      " at " + piece_range(s.scan, index, index + 1) + ")",
                  e.graph(), e.node(), e.chunk());
    }
  }
  FramesResult result;
  result.path = s.path;
  result.bytes_in = s.bytes_in;
  result.pieces = s.scan.pieces.size();
  result.bytes_out = s.path == FramesPath::slices ? decoded_size(s.scan) : s.placement->offset;
  if (s.checks) result.content_checksums_verified = s.checks->verified();
  result.zstd_checksums_verified = s.zstd_checksums;
  if (s.path == FramesPath::ordered && s.regular &&
      ::ftruncate(s.fd, static_cast<off_t>(result.bytes_out)) != 0) {
    fail_errno("cannot truncate " + s.output_name + " to " + num(result.bytes_out) + " bytes");
  }
  return result;
}

FramesDecode decode_frames_to_fd(Executor& executor, std::shared_ptr<const InputBuffer> input,
                                 FrameScan scan, int fd, const FramesOptions& options) {
  if (!input) throw Error(ErrorCode::invalid_argument, "decode_frames_to_fd: null input");
  auto state = std::make_unique<FramesDecode::State>();
  FramesDecode::State& s = *state;
  s.scan = std::move(scan);
  s.bytes_in = input->size();
  s.fd = fd;
  s.output_name = options.output_name;
  const std::string& out_name = options.output_name;
  if (options.sequential_output) {
    s.regular = false;
  } else {
    struct stat st {};
    if (::fstat(fd, &st) != 0) fail_errno("cannot stat " + out_name);
    s.regular = S_ISREG(st.st_mode);
  }
  s.checks = make_checks(s.scan, options);
  for (const FramePiece& piece : s.scan.pieces) {
    // zstd verifies a frame's checksum while decoding it; count the frames that carry one.
    ZSTD_frameHeader header{};
    if (piece.codec == Codec::zstd &&
        ZSTD_getFrameHeader(&header, input->bytes().data() + piece.offset, piece.size) == 0 &&
        header.checksumFlag != 0) {
      ++s.zstd_checksums;
    }
  }

  Graph graph;
  if (options.prefer_slices && s.scan.sizes_known && s.regular) {
    s.path = FramesPath::slices;
    const std::uint64_t total = decoded_size(s.scan);
    if (::ftruncate(fd, static_cast<off_t>(total)) != 0) {
      fail_errno("cannot size " + out_name + " to " + num(total) + " bytes");
    }
    std::byte* data = nullptr;
    std::shared_ptr<const void> mapping;
    if (total > 0) {
      void* p = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (p == MAP_FAILED) fail_errno("cannot map " + out_name + " (" + num(total) + " bytes)");
      data = static_cast<std::byte*>(p);
      mapping = std::shared_ptr<const void>(p, [total](const void* q) {
        ::munmap(const_cast<void*>(q), total);
      });
    }
    s.array = DestinationArray::adopt(data, total, std::move(mapping));
    graph = build_array_graph(std::move(input), s.scan, s.array, 0, options, s.checks);
  } else {
    s.path = FramesPath::ordered;
    s.placement = std::make_shared<Placement>();
    s.placement->sink = fd_sink(fd, out_name, s.regular);
    s.placement->checks = s.checks;
    graph = build_sink_graph(std::move(input), s.scan, s.placement, options);
  }
  s.run = executor.submit(std::move(graph));
  return FramesDecode(std::move(state));
}

// ---------------------------------------------------------------------------
// ROOT block tables

Graph root_blocks_graph(std::shared_ptr<const InputBuffer> file,
                        std::span<const RootBlockChunk> table,
                        std::shared_ptr<DestinationArray> array, unsigned byteswap_width,
                        std::string name) {
  if (!file || !array) throw Error(ErrorCode::invalid_argument, "root_blocks_graph: null file or array");
  Graph graph(std::move(name));
  const std::uint32_t in = graph.add_input(std::move(file));
  const std::uint32_t out = graph.add_array(std::move(array));
  graph.add_stage(Stage::decode());
  if (byteswap_width != 1) graph.add_stage(Stage::byteswap(byteswap_width));
  graph.reserve_chunks(table.size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    const RootBlockChunk& c = table[i];
    graph.add_chunk({.input = in, .input_offset = c.file_offset, .input_size = c.compressed_size,
                     .array = out, .dest_offset = c.dest_offset, .dest_size = c.decoded_size,
                     .codec = Codec::root_blocks, .tag = static_cast<std::int64_t>(i)});
  }
  return graph;
}

}  // namespace decoflow
