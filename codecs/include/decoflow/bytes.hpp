// decoflow/bytes.hpp: the byte-span vocabulary shared by codecs and engine.
#pragma once

#include <cstddef>
#include <span>

namespace decoflow {

/// Read-only bytes (compressed input, a file mapping).
using ConstBytes = std::span<const std::byte>;
/// Writable bytes (a destination slice, scratch). Decoders never write outside it.
using MutableBytes = std::span<std::byte>;

}  // namespace decoflow
