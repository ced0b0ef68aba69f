// Fuzz target: Decoder::root_blocks_into, the ROOT basket parser (9-byte block
// headers "ZS", "L4", "ZL", "XZ", "CS"; several blocks back to back; a basket
// stored raw when its input is as large as its destination). Seeds are real
// baskets of ../shared/testdata/root/*.root (make_corpus.cpp).
//
// Beyond the shared invariants: a success fills the destination exactly, and
// its block headers' uncompressed sizes add up to it; an input as large as
// the destination is a plain copy.
#include "decode_fuzzer.hpp"

namespace {

std::size_t le24(const std::byte* p) {
  return static_cast<std::size_t>(p[0]) | static_cast<std::size_t>(p[1]) << 8 |
         static_cast<std::size_t>(p[2]) << 16;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace decoflow;
  return fuzz::run_decode_fuzzer(
      Codec::root_blocks, data, size, std::size_t{1} << 20,
      [](ConstBytes src, std::size_t dst_size, const fuzz::DecodeOutcome& ours, ConstBytes decoded) {
        if (src.size() == dst_size) {
          DECOFLOW_FUZZ_CHECK(ours.ok && ours.written == dst_size &&
                                  (dst_size == 0 || std::memcmp(decoded.data(), src.data(), dst_size) == 0),
                              "a basket stored raw (%zu bytes) was not copied as it is", dst_size);
          return;
        }
        if (!ours.ok) return;
        DECOFLOW_FUZZ_CHECK(ours.written == dst_size, "decoded %zu bytes into a basket of %zu",
                            ours.written, dst_size);
        std::size_t in = 0;
        std::size_t total = 0;
        while (in < src.size()) {
          DECOFLOW_FUZZ_CHECK(src.size() - in >= 9, "accepted a truncated block header at byte %zu", in);
          const std::size_t compressed = le24(src.data() + in + 3);
          total += le24(src.data() + in + 6);
          in += 9 + compressed;
        }
        DECOFLOW_FUZZ_CHECK(in == src.size() && total == dst_size,
                            "accepted blocks of %zu bytes in / %zu out for %zu / %zu", in, total,
                            src.size(), dst_size);
      });
}
