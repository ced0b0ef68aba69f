// Fuzz target: Decoder::lz4_frame_into (one or more LZ4F frames, linked or
// independent blocks, checksums verified) against LZ4F streaming decompression
// called directly into a buffer one byte larger than the destination.
#include <lz4frame.h>

#include <memory>

#include "decode_fuzzer.hpp"

namespace {

struct Reference {
  bool clean = false;  // every frame ended, no error, all input consumed
  std::size_t produced = 0;
};

// Plain LZ4F: decode everything the input holds, up to `capacity` bytes.
Reference lz4f_reference(decoflow::ConstBytes src, std::byte* out, std::size_t capacity) {
  // A fresh context every time: a reset one keeps an aborted frame's
  // remaining content size (the lz4 1.9.4 trap this target found in decoflow).
  LZ4F_dctx* created = nullptr;
  LZ4F_createDecompressionContext(&created, LZ4F_VERSION);
  const std::unique_ptr<LZ4F_dctx, decltype(&LZ4F_freeDecompressionContext)> owner(
      created, &LZ4F_freeDecompressionContext);
  LZ4F_dctx* const dctx = owner.get();
  LZ4F_decompressOptions_t options{};
  options.stableDst = 1;
  Reference ref;
  std::size_t in = 0;
  std::size_t hint = 1;
  while (in < src.size()) {
    std::size_t in_size = src.size() - in;
    std::size_t out_size = capacity - ref.produced;
    hint = LZ4F_decompress(dctx, out + ref.produced, &out_size, src.data() + in, &in_size, &options);
    if (LZ4F_isError(hint)) return ref;
    in += in_size;
    ref.produced += out_size;
    if (in_size == 0 && out_size == 0) return ref;  // stuck: output does not fit
  }
  ref.clean = hint == 0;
  return ref;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace decoflow;
  return fuzz::run_decode_fuzzer(
      Codec::lz4_frame, data, size, std::size_t{1} << 20,
      [](ConstBytes src, std::size_t dst_size, const fuzz::DecodeOutcome& ours, ConstBytes decoded) {
        // One spare byte tells "fits exactly" from "larger than the destination".
        std::unique_ptr<std::byte[]> expected(new std::byte[dst_size + 1]);
        const Reference ref = lz4f_reference(src, expected.get(), dst_size + 1);
        const bool fits = ref.clean && ref.produced <= dst_size;
        DECOFLOW_FUZZ_CHECK(ours.ok == fits,
                            "decoflow %s (%s), LZ4F: clean %d, %zu bytes, destination %zu",
                            ours.ok ? "accepted" : "refused", std::string(to_string(ours.code)).c_str(),
                            ref.clean, ref.produced, dst_size);
        if (!ours.ok) return;
        DECOFLOW_FUZZ_CHECK(ours.written == ref.produced &&
                                std::memcmp(decoded.data(), expected.get(), ref.produced) == 0,
                            "decoded %zu bytes, LZ4F decodes %zu (or different bytes)", ours.written,
                            ref.produced);
      });
}
