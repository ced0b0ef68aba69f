// Fuzz target: graph and slice validation, then the run. A graph is built from
// the fuzz bytes (chunks with arbitrary input ranges, slices, codecs, scratch
// outputs, sizes near 2^64, an optional byteswap stage, a second overlapping
// submission, a cancel) and submitted to one long-lived Executor.
//
// Input layout: flags (u8), array sizes (2 x u16), chunk count (u8), then 11
// bytes per chunk (input offset, input size, slice offset, slice size as u16;
// array, codec and "make it huge" selectors as u8); the rest is the input all
// chunks read from.
//
// Invariants:
//  - Executor::submit refuses exactly the graphs a simple model of the rules in
//    executor.hpp refuses (input range, slice range, overlap, byteswap width),
//    with invalid_argument or slice_error, and then writes nothing at all;
//  - a run writes nothing outside its slices (poison bytes) nor outside its
//    arrays (guard bytes), fails only with decoflow::Error of an expected code
//    naming a chunk marked failed, and every chunk marked done holds exactly
//    what a Decoder (and byteswap) gives for that chunk on its own.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "decoflow/byteswap.hpp"
#include "decoflow/decoder.hpp"
#include "decoflow/executor.hpp"
#include "decoflow/graph.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace decoflow;

constexpr std::size_t max_array = 4096;
constexpr std::size_t max_chunks = 24;
// Scratch chunks larger than this are not decoded by the reference (the engine
// may still try: its allocation failing must be an Error too).
constexpr std::uint64_t max_reference = 1 << 20;

// Two workers, as on CI's machine; one executor for the whole fuzzing run, as
// an application keeps one.
Executor& executor() {
  static Executor instance(2);
  return instance;
}

struct Expected {
  bool ok = false;  // the chunk decodes on its own
  std::vector<std::byte> bytes;
};

// What chunk `c` should hold after every stage, computed without the engine.
Expected reference(const ChunkSpec& c, ConstBytes input, unsigned swap_width) {
  Expected e;
  const bool scratch = c.array == scratch_output;
  if (scratch && c.dest_size > max_reference) return e;
  ConstBytes in;
  if (c.input_size != 0) in = input.subspan(c.input_offset, c.input_size);
  e.bytes.resize(c.dest_size);
  static Decoder decoder;
  try {
    std::size_t written = 0;
    if (!in.empty()) written = decoder.decode_into(c.codec, in, e.bytes);
    if (in.empty() && !scratch && c.dest_size != 0) return e;  // size_mismatch
    if (!scratch && written != c.dest_size) return e;          // size_mismatch
    e.bytes.resize(written);
    if (swap_width > 1) byteswap_in_place(e.bytes, swap_width);
  } catch (const Error&) {
    return e;
  }
  e.ok = true;
  return e;
}

struct Array {
  std::unique_ptr<fuzz::GuardedSpan> memory;
  std::shared_ptr<DestinationArray> array;
  std::vector<bool> in_slice;  // bytes some chunk of the graph may write
};

bool all_poison(const std::byte* p, std::size_t n) {
  return std::all_of(p, p + n, [](std::byte b) { return b == fuzz::GuardedSpan::poison; });
}

}  // namespace

// Scratch outputs may be absurdly large: the engine's allocation must fail
// (and become ErrorCode::resource_error), not abort the process as ASan does
// by default for an allocation beyond its limit.
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Reader reader(data, size);
  const std::uint8_t flags = reader.u8();
  const bool swap = flags & 1;
  const unsigned swap_width = swap ? (2u << ((flags >> 1) % 3)) : 1u;
  const bool second_array = flags & 8;
  const bool submit_twice = flags & 16;
  const bool cancel = flags & 32;

  std::vector<Array> arrays(second_array ? 2 : 1);
  for (Array& a : arrays) {
    const std::size_t bytes = reader.u16() % (max_array + 1);
    a.memory = std::make_unique<fuzz::GuardedSpan>(bytes);
    a.array = DestinationArray::adopt(a.memory->data(), bytes, nullptr);
    a.in_slice.assign(bytes, false);
  }
  if (!second_array) (void)reader.u16();

  const std::size_t count = reader.u8() % (max_chunks + 1);
  std::vector<ChunkSpec> chunks(count);
  for (ChunkSpec& c : chunks) {
    c.input_offset = reader.u16();
    c.input_size = reader.u16();
    c.dest_offset = reader.u16();
    c.dest_size = reader.u16();
    const std::uint8_t array = reader.u8();
    c.codec = static_cast<Codec>(reader.u8() % 5);
    const std::uint8_t huge = reader.u8();
    // Sizes near 2^64 catch offset + size overflows in range checks and sums.
    if (huge & 1) c.input_offset = ~c.input_offset;
    if (huge & 2) c.input_size = ~c.input_size;
    if (huge & 4) c.dest_offset = ~c.dest_offset;
    if (huge & 8) c.dest_size = ~c.dest_size;
    if (huge & 16) c.dest_size |= std::uint64_t{1} << 63;
    // Mostly small slices that fit, so that runs are common, not only refusals.
    if (!(huge & 0x1F)) {
      c.dest_size %= 1024;
      c.input_size %= 1024;
    }
    switch (array % 4) {
      case 0: c.array = 0; break;
      case 1: c.array = 1; break;  // unknown when there is one array
      case 2: c.array = scratch_output; break;
      default: c.array = 7; break;  // never a valid id
    }
  }
  const ConstBytes input_bytes = reader.rest();
  const auto input = InputBuffer::wrap(input_bytes, nullptr);

  // Build. add_chunk checks ids only.
  Graph graph("fuzz");
  const std::uint32_t input_id = graph.add_input(input);
  for (Array& a : arrays) graph.add_array(a.array);
  graph.add_stage(Stage::decode());
  if (swap) graph.add_stage(Stage::byteswap(swap_width));
  for (ChunkSpec& c : chunks) {
    c.input = input_id;
    const bool known = c.array == scratch_output || c.array < arrays.size();
    try {
      graph.add_chunk(c);
      DECOFLOW_FUZZ_CHECK(known, "add_chunk accepted array id %u", c.array);
    } catch (const Error& e) {
      DECOFLOW_FUZZ_CHECK(!known && e.code() == ErrorCode::invalid_argument,
                          "add_chunk: %s", e.what());
      return 0;
    }
  }

  // The model of submit's checks. Scratch outputs are summed per batch, and
  // batches depend on sizes and threads: when the sum over all chunks wraps,
  // submit may refuse (invalid_argument), and must accept otherwise.
  bool valid = true;
  bool scratch_wraps = false;
  bool scratch_huge = false;  // beyond what the reference decodes
  std::uint64_t scratch_sum = 0;
  std::vector<std::vector<std::pair<std::uint64_t, std::uint64_t>>> ranges(arrays.size());
  for (const ChunkSpec& c : chunks) {
    if (c.input_size != 0 &&
        (c.input_offset > input_bytes.size() || c.input_size > input_bytes.size() - c.input_offset)) {
      valid = false;
    }
    if (c.array == scratch_output) {
      scratch_wraps = scratch_wraps || c.dest_size > UINT64_MAX - scratch_sum;
      scratch_sum += c.dest_size;
      scratch_huge = scratch_huge || c.dest_size > max_reference;
      continue;
    }
    if (c.dest_size == 0) continue;
    const std::uint64_t have = arrays[c.array].array->size();
    if (c.dest_offset > have || c.dest_size > have - c.dest_offset || c.dest_size % swap_width != 0) {
      valid = false;
      continue;
    }
    ranges[c.array].emplace_back(c.dest_offset, c.dest_offset + c.dest_size);
  }
  for (auto& list : ranges) {
    std::sort(list.begin(), list.end());
    for (std::size_t k = 1; k < list.size(); ++k) {
      if (list[k].first < list[k - 1].second) valid = false;
    }
  }

  const auto shared_graph = std::make_shared<const Graph>(std::move(graph));
  GraphRun run;
  try {
    run = executor().submit(shared_graph);
  } catch (const Error& e) {
    DECOFLOW_FUZZ_CHECK(!valid || (scratch_wraps && e.code() == ErrorCode::invalid_argument),
                        "submit refused a valid graph: %s", e.what());
    DECOFLOW_FUZZ_CHECK(fuzz::code_in(e.code(), {ErrorCode::invalid_argument, ErrorCode::slice_error}),
                        "submit: %s", e.what());
    for (Array& a : arrays) {
      DECOFLOW_FUZZ_CHECK(a.memory->guards_intact() && all_poison(a.memory->data(), a.memory->size()),
                          "a refused graph wrote to its array");
    }
    return 0;
  }
  DECOFLOW_FUZZ_CHECK(valid, "submit accepted a graph the model refuses");

  // The same graph again while the first may still run: refused for the
  // slices it shares with the running one, or run after it (never together).
  GraphRun again;
  if (submit_twice) {
    try {
      again = executor().submit(shared_graph);
    } catch (const Error& e) {
      DECOFLOW_FUZZ_CHECK(e.code() == ErrorCode::slice_error, "second submit: %s", e.what());
    }
  }
  if (cancel) run.cancel();

  // Checks one finished run against the reference of every chunk.
  const auto check_run = [&](const GraphRun& r, bool cancelled) {
    r.wait();
    const std::vector<ChunkState> states = r.chunk_states();
    // Scratch that cannot be allocated fails the first chunk of its batch,
    // which may be any chunk.
    bool out_of_memory = false;
    DECOFLOW_FUZZ_CHECK(states.size() == chunks.size(), "%zu chunk states", states.size());
    if (const std::exception_ptr error = r.error()) {
      try {
        std::rethrow_exception(error);
      } catch (const Error& e) {
        const bool allowed =
            fuzz::is_decode_error(e.code()) || (cancelled && e.code() == ErrorCode::cancelled) ||
            // byteswap of a scratch chunk that decoded to a partial element
            (swap && e.code() == ErrorCode::invalid_argument);
        DECOFLOW_FUZZ_CHECK(allowed, "run failed with %s", e.what());
        out_of_memory = e.code() == ErrorCode::resource_error;
        DECOFLOW_FUZZ_CHECK(!out_of_memory || scratch_huge, "resource_error without huge scratch: %s",
                            e.what());
        DECOFLOW_FUZZ_CHECK(e.code() == ErrorCode::cancelled ||
                                (e.chunk() >= 0 && static_cast<std::size_t>(e.chunk()) < chunks.size() &&
                                 states[static_cast<std::size_t>(e.chunk())] == ChunkState::failed),
                            "error names chunk %lld, not a failed one", static_cast<long long>(e.chunk()));
      } catch (...) {
        DECOFLOW_FUZZ_CHECK(false, "a run failed with something other than decoflow::Error");
      }
    } else {
      for (std::size_t i = 0; i < states.size(); ++i) {
        DECOFLOW_FUZZ_CHECK(states[i] == ChunkState::done, "successful run, chunk %zu not done", i);
      }
    }
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      if (states[i] == ChunkState::not_run) continue;
      const Expected e = reference(chunks[i], input_bytes, swap_width);
      if (states[i] == ChunkState::failed) {
        DECOFLOW_FUZZ_CHECK(!e.ok || out_of_memory, "chunk %zu failed in the graph, decodes on its own", i);
        continue;
      }
      DECOFLOW_FUZZ_CHECK(e.ok || (chunks[i].array == scratch_output && chunks[i].dest_size > max_reference),
                          "chunk %zu done in the graph, fails on its own", i);
      const ChunkSpec& c = chunks[i];
      if (c.array == scratch_output || c.dest_size == 0) continue;
      DECOFLOW_FUZZ_CHECK(std::memcmp(arrays[c.array].memory->data() + c.dest_offset, e.bytes.data(),
                                      e.bytes.size()) == 0,
                          "chunk %zu: its slice differs from its decoded bytes", i);
    }
  };
  check_run(run, cancel);
  if (again) check_run(again, false);

  for (const ChunkSpec& c : chunks) {
    if (c.array == scratch_output || c.dest_size == 0) continue;
    auto& marks = arrays[c.array].in_slice;
    std::fill(marks.begin() + static_cast<std::ptrdiff_t>(c.dest_offset),
              marks.begin() + static_cast<std::ptrdiff_t>(c.dest_offset + c.dest_size), true);
  }
  for (Array& a : arrays) {
    DECOFLOW_FUZZ_CHECK(a.memory->guards_intact(), "a run wrote outside its array");
    for (std::size_t b = 0; b < a.in_slice.size(); ++b) {
      DECOFLOW_FUZZ_CHECK(a.in_slice[b] || a.memory->data()[b] == fuzz::GuardedSpan::poison,
                          "a run wrote byte %zu, which no slice covers", b);
    }
  }
  return 0;
}
