// Fuzz target: Decoder::zstd_into (one or more zstd frames, skippable frames
// skipped) against libzstd called directly: both must agree on success or
// failure, and on every decoded byte.
#include <zstd.h>

#include <memory>

#include "decode_fuzzer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace decoflow;
  return fuzz::run_decode_fuzzer(
      Codec::zstd, data, size, std::size_t{1} << 20,
      [](ConstBytes src, std::size_t dst_size, const fuzz::DecodeOutcome& ours, ConstBytes decoded) {
        // decoflow refuses up front a first frame whose header declares more
        // than the destination holds, even where libzstd would not notice (its
        // legacy v0.5-v0.7 decoders ignore the declared size).
        const unsigned long long declared = ZSTD_getFrameContentSize(src.data(), src.size());
        if (declared < ZSTD_CONTENTSIZE_ERROR && declared > dst_size) {
          DECOFLOW_FUZZ_CHECK(!ours.ok && ours.code == ErrorCode::size_mismatch,
                              "a frame declaring %llu bytes into %zu: expected size_mismatch", declared, dst_size);
          return;
        }
        static ZSTD_DCtx* const dctx = ZSTD_createDCtx();
        std::unique_ptr<std::byte[]> expected(new std::byte[dst_size + 1]);
        const std::size_t ret = ZSTD_decompressDCtx(dctx, expected.get(), dst_size, src.data(), src.size());
        if (ZSTD_isError(ret)) {
          ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
          DECOFLOW_FUZZ_CHECK(!ours.ok, "decoflow accepted what zstd refuses (%s)", ZSTD_getErrorName(ret));
          return;
        }
        DECOFLOW_FUZZ_CHECK(ours.ok, "decoflow refused (%s) what zstd decodes to %zu bytes",
                            std::string(to_string(ours.code)).c_str(), ret);
        DECOFLOW_FUZZ_CHECK(ours.written == ret && std::memcmp(decoded.data(), expected.get(), ret) == 0,
                            "decoded %zu bytes, zstd decodes %zu (or different bytes)", ours.written, ret);
      });
}
