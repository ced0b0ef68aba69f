// Fuzz target: scan_zstd_frames (zstd, pzstd and seekable-format files), then
// each piece decoded into its announced bound. See scan_fuzzer.hpp.
#include "scan_fuzzer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return decoflow::fuzz::run_scan_fuzzer(data, size, decoflow::scan_zstd_frames, false);
}
