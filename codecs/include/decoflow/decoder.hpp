// decoflow/decoder.hpp: decoding one chunk straight into a caller's span.
#pragma once

#include <cstddef>
#include <memory>

#include "decoflow/bytes.hpp"
#include "decoflow/codec.hpp"

namespace decoflow {

/// Whether root_blocks_into verifies the checksums inside ROOT blocks (the
/// XXH64 of each "L4" block's payload).
enum class BlockChecksums {
  verify,
  /// The caller has verified a checksum over all of the input (an RNTuple
  /// page's xxHash3 covers its blocks, headers and checksums included): the
  /// blocks' own would hash the same bytes a second time.
  covered,
};

/// Per-thread decoding state: a zstd context, an lz4 frame context, a libdeflate
/// decompressor and an lzma stream, each created on first use and reused for every
/// later chunk, so that steady-state decoding allocates nothing.
///
/// Every decode writes only inside `dst` (never a byte past it, whatever the
/// input), returns the number of bytes written (which may be less than
/// dst.size() for formats whose size is not implied; callers that know the exact
/// size compare), and throws decoflow::Error on failure:
///  - ErrorCode::corrupt_input for malformed, truncated or trailing data;
///  - ErrorCode::size_mismatch when the content does not fit `dst`, or a size
///    declared in the input disagrees with what decoding produced;
///  - ErrorCode::checksum_mismatch for a failed L4 XXH64 or lz4 frame checksum;
///  - ErrorCode::unsupported_format for ROOT "CS" blocks and unknown algorithms;
///  - ErrorCode::resource_error when a context cannot be allocated.
/// After an error the Decoder stays usable.
///
/// Thread-safety: a Decoder is used by one thread at a time (keep one per
/// thread); different Decoders are independent.
class Decoder {
 public:
  Decoder();
  ~Decoder();
  Decoder(Decoder&&) noexcept;
  Decoder& operator=(Decoder&&) noexcept;
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  /// Decodes `src`, compressed with `codec`, into `dst`. Returns bytes written.
  std::size_t decode_into(Codec codec, ConstBytes src, MutableBytes dst);

  /// Copies src into dst; size_mismatch when src is larger than dst.
  std::size_t raw_into(ConstBytes src, MutableBytes dst);
  /// One or more zstd frames, skippable frames skipped. A frame whose header
  /// declares a content size must produce exactly that many bytes.
  std::size_t zstd_into(ConstBytes src, MutableBytes dst);
  /// One raw lz4 block (its decoded size comes from the container: callers
  /// compare the return value with what they expect).
  std::size_t lz4_block_into(ConstBytes src, MutableBytes dst);
  /// One or more lz4 frames; block and content checksums are verified when present.
  std::size_t lz4_frame_into(ConstBytes src, MutableBytes dst);
  /// A ROOT basket payload (after its TKey): one or more 9-byte-header blocks
  /// back to back, each decoded by its algorithm, which must fill dst exactly;
  /// or, when src.size() == dst.size(), the basket stored raw.
  std::size_t root_blocks_into(ConstBytes src, MutableBytes dst,
                               BlockChecksums checksums = BlockChecksums::verify);

 private:
  struct Contexts;
  std::unique_ptr<Contexts> contexts_;
};

/// The calling thread's Decoder, created on first use: every stage that
/// decodes on an engine thread shares it, so a thread holds one set of codec
/// contexts. Thread-safe (each thread gets its own).
Decoder& thread_decoder();

}  // namespace decoflow
