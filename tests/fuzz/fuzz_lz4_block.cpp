// Fuzz target: Decoder::lz4_block_into (one raw lz4 block) against
// LZ4_decompress_safe called directly: same outcome, same bytes.
#include <lz4.h>

#include <memory>

#include "decode_fuzzer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace decoflow;
  return fuzz::run_decode_fuzzer(
      Codec::lz4_block, data, size, std::size_t{1} << 20,
      [](ConstBytes src, std::size_t dst_size, const fuzz::DecodeOutcome& ours, ConstBytes decoded) {
        std::unique_ptr<char[]> expected(new char[dst_size + 1]);
        const int got = LZ4_decompress_safe(reinterpret_cast<const char*>(src.data()), expected.get(),
                                            static_cast<int>(src.size()), static_cast<int>(dst_size));
        if (got < 0) {
          DECOFLOW_FUZZ_CHECK(!ours.ok, "decoflow accepted what lz4 refuses");
          DECOFLOW_FUZZ_CHECK(ours.code == ErrorCode::corrupt_input, "code %s for a malformed block",
                              std::string(to_string(ours.code)).c_str());
          return;
        }
        const auto n = static_cast<std::size_t>(got);
        DECOFLOW_FUZZ_CHECK(ours.ok, "decoflow refused what lz4 decodes to %zu bytes", n);
        DECOFLOW_FUZZ_CHECK(ours.written == n && std::memcmp(decoded.data(), expected.get(), n) == 0,
                            "decoded %zu bytes, lz4 decodes %zu (or different bytes)", ours.written, n);
      });
}
