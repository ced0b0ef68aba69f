// Fuzz target: scan_lz4_frames (lz4 CLI frames with independent blocks, block
// and content checksums, content sizes), then each piece decoded into its
// announced bound. See scan_fuzzer.hpp.
#include "scan_fuzzer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return decoflow::fuzz::run_scan_fuzzer(data, size, decoflow::scan_lz4_frames, true);
}
