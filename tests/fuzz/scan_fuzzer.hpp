// scan_fuzzer.hpp: the body shared by the frame-scanner fuzz targets
// (scan_zstd_frames, scan_lz4_frames). The fuzz input is the whole file.
//
// A scan of untrusted bytes must either throw decoflow::Error or return a
// table decoflow-decode can trust to build a graph from: pieces in file order,
// inside the file, not overlapping; known sizes within their bounds; checksum
// ranges naming real pieces. Then every piece (up to a budget) is decoded as
// the ordered path would decode it, into a guarded span of its
// max_decoded_size, which must hold whatever the piece decodes to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <zstd.h>

#include "decoflow/decoder.hpp"
#include "decoflow/error.hpp"
#include "decoflow/frame_scan.hpp"
#include "fuzz_support.hpp"

namespace decoflow::fuzz {

inline bool is_scan_error(ErrorCode code) {
  return code_in(code, {ErrorCode::corrupt_input, ErrorCode::unsupported_format,
                        ErrorCode::size_mismatch, ErrorCode::checksum_mismatch});
}

inline void check_scan(const FrameScan& scan, ConstBytes file, bool lz4) {
  std::size_t end = 0;
  bool all_known = true;
  for (std::size_t i = 0; i < scan.pieces.size(); ++i) {
    const FramePiece& p = scan.pieces[i];
    DECOFLOW_FUZZ_CHECK(p.offset >= end && p.offset <= file.size() && p.size <= file.size() - p.offset,
                        "piece %zu [%zu, +%zu) overlaps the previous one or leaves a file of %zu",
                        i, p.offset, p.size, file.size());
    end = p.offset + p.size;
    DECOFLOW_FUZZ_CHECK(lz4 ? (p.codec == Codec::lz4_block || p.codec == Codec::raw) : p.codec == Codec::zstd,
                        "piece %zu has codec %s", i, std::string(to_string(p.codec)).c_str());
    DECOFLOW_FUZZ_CHECK(!p.decoded_size || *p.decoded_size <= p.max_decoded_size,
                        "piece %zu: decoded size %llu above its bound %llu", i,
                        static_cast<unsigned long long>(p.decoded_size.value_or(0)),
                        static_cast<unsigned long long>(p.max_decoded_size));
    DECOFLOW_FUZZ_CHECK(p.codec != Codec::raw || (p.decoded_size && *p.decoded_size == p.size),
                        "stored piece %zu does not decode to its own size", i);
    all_known = all_known && p.decoded_size.has_value();
  }
  DECOFLOW_FUZZ_CHECK(scan.sizes_known == all_known, "sizes_known is %d", scan.sizes_known);
  for (const FrameScan::ContentChecksum& c : scan.content_checksums) {
    DECOFLOW_FUZZ_CHECK(lz4 && c.first_piece <= c.end_piece && c.end_piece <= scan.pieces.size(),
                        "content checksum over pieces [%zu, %zu) of %zu", c.first_piece, c.end_piece,
                        scan.pieces.size());
  }
}

// Decodes each piece as decoflow-decode's ordered path does; bounded so that
// one input costs at most a few MiB of output.
inline void decode_pieces(const FrameScan& scan, ConstBytes file) {
  static Decoder decoder;
  std::uint64_t budget = std::uint64_t{4} << 20;
  for (std::size_t i = 0; i < scan.pieces.size() && i < 256; ++i) {
    const FramePiece& p = scan.pieces[i];
    if (p.max_decoded_size > budget) return;
    budget -= p.max_decoded_size;
    GuardedSpan out(static_cast<std::size_t>(p.max_decoded_size));
    try {
      const std::size_t written = decoder.decode_into(p.codec, file.subspan(p.offset, p.size), out.span());
      DECOFLOW_FUZZ_CHECK(written <= out.size(), "piece %zu: %zu bytes into %zu", i, written, out.size());
      // zstd holds a frame to the content size its header declares. (A size
      // that only a seek table gives may lie: the slices path then fails with
      // size_mismatch, as the engine requires slices filled exactly.)
      const unsigned long long declared =
          p.codec == Codec::zstd ? ZSTD_getFrameContentSize(file.data() + p.offset, p.size)
                                 : ZSTD_CONTENTSIZE_UNKNOWN;
      DECOFLOW_FUZZ_CHECK(declared >= ZSTD_CONTENTSIZE_ERROR || written == declared,
                          "zstd piece %zu decoded to %zu bytes, its header says %llu", i, written, declared);
      DECOFLOW_FUZZ_CHECK(p.codec != Codec::raw || written == p.size, "stored piece %zu", i);
    } catch (const Error& e) {
      DECOFLOW_FUZZ_CHECK(is_decode_error(e.code()), "piece %zu: undocumented error %s", i, e.what());
    }
    DECOFLOW_FUZZ_CHECK(out.guards_intact(), "piece %zu: wrote outside its %zu bytes", i, out.size());
  }
}

template <typename Scan>
int run_scan_fuzzer(const std::uint8_t* data, std::size_t size, Scan&& scan_fn, bool lz4) {
  const ConstBytes file(reinterpret_cast<const std::byte*>(data), size);
  // The dispatcher sees the same bytes: it may pick either scanner, or refuse.
  try {
    (void)scan_frames(file);
  } catch (const Error& e) {
    DECOFLOW_FUZZ_CHECK(is_scan_error(e.code()), "undocumented scan_frames error %s", e.what());
  }
  FrameScan scan;
  try {
    scan = scan_fn(file);
  } catch (const Error& e) {
    DECOFLOW_FUZZ_CHECK(is_scan_error(e.code()), "undocumented scan error %s", e.what());
    DECOFLOW_FUZZ_CHECK(!e.cause().empty(), "scan error without a cause");
    return 0;
  }
  check_scan(scan, file, lz4);
  decode_pieces(scan, file);
  return 0;
}

}  // namespace decoflow::fuzz
