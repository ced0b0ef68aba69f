// decoflow/frames_file.hpp: ready-made graphs for whole compressed files —
// a multi-frame zstd / independent-block lz4 file into one output, and a
// table of ROOT block-framed chunks into slices of one array.
//
// Two ways to decode a frames file, chosen by what its FrameScan knows:
//
//   (a) sizes known (every piece has decoded_size: `zstd` outputs with content
//       sizes, the zstd seekable format, lz4 frames with a content size):
//
//         piece i ──► decode ──► slice [prefix_sum(i), +decoded_size(i)) of one array
//                                (the array may be a MAP_SHARED map of the output file)
//
//   (b) sizes unknown (`pzstd` output, the `lz4` CLI's default frames):
//
//         piece i ──► decode ──► engine scratch of max_decoded_size ──► place (ordered)
//                                                                  running offset, lz4 content
//                                                                  checksums, sink(offset, bytes)
//
// Both paths verify lz4 content checksums (XXH32 streamed over each frame's
// pieces in order) in an ordered stage when asked to.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "decoflow/bytes.hpp"
#include "decoflow/destination.hpp"
#include "decoflow/executor.hpp"
#include "decoflow/frame_scan.hpp"
#include "decoflow/graph.hpp"
#include "decoflow/graph_run.hpp"
#include "decoflow/input.hpp"

namespace decoflow {

/// Which pipeline decodes a frames file.
enum class FramesPath : std::uint8_t {
  slices,   ///< (a) every decoded size known: each piece decodes straight into its slice
  ordered,  ///< (b) sizes unknown: pieces decode into scratch, an ordered stage places them
};

/// "slices" or "ordered". Thread-safe.
std::string_view to_string(FramesPath path) noexcept;

/// The total decoded size of a scan whose sizes are all known (scan.sizes_known).
/// Throws Error(invalid_argument) when a piece has no decoded_size. Thread-safe.
std::uint64_t decoded_size(const FrameScan& scan);

/// Options shared by the frames-file graphs.
struct FramesOptions {
  /// Graph name used in errors ("graph 'NAME', node 'decode', chunk 17: ...");
  /// empty: the input's path, or "frames" for an input that is not a file.
  std::string name;
  /// Verify the lz4 content checksums listed in the scan (a serial XXH32 pass
  /// over the output, overlapped with decoding). zstd frame checksums are always
  /// verified by zstd, lz4 block checksums always by the scan.
  bool verify_content_checksums = true;
  /// decode_frames_to_fd() only: use path (a) when the scan knows every size
  /// and the output is a regular file; false forces path (b).
  bool prefer_slices = true;
  /// decode_frames_to_fd() only: write the descriptor in order with write()
  /// (a pipe, stdout), never sizing, mapping or seeking it; implies path (b).
  bool sequential_output = false;
  /// decode_frames_to_fd() only: names the output in io_error messages.
  std::string output_name = "the output";
};

/// Builds path (a): piece i of `scan` (read from `input`) decodes into
/// `array` at `dest_offset` + the decoded sizes of the pieces before it. Chunk i
/// is piece i (errors name it as the chunk), with tag = the piece's file offset.
/// Stages: "decode", then "verify" (ordered) when the scan lists content
/// checksums and options ask for them.
/// Throws Error(invalid_argument) when a size is unknown, or when the decoded
/// bytes do not fit in `array` from `dest_offset`. Thread-safe for distinct
/// arguments; the graph keeps `input` and `array` alive.
Graph frames_to_array_graph(std::shared_ptr<const InputBuffer> input, const FrameScan& scan,
                            std::shared_ptr<DestinationArray> array, std::uint64_t dest_offset = 0,
                            const FramesOptions& options = {});

/// Receives decoded bytes in stream order: `offset` is where `bytes` start in
/// the decoded output (a running prefix sum); successive calls are contiguous
/// and never overlap. Called by one engine thread at a time; `bytes` are valid
/// only during the call. Throw decoflow::Error to fail the run (e.g. io_error).
using FramesSink = std::function<void(std::uint64_t offset, ConstBytes bytes)>;

/// Builds path (b): piece i decodes into engine scratch of max_decoded_size
/// bytes, then the ordered stage "place" verifies lz4 content checksums (when
/// asked) and calls `sink` with the bytes produced, in piece order. Works for
/// any scan (sizes known or not). A content checksum mismatch fails the run
/// with Error(checksum_mismatch) naming the frame's pieces and byte range.
/// Submitting the graph again starts over at offset 0.
/// Example, into a std::vector:
///   `frames_to_sink_graph(in, scan, [&](std::uint64_t, ConstBytes b) {
///      out.insert(out.end(), b.begin(), b.end()); })`
/// Throws Error(invalid_argument) for a null sink. The graph keeps `input` and
/// the sink alive; the sink must outlive no state it refers to. Thread-safe for
/// distinct arguments.
Graph frames_to_sink_graph(std::shared_ptr<const InputBuffer> input, const FrameScan& scan,
                           FramesSink sink, const FramesOptions& options = {});

/// A sink that writes to a file descriptor: pwrite() at each offset when
/// `positioned` (a regular file), otherwise write() in order (a pipe, stdout:
/// the offsets are contiguous, so the stream is the output). Retries short
/// writes and EINTR; throws Error(io_error) naming `what` (a path, "stdout"),
/// the offset and the system's reason. The caller keeps `fd` open while the
/// graph runs. Thread-safe as a FramesSink is called: one call at a time.
FramesSink fd_sink(int fd, std::string what, bool positioned);

/// What a finished frames-file decode did.
struct FramesResult {
  FramesPath path = FramesPath::slices;
  std::uint64_t bytes_in = 0;    ///< size of the input file
  std::uint64_t bytes_out = 0;   ///< decoded bytes written
  std::uint64_t pieces = 0;      ///< independently decoded pieces (zstd frames, lz4 blocks)
  std::uint64_t content_checksums_verified = 0;  ///< lz4 content checksums checked
  std::uint64_t zstd_checksums_verified = 0;     ///< zstd frames with a checksum (zstd checks them)
};

/// A frames-file decode in flight, started by decode_frames_to_fd(). Read its
/// progress through run(), then call finish() once.
///
/// Thread-safety: run() may be used from any thread; finish() from one thread.
class FramesDecode {
 public:
  FramesDecode(FramesDecode&&) noexcept;
  FramesDecode& operator=(FramesDecode&&) noexcept;
  /// Cancels and waits for a run that has not finished (so nothing writes to
  /// the caller's descriptor afterwards), then releases the output mapping.
  ~FramesDecode();

  /// The path chosen.
  FramesPath path() const noexcept;
  /// The scan of the input (pieces, sizes, checksums).
  const FrameScan& scan() const noexcept;
  /// The running graph: progress(), wait_for(), cancel().
  const GraphRun& run() const noexcept;

  /// Waits for the run, then completes the output: path (a) unmaps the file
  /// mapping, path (b) truncates a regular file to the bytes written. Throws
  /// the run's decoflow::Error, its cause extended with the failing piece's
  /// codec and byte range in the input ("piece 17: zstd frame at byte 123456,
  /// 7890 bytes"). The output is then partly written: removing it is the
  /// caller's choice.
  FramesResult finish();

 private:
  struct State;
  friend FramesDecode decode_frames_to_fd(Executor&, std::shared_ptr<const InputBuffer>,
                                          FrameScan, int, const FramesOptions&);
  explicit FramesDecode(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// Starts decoding `input`, whose pieces `scan` lists (scan_frames() of the
/// same bytes: scanning first lets a caller refuse a bad input before it
/// touches the output), into the file descriptor `fd`. Path (a) when every
/// size is known, `fd` is a regular file opened read-write, and options allow
/// it: the file is ftruncate'd to the decoded size and mapped MAP_SHARED, and
/// pieces decode straight into the mapping (no copy). Otherwise path (b),
/// writing through fd_sink() (pwrite at each offset into a regular file, which
/// finish() truncates to the decoded size; write() in order to anything else or
/// with options.sequential_output).
/// Throws decoflow::Error before anything is decoded: io_error when the output
/// cannot be examined, sized or mapped, invalid_argument for a null input,
/// checksum_mismatch for an empty lz4 frame with a wrong checksum. The caller
/// keeps `fd` open until finish() returns or throws, or the FramesDecode is
/// destroyed (which cancels and waits for an unfinished run).
/// Thread-safety: as Executor::submit(); distinct calls are independent.
FramesDecode decode_frames_to_fd(Executor& executor, std::shared_ptr<const InputBuffer> input,
                                 FrameScan scan, int fd, const FramesOptions& options = {});

/// One ROOT block-framed chunk of a file (a basket payload after its TKey): its
/// compressed bytes in the file and where its decoded bytes go.
struct RootBlockChunk {
  std::uint64_t file_offset = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t decoded_size = 0;
  std::uint64_t dest_offset = 0;
};

/// Builds a graph that decodes every chunk of `table` (codec root_blocks) from
/// `file` into its slice [dest_offset, +decoded_size) of `array`, then, when
/// `byteswap_width` is 2, 4 or 8, reverses each element's byte order (big-endian
/// ROOT data to native). Chunk i is table[i], with tag = i. Throws
/// Error(invalid_argument) for a width other than 1, 2, 4, 8; slices and input
/// ranges are checked by Executor::submit(). Thread-safe for distinct arguments.
Graph root_blocks_graph(std::shared_ptr<const InputBuffer> file,
                        std::span<const RootBlockChunk> table,
                        std::shared_ptr<DestinationArray> array, unsigned byteswap_width = 1,
                        std::string name = "root_blocks");

}  // namespace decoflow
