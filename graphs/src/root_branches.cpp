#include "decoflow/root_branches.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <utility>

#include "decoflow/byteswap.hpp"
#include "decoflow/decoder.hpp"

namespace decoflow {

namespace {

constexpr std::array<std::string_view, 11> kTypeNames = {
    "bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
    "float32", "float64"};
constexpr std::array<unsigned, 11> kTypeWidths = {1, 1, 1, 2, 2, 4, 4, 8, 8, 4, 8};

// TKey: fNbytes i32, fVersion i16, fObjlen i32, fDatime u32, fKeylen i16,
// fCycle i16, then two seeks (32- or 64-bit), class name, name and title.
// The TBasket header ends the key: fVersion u16, fBufferSize i32, fNevBufSize
// i32, fNevBuf i32, fLast i32, a flag byte (uproot's TBasket.py reads it at
// fKeylen - 19 the same way, skipping the strings).
constexpr std::size_t kKeyFixed = 18;
constexpr std::size_t kBasketHeader = 19;

std::uint32_t be32(const std::byte* p) {
  return (std::to_integer<std::uint32_t>(p[0]) << 24) | (std::to_integer<std::uint32_t>(p[1]) << 16) |
         (std::to_integer<std::uint32_t>(p[2]) << 8) | std::to_integer<std::uint32_t>(p[3]);
}
std::int32_t be32s(const std::byte* p) { return static_cast<std::int32_t>(be32(p)); }
std::int16_t be16s(const std::byte* p) {
  return static_cast<std::int16_t>((std::to_integer<unsigned>(p[0]) << 8) |
                                   std::to_integer<unsigned>(p[1]));
}

// Everything the stage needs of one basket, found by the chunk's tag.
struct BasketInfo {
  std::uint32_t branch = 0;
  std::uint32_t basket = 0;  // index in its spec's table (seek, size, file there)
  std::uint64_t entry_begin = 0;
  std::uint64_t entries = 0;
  std::uint64_t content_item_begin = 0;  // jagged: where its content starts, in elements
  std::uint64_t border = 0;              // jagged: fLast - fKeylen, read while planning
};

struct BranchState {
  std::uint64_t first_entry = 0;  // the first basket's first entry: element 0 of the arrays
  std::uint64_t entries = 0;
  std::uint64_t content_items = 0;
  unsigned width = 1;
  std::shared_ptr<DestinationArray> content;
  std::shared_ptr<DestinationArray> offsets;
  std::int64_t* offsets_data = nullptr;  // entries + 1 values; [0] = 0
  bool planned = false;
};

// The number errors give spec.baskets[index].
std::uint64_t basket_number(const RootBranchSpec& spec, std::size_t index) {
  if (index >= spec.baskets.size()) return index;
  const std::uint64_t number = spec.baskets[index].number;
  return number == RootBasketRef::unnumbered ? index : number;
}

// "branch 'x' basket 3 (entries 10-20, file bytes [1234, +567))" for
// spec.baskets[index]; with several files, "... basket 3 of file 1 (/data/b.root)
// (entries ...)".
std::string where(const RootBranchSpec& spec, std::size_t index,
                  const std::vector<std::shared_ptr<const InputBuffer>>& files) {
  std::string s = "branch '" + spec.name + "' basket " + std::to_string(basket_number(spec, index));
  if (index < spec.baskets.size()) {
    const RootBasketRef& b = spec.baskets[index];
    if (files.size() > 1) {
      s += " of file " + std::to_string(b.file);
      if (b.file < files.size() && !files[b.file]->path().empty()) {
        s += " (" + files[b.file]->path() + ")";
      }
    }
    s += " (entries " + std::to_string(b.entry_begin) + "-" + std::to_string(b.entry_end) +
         ", file bytes [" + std::to_string(b.seek) + ", +" + std::to_string(b.bytes) + "))";
  }
  return s;
}

}  // namespace

// ------------------------------------------------------------------ types

std::string_view to_string(RootType type) noexcept {
  const auto i = static_cast<std::size_t>(type);
  return i < kTypeNames.size() ? kTypeNames[i] : "unknown";
}

std::optional<RootType> root_type_from_string(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == name) return static_cast<RootType>(i);
  }
  return std::nullopt;
}

unsigned root_type_width(RootType type) noexcept {
  const auto i = static_cast<std::size_t>(type);
  return i < kTypeWidths.size() ? kTypeWidths[i] : 1;
}

// ------------------------------------------------------------------ keys

RootBasketKey parse_root_basket_key(ConstBytes basket) {
  const auto corrupt = [](const std::string& what) {
    return Error(ErrorCode::corrupt_input, "TKey: " + what);
  };
  if (basket.size() < kKeyFixed) {
    throw corrupt("truncated: " + std::to_string(basket.size()) + " bytes, the key needs " +
                  std::to_string(kKeyFixed) + "+");
  }
  const std::byte* p = basket.data();
  const std::int32_t nbytes = be32s(p);
  const std::int32_t objlen = be32s(p + 6);
  const std::int16_t keylen = be16s(p + 14);
  if (nbytes < 0 || objlen < 0 || keylen < 0) {
    throw corrupt("negative size (fNbytes " + std::to_string(nbytes) + ", fObjlen " +
                  std::to_string(objlen) + ", fKeylen " + std::to_string(keylen) + ")");
  }
  const auto klen = static_cast<std::uint64_t>(keylen);
  if (klen < kKeyFixed + kBasketHeader || klen > static_cast<std::uint64_t>(nbytes)) {
    throw corrupt("fKeylen " + std::to_string(keylen) + " outside [" +
                  std::to_string(kKeyFixed + kBasketHeader) + ", fNbytes " +
                  std::to_string(nbytes) + "]");
  }
  if (basket.size() < klen) {
    throw corrupt("truncated: " + std::to_string(basket.size()) + " bytes, fKeylen is " +
                  std::to_string(keylen));
  }
  const std::byte* h = p + klen - kBasketHeader;
  const std::int32_t nevbuf = be32s(h + 10);
  const std::int32_t last = be32s(h + 14);
  if (nevbuf < 0) throw corrupt("negative fNevBuf " + std::to_string(nevbuf));
  if (last < keylen || static_cast<std::uint64_t>(last) - klen > static_cast<std::uint64_t>(objlen)) {
    throw corrupt("fLast " + std::to_string(last) + " outside [fKeylen " + std::to_string(keylen) +
                  ", fKeylen + fObjlen " + std::to_string(std::int64_t{keylen} + objlen) + "]");
  }
  return RootBasketKey{static_cast<std::uint64_t>(nbytes), static_cast<std::uint64_t>(objlen), klen,
                       static_cast<std::uint64_t>(nevbuf), static_cast<std::uint64_t>(last) - klen};
}

// ------------------------------------------------------------------ plan state

struct RootBranchesPlan::State {
  std::string name;
  std::vector<std::shared_ptr<const InputBuffer>> files;
  std::vector<RootBranchSpec> specs;
  std::vector<BranchState> branches;
  std::vector<BasketInfo> baskets;  // by chunk tag
  std::vector<RootBasketChunk> chunks;

  // Failures: the lowest-numbered failing basket of each branch. Rare, so
  // one mutex; `failed` lets the branch's other baskets skip their work.
  mutable std::mutex failures_mutex;
  std::vector<std::optional<RootBranchFailure>> failures;
  std::vector<std::size_t> failed_index;  // the table index of each failure
  std::unique_ptr<std::atomic<bool>[]> failed;

  // Scratch for baskets whose decoded payload is more than their content (a
  // jagged basket's offsets trailer): a pool, so that steady state allocates
  // nothing per basket and the memory goes when the plan does. It grows to
  // the number of baskets decoded at once (the executor's threads).
  struct Scratch {
    std::unique_ptr<std::byte[]> data;
    std::size_t capacity = 0;
  };
  std::mutex scratch_mutex;
  std::vector<Scratch> scratch_pool;

  // `basket` indexes specs[branch].baskets; the first in table order wins.
  void fail(std::size_t branch, std::size_t basket, const Error& error) {
    failed[branch].store(true, std::memory_order_relaxed);
    const RootBranchSpec& spec = specs[branch];
    const std::uint32_t file = basket < spec.baskets.size() ? spec.baskets[basket].file : 0;
    std::lock_guard lock(failures_mutex);
    auto& slot = failures[branch];
    if (!slot || basket < failed_index[branch]) {
      slot = RootBranchFailure{branch, file, basket_number(spec, basket), error};
      failed_index[branch] = basket;
    }
  }

  // Records `e` against a basket, with the branch and basket in its cause.
  void fail_basket(const BasketInfo& info, std::int64_t chunk, const std::string& node,
                   ErrorCode code, const std::string& cause) {
    fail(info.branch, info.basket,
         Error(code, where(specs[info.branch], info.basket, files) + ": " + cause, name, node,
               chunk));
  }

  void run_basket(const ChunkView& view);
  void decode_basket(const ChunkView& view, const BasketInfo& info);
  void write_offsets(const BasketInfo& info, ConstBytes trailer, std::uint64_t keylen);
};

namespace {

// A scratch buffer of the pool, given back when the basket is done (or failed).
class ScratchLease {
 public:
  ScratchLease(RootBranchesPlan::State& state, std::size_t size) : state_(state) {
    {
      std::lock_guard lock(state_.scratch_mutex);
      if (!state_.scratch_pool.empty()) {
        scratch_ = std::move(state_.scratch_pool.back());
        state_.scratch_pool.pop_back();
      }
    }
    if (scratch_.capacity < size) {
      scratch_.data.reset();  // before allocating: never hold both
      scratch_.data = std::make_unique_for_overwrite<std::byte[]>(size);
      scratch_.capacity = size;
    }
  }
  ~ScratchLease() {
    std::lock_guard lock(state_.scratch_mutex);
    state_.scratch_pool.push_back(std::move(scratch_));
  }
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;
  MutableBytes bytes(std::size_t size) const { return {scratch_.data.get(), size}; }

 private:
  RootBranchesPlan::State& state_;
  RootBranchesPlan::State::Scratch scratch_;
};

Decoder& thread_decoder() {
  // One per engine thread, reused for every basket (zstd / lzma contexts).
  thread_local Decoder decoder;
  return decoder;
}

}  // namespace

void RootBranchesPlan::State::run_basket(const ChunkView& view) {
  if (view.tag < 0 || static_cast<std::uint64_t>(view.tag) >= baskets.size()) {
    throw Error(ErrorCode::internal, "chunk tag " + std::to_string(view.tag) +
                                         " is no basket of root plan '" + name + "'");
  }
  const BasketInfo& info = baskets[static_cast<std::size_t>(view.tag)];
  // One failure per branch is enough: its array is not returned anyway.
  if (failed[info.branch].load(std::memory_order_relaxed)) return;
  const auto chunk = static_cast<std::int64_t>(view.index);
  try {
    decode_basket(view, info);
  } catch (const Error& e) {
    fail_basket(info, chunk, "baskets", e.code(), e.cause());
  } catch (const std::bad_alloc&) {
    fail_basket(info, chunk, "baskets", ErrorCode::resource_error, "out of memory for scratch");
  } catch (const std::exception& e) {
    fail_basket(info, chunk, "baskets", ErrorCode::stage_error, e.what());
  }
}

void RootBranchesPlan::State::decode_basket(const ChunkView& view, const BasketInfo& info) {
  const RootBranchSpec& spec = specs[info.branch];
  const BranchState& branch = branches[info.branch];
  const RootBasketKey key = parse_root_basket_key(view.input);
  // The key must agree with the table: a table that points at the wrong
  // bytes must not decode into some other basket's data.
  if (key.nbytes != view.input.size()) {
    throw Error(ErrorCode::corrupt_input, "TKey says fNbytes = " + std::to_string(key.nbytes) +
                                              ", the basket table fBasketBytes = " +
                                              std::to_string(view.input.size()));
  }
  if (key.entries != info.entries) {
    throw Error(ErrorCode::corrupt_input, "TBasket holds " + std::to_string(key.entries) +
                                              " entries (fNevBuf), the basket table " +
                                              std::to_string(info.entries));
  }
  const MutableBytes content = view.output;
  if (key.border != content.size()) {
    throw Error(ErrorCode::size_mismatch,
                "TBasket content is " + std::to_string(key.border) + " bytes (fLast - fKeylen), " +
                    (spec.jagged ? "planned " : "entries × items × width = ") +
                    std::to_string(content.size()));
  }
  const ConstBytes payload = view.input.subspan(static_cast<std::size_t>(key.keylen));
  const auto objlen = static_cast<std::size_t>(key.objlen);
  Decoder& decoder = thread_decoder();

  if (objlen == content.size()) {
    // No trailer: decode straight into the slice, then native order in place.
    if (spec.jagged && key.entries != 0) {
      throw Error(ErrorCode::corrupt_input, "a jagged basket without its entry-offsets trailer");
    }
    const std::size_t written = decoder.root_blocks_into(payload, content);
    if (written != objlen) {
      throw Error(ErrorCode::size_mismatch, "decoded " + std::to_string(written) +
                                                " bytes, fObjlen says " + std::to_string(objlen));
    }
    byteswap_in_place(content, branch.width);
    return;
  }

  // Content + trailer: decode into scratch, keep the content (byteswapped on
  // the way) and turn the trailer into global offsets.
  ScratchLease scratch(*this, objlen);
  const MutableBytes decoded = scratch.bytes(objlen);
  const std::size_t written = decoder.root_blocks_into(payload, decoded);
  if (written != objlen) {
    throw Error(ErrorCode::size_mismatch, "decoded " + std::to_string(written) +
                                              " bytes, fObjlen says " + std::to_string(objlen));
  }
  byteswap_copy(decoded.first(content.size()), content, branch.width);
  if (spec.jagged) write_offsets(info, decoded.subspan(content.size()), key.keylen);
}

// The trailer is [count, start_0 + fKeylen, ..., start_{n-1} + fKeylen, x]
// (big-endian int32; ROOT writes count = n and x = 0, uproot count = n + 1
// and x = fLast), as uproot's TBasket.py reads it. Entry j ends where entry
// j + 1 starts, the last one at the border; this basket writes the global
// offsets of its entries' ends, [entry_begin + 1, entry_begin + n], so
// baskets never write the same element (offsets[0] = 0 is written when
// planning).
void RootBranchesPlan::State::write_offsets(const BasketInfo& info, ConstBytes trailer,
                                            std::uint64_t keylen) {
  const std::uint64_t n = info.entries;
  if (trailer.size() < 4 * (n + 1)) {
    throw Error(ErrorCode::corrupt_input, "entry-offsets trailer of " +
                                              std::to_string(trailer.size()) + " bytes for " +
                                              std::to_string(n) + " entries");
  }
  const std::uint32_t count = be32(trailer.data());
  if (count != n && count != n + 1) {
    throw Error(ErrorCode::corrupt_input, "entry-offsets trailer counts " + std::to_string(count) +
                                              " offsets for " + std::to_string(n) + " entries");
  }
  const BranchState& branch = branches[info.branch];
  const std::uint64_t width = branch.width;
  const std::uint64_t border = info.border;
  std::int64_t* out = branch.offsets_data + (info.entry_begin - branch.first_entry) + 1;
  const std::byte* starts = trailer.data() + 4;
  std::uint64_t previous = 0;
  for (std::uint64_t j = 0; j < n; ++j) {
    const std::uint64_t start = static_cast<std::uint64_t>(be32(starts + 4 * j)) - keylen;
    const std::uint64_t end =
        j + 1 < n ? static_cast<std::uint64_t>(be32(starts + 4 * (j + 1))) - keylen : border;
    // Unsigned wrap-around makes an offset below fKeylen fail here too.
    if (start != previous || end < start || end > border || end % width != 0) {
      throw Error(ErrorCode::corrupt_input,
                  "entry " + std::to_string(info.entry_begin + j) + " spans content bytes [" +
                      std::to_string(static_cast<std::int64_t>(start)) + ", " +
                      std::to_string(static_cast<std::int64_t>(end)) + ") of " +
                      std::to_string(border) + " (element width " + std::to_string(width) + ")");
    }
    out[j] = static_cast<std::int64_t>(info.content_item_begin + end / width);
    previous = end;
  }
}

// ------------------------------------------------------------------ plan

RootBranchesPlan::RootBranchesPlan(std::shared_ptr<State> state) : state_(std::move(state)) {}
RootBranchesPlan::RootBranchesPlan(RootBranchesPlan&&) noexcept = default;
RootBranchesPlan& RootBranchesPlan::operator=(RootBranchesPlan&&) noexcept = default;
RootBranchesPlan::~RootBranchesPlan() = default;

std::size_t RootBranchesPlan::branch_count() const noexcept { return state_->specs.size(); }

const RootBranchSpec& RootBranchesPlan::branch(std::size_t i) const { return state_->specs.at(i); }

std::uint64_t RootBranchesPlan::first_entry(std::size_t i) const {
  return state_->branches.at(i).first_entry;
}

std::uint64_t RootBranchesPlan::entries(std::size_t i) const { return state_->branches.at(i).entries; }

std::uint64_t RootBranchesPlan::content_items(std::size_t i) const {
  return state_->branches.at(i).content_items;
}

std::shared_ptr<DestinationArray> RootBranchesPlan::content(std::size_t i) const {
  return state_->branches.at(i).content;
}

std::shared_ptr<DestinationArray> RootBranchesPlan::offsets(std::size_t i) const {
  return state_->branches.at(i).offsets;
}

const std::vector<RootBasketChunk>& RootBranchesPlan::chunks() const noexcept {
  return state_->chunks;
}

Stage RootBranchesPlan::stage() const {
  // The stage shares the state: the arrays, the basket table and the scratch
  // pool live as long as any graph holding the stage.
  std::shared_ptr<State> state = state_;
  return Stage::native("baskets", [state](const ChunkView& view) { state->run_basket(view); });
}

const std::vector<std::shared_ptr<const InputBuffer>>& RootBranchesPlan::files() const noexcept {
  return state_->files;
}

Graph RootBranchesPlan::make_graph() const {
  Graph graph(state_->name);
  std::vector<std::uint32_t> inputs;
  for (const auto& file : state_->files) inputs.push_back(graph.add_input(file));
  std::vector<std::uint32_t> array_ids(state_->branches.size(), 0);
  for (std::size_t i = 0; i < state_->branches.size(); ++i) {
    if (state_->branches[i].content) array_ids[i] = graph.add_array(state_->branches[i].content);
  }
  graph.add_stage(stage());
  graph.reserve_chunks(state_->chunks.size());
  for (const RootBasketChunk& c : state_->chunks) {
    graph.add_chunk({.input = inputs[c.file], .input_offset = c.input_offset,
                     .input_size = c.input_size, .array = array_ids[c.branch],
                     .dest_offset = c.dest_offset, .dest_size = c.dest_size,
                     .codec = Codec::root_blocks, .tag = c.tag});
  }
  return graph;
}

std::vector<RootBranchFailure> RootBranchesPlan::failures() const {
  std::lock_guard lock(state_->failures_mutex);
  std::vector<RootBranchFailure> out;
  for (const auto& f : state_->failures) {
    if (f) out.push_back(*f);
  }
  return out;
}

void RootBranchesPlan::check() const {
  const auto all = failures();
  if (!all.empty()) throw all.front().error;
}

RootBranchesPlan plan_root_branches(std::shared_ptr<const InputBuffer> file,
                                    std::vector<RootBranchSpec> branches, std::string name) {
  if (!file) throw Error(ErrorCode::invalid_argument, "plan_root_branches: null file");
  std::vector<std::shared_ptr<const InputBuffer>> files{std::move(file)};
  return plan_root_branches(std::move(files), std::move(branches), std::move(name));
}

RootBranchesPlan plan_root_branches(std::vector<std::shared_ptr<const InputBuffer>> files,
                                    std::vector<RootBranchSpec> branches, std::string name) {
  if (files.empty()) throw Error(ErrorCode::invalid_argument, "plan_root_branches: no files");
  for (const auto& file : files) {
    if (!file) throw Error(ErrorCode::invalid_argument, "plan_root_branches: null file");
  }
  if (name.empty()) throw Error(ErrorCode::invalid_argument, "plan_root_branches: empty name");
  for (const RootBranchSpec& spec : branches) {
    if (spec.jagged && spec.items_per_entry != 1) {
      throw Error(ErrorCode::invalid_argument, "branch '" + spec.name +
                                                   "': a jagged branch has items_per_entry 1, not " +
                                                   std::to_string(spec.items_per_entry));
    }
    if (spec.items_per_entry == 0) {
      throw Error(ErrorCode::invalid_argument, "branch '" + spec.name + "': items_per_entry is 0");
    }
  }

  auto state = std::make_shared<RootBranchesPlan::State>();
  state->name = std::move(name);
  state->files = std::move(files);
  state->specs = std::move(branches);
  const std::size_t nbranches = state->specs.size();
  state->branches.resize(nbranches);
  state->failures.resize(nbranches);
  state->failed_index.resize(nbranches);
  state->failed = std::make_unique<std::atomic<bool>[]>(nbranches);
  constexpr auto max_u64 = std::numeric_limits<std::uint64_t>::max();

  for (std::size_t b = 0; b < nbranches; ++b) {
    const RootBranchSpec& spec = state->specs[b];
    BranchState& branch = state->branches[b];
    branch.width = root_type_width(spec.type);
    const auto plan_fail = [&](std::size_t basket, ErrorCode code, const std::string& cause) {
      state->fail(b, basket, Error(code, where(spec, basket, state->files) + ": " + cause,
                                   state->name, "plan", no_chunk));
    };

    // The table itself: contiguous entries (from the first basket's first
    // entry: a table may start anywhere, to read an entry range), every basket
    // inside the file.
    bool ok = true;
    branch.first_entry = spec.baskets.empty() ? 0 : spec.baskets.front().entry_begin;
    std::uint64_t next_entry = branch.first_entry;
    for (std::size_t k = 0; k < spec.baskets.size() && ok; ++k) {
      const RootBasketRef& r = spec.baskets[k];
      if (r.entry_begin != next_entry || r.entry_end < r.entry_begin) {
        plan_fail(k, ErrorCode::invalid_argument,
                  "basket table entries are not contiguous (expected the basket to start at entry " +
                      std::to_string(next_entry) + ")");
        ok = false;
      } else if (r.file >= state->files.size()) {
        plan_fail(k, ErrorCode::invalid_argument,
                  "file " + std::to_string(r.file) + " of " + std::to_string(state->files.size()));
        ok = false;
      } else if (const std::size_t size = state->files[r.file]->bytes().size();
                 r.seek > size || r.bytes > size - r.seek) {
        plan_fail(k, ErrorCode::corrupt_input,
                  "the basket table points outside the file (a " + std::to_string(size) +
                      "-byte file): a truncated file or a wrong table");
        ok = false;
      }
      next_entry = r.entry_end;
    }
    if (!ok) continue;
    branch.entries = next_entry - branch.first_entry;

    // Where each basket's content goes. Flat: entries × items × width, known
    // from the table. Jagged: fLast - fKeylen from each key.
    const std::size_t first_basket = state->baskets.size();
    std::uint64_t items = 0;
    for (std::size_t k = 0; k < spec.baskets.size() && ok; ++k) {
      const RootBasketRef& r = spec.baskets[k];
      BasketInfo info;
      info.branch = static_cast<std::uint32_t>(b);
      info.basket = static_cast<std::uint32_t>(k);
      info.entry_begin = r.entry_begin;
      info.entries = r.entry_end - r.entry_begin;
      info.content_item_begin = items;
      std::uint64_t basket_items = 0;
      if (spec.jagged) {
        try {
          const RootBasketKey key = parse_root_basket_key(state->files[r.file]->bytes().subspan(
              static_cast<std::size_t>(r.seek), static_cast<std::size_t>(r.bytes)));
          if (key.nbytes != r.bytes) {
            throw Error(ErrorCode::corrupt_input, "TKey says fNbytes = " + std::to_string(key.nbytes) +
                                                      ", the basket table fBasketBytes = " +
                                                      std::to_string(r.bytes));
          }
          if (key.border % branch.width != 0) {
            throw Error(ErrorCode::corrupt_input, "content of " + std::to_string(key.border) +
                                                      " bytes is not a multiple of " +
                                                      std::to_string(branch.width));
          }
          info.border = key.border;
          basket_items = key.border / branch.width;
        } catch (const Error& e) {
          plan_fail(k, e.code(), e.cause());
          ok = false;
        }
      } else {
        const std::uint64_t per_entry = spec.items_per_entry;
        if (info.entries > max_u64 / per_entry / branch.width) {
          plan_fail(k, ErrorCode::invalid_argument, "entry count overflows");
          ok = false;
        }
        basket_items = info.entries * per_entry;
      }
      items += basket_items;
      state->baskets.push_back(info);
    }
    if (!ok || items > max_u64 / branch.width) {
      if (ok) plan_fail(0, ErrorCode::invalid_argument, "content size overflows");
      state->baskets.resize(first_basket);
      continue;
    }
    branch.content_items = items;

    branch.content = DestinationArray::allocate(static_cast<std::size_t>(items * branch.width));
    if (spec.jagged) {
      branch.offsets = DestinationArray::allocate(static_cast<std::size_t>(branch.entries + 1) *
                                                  sizeof(std::int64_t));
      branch.offsets_data = reinterpret_cast<std::int64_t*>(branch.offsets->data());
      branch.offsets_data[0] = 0;
    }
    branch.planned = true;
    for (std::size_t t = first_basket; t < state->baskets.size(); ++t) {
      const BasketInfo& info = state->baskets[t];
      const RootBasketRef& r = spec.baskets[info.basket];
      const std::uint64_t item_bytes =
          branch.width * (spec.jagged ? 1 : spec.items_per_entry);
      const std::uint64_t begin = spec.jagged ? info.content_item_begin * branch.width
                                              : (info.entry_begin - branch.first_entry) * item_bytes;
      const std::uint64_t size = spec.jagged ? info.border : info.entries * item_bytes;
      state->chunks.push_back(
          {b, r.file, r.seek, r.bytes, begin, size, static_cast<std::int64_t>(t)});
    }
  }
  return RootBranchesPlan(std::move(state));
}

}  // namespace decoflow
