// decode_fuzzer.hpp: the body shared by the decode-into-span fuzz targets
// (one small .cpp per codec supplies the codec and its reference check).
//
// Input layout: 3 bytes (little-endian) choose the destination size, modulo
// max_dst + 1; the rest is the compressed input. tests/fuzz/make_corpus.cpp
// writes seeds in this layout.
//
// Invariants checked on every input:
//  - the decode writes nothing outside the destination (guard bytes), returns
//    at most the destination size, and fails only with decoflow::Error of a
//    code decoder.hpp documents (anything else escaping is a finding);
//  - a Decoder reused across inputs (after errors too, as each engine thread's
//    is) gives exactly what a fresh Decoder gives: same outcome, same bytes;
//  - the codec's own reference check (the library decoflow wraps, called
//    directly), when the target supplies one.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "decoflow/codec.hpp"
#include "decoflow/decoder.hpp"
#include "decoflow/error.hpp"
#include "fuzz_support.hpp"

namespace decoflow::fuzz {

/// A decode's outcome: bytes written, or the error code.
struct DecodeOutcome {
  bool ok = false;
  std::size_t written = 0;
  ErrorCode code = ErrorCode::internal;
};

/// Decodes with `decoder` into a fresh guarded span of `dst_size` bytes and
/// checks the span invariants. The span is returned for content checks.
inline DecodeOutcome guarded_decode(Decoder& decoder, Codec codec, ConstBytes src,
                                    GuardedSpan& dst) {
  DecodeOutcome outcome;
  try {
    outcome.written = decoder.decode_into(codec, src, dst.span());
    outcome.ok = true;
  } catch (const Error& e) {
    DECOFLOW_FUZZ_CHECK(is_decode_error(e.code()), "%s: undocumented error code: %s",
                        std::string(to_string(codec)).c_str(), e.what());
    DECOFLOW_FUZZ_CHECK(!e.cause().empty(), "%s: error without a cause",
                        std::string(to_string(codec)).c_str());
    outcome.code = e.code();
  }
  // Any other exception (std::bad_alloc, std::length_error, ...) escapes to
  // libFuzzer, which reports it as a crash: decoflow promises Error only.
  DECOFLOW_FUZZ_CHECK(dst.guards_intact(), "%s: wrote outside the destination of %zu bytes",
                      std::string(to_string(codec)).c_str(), dst.size());
  DECOFLOW_FUZZ_CHECK(!outcome.ok || outcome.written <= dst.size(),
                      "%s: returned %zu bytes for a destination of %zu",
                      std::string(to_string(codec)).c_str(), outcome.written, dst.size());
  return outcome;
}

/// The whole target body. `reference(src, dst_size, outcome, decoded)` runs
/// the codec's own check; it may be null.
template <typename Reference>
int run_decode_fuzzer(Codec codec, const std::uint8_t* data, std::size_t size,
                      std::size_t max_dst, Reference&& reference) {
  Reader reader(data, size);
  const std::size_t dst_size = reader.u24() % (max_dst + 1);
  const ConstBytes src = reader.rest();

  // One Decoder for the whole fuzzing run, like an engine thread's.
  static Decoder reused;
  GuardedSpan first(dst_size);
  const DecodeOutcome a = guarded_decode(reused, codec, src, first);

  Decoder fresh;
  GuardedSpan second(dst_size);
  const DecodeOutcome b = guarded_decode(fresh, codec, src, second);
  DECOFLOW_FUZZ_CHECK(a.ok == b.ok && (a.ok ? a.written == b.written : a.code == b.code),
                      "reused and fresh Decoder disagree: ok %d/%d, written %zu/%zu, code %s/%s",
                      a.ok, b.ok, a.written, b.written, std::string(to_string(a.code)).c_str(),
                      std::string(to_string(b.code)).c_str());
  DECOFLOW_FUZZ_CHECK(!a.ok || std::memcmp(first.data(), second.data(), a.written) == 0,
                      "reused and fresh Decoder wrote different bytes");

  // A chunk of a framed codec always holds a frame: empty input is corrupt
  // (zstd itself reads no frame from no bytes and calls that success). Raw
  // and ROOT blocks take it as empty data; their references check that.
  if (src.empty() && codec != Codec::raw && codec != Codec::root_blocks) {
    DECOFLOW_FUZZ_CHECK(!a.ok && a.code == ErrorCode::corrupt_input, "empty input accepted");
    return 0;
  }
  reference(src, dst_size, a, ConstBytes(first.data(), a.ok ? a.written : 0));
  return 0;
}

}  // namespace decoflow::fuzz
