// Fuzz target: Decoder::raw_into: a copy when the input fits, size_mismatch
// when it does not, and never a byte outside the destination.
#include "decode_fuzzer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace decoflow;
  return fuzz::run_decode_fuzzer(
      Codec::raw, data, size, std::size_t{1} << 16,
      [](ConstBytes src, std::size_t dst_size, const fuzz::DecodeOutcome& ours, ConstBytes decoded) {
        if (src.size() > dst_size) {
          DECOFLOW_FUZZ_CHECK(!ours.ok && ours.code == ErrorCode::size_mismatch,
                              "%zu bytes into %zu: expected size_mismatch", src.size(), dst_size);
          return;
        }
        DECOFLOW_FUZZ_CHECK(ours.ok && ours.written == src.size(), "raw copy of %zu bytes failed",
                            src.size());
        DECOFLOW_FUZZ_CHECK(src.empty() || std::memcmp(decoded.data(), src.data(), src.size()) == 0,
                            "raw copy differs from its input");
      });
}
