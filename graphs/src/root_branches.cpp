#include "decoflow/root_branches.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <utility>

namespace decoflow {

namespace {

constexpr auto max_u64 = std::numeric_limits<std::uint64_t>::max();

bool has_offsets(ColumnLayout layout) { return layout != ColumnLayout::fixed; }

// A nested branch's reserved offsets arrays: its chunks' reserved_levels().
unsigned reserved_levels(const RootBranchSpec& spec) {
  return spec.depth + (spec.leaf_strings ? 1u : 0u);
}

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
  const bool page = index < spec.baskets.size() &&
                    (spec.baskets[index].framing == ChunkFraming::rntuple_page ||
                     spec.baskets[index].framing == ChunkFraming::rntuple_zeros);
  std::string s = page ? spec.name + " cluster " + std::to_string(spec.baskets[index].page.cluster) +
                             " page " + std::to_string(basket_number(spec, index))
                       : "branch '" + spec.name + "' basket " + std::to_string(basket_number(spec, index));
  if (index < spec.baskets.size()) {
    const RootBasketRef& b = spec.baskets[index];
    if (files.size() > 1) {
      s += " of file " + std::to_string(b.file);
      if (b.file < files.size() && !files[b.file]->path().empty()) {
        s += " (" + files[b.file]->path() + ")";
      }
    }
    if (b.framing == ChunkFraming::embedded) s += " (embedded in its TBranch)";
    if (b.framing == ChunkFraming::rntuple_zeros) {
      s += " (elements " + std::to_string(b.entry_begin) + "-" + std::to_string(b.entry_end) +
           ", not stored: zeros)";
      return s;
    }
    s += std::string(page ? " (elements " : " (entries ") + std::to_string(b.entry_begin) + "-" +
         std::to_string(b.entry_end) + ", file bytes [" + std::to_string(b.seek) + ", +" +
         std::to_string(b.bytes) + "))";
  }
  return s;
}

std::shared_ptr<DestinationArray> allocate_int64(std::uint64_t count) {
  return DestinationArray::allocate(static_cast<std::size_t>(count) * sizeof(std::int64_t));
}

std::int64_t* int64_data(const std::shared_ptr<DestinationArray>& array) {
  return array ? reinterpret_cast<std::int64_t*>(array->data()) : nullptr;
}

// Where one basket's values live: in a plan's arrays, or in a copy handed
// from one iterate() step to the next. `offsets`/`starts` point at the
// basket's first entry; `base` is the content element where the basket
// starts (what offsets hold there).
struct BasketValues {
  std::byte* content = nullptr;  // at content element `base`
  std::int64_t* offsets = nullptr;
  std::int64_t* starts = nullptr;
  std::int64_t base = 0;
};

// A basket's values from one step for the next ones, when a step's whole
// window lies inside it: arrays over the whole basket, written from the
// entry where the first receiving step starts (the entries before stay
// untouched: never paged in, never viewed).
struct BasketRest {
  std::uint64_t basket_begin = 0;
  std::uint64_t basket_end = 0;
  std::shared_ptr<DestinationArray> content, offsets, starts;

  BasketValues values() const {
    return {content->data(), int64_data(offsets), int64_data(starts), 0};
  }
};

// Copies entries [first, last) of a basket (counted from its first entry)
// from `src` to `dst`, its offsets and starts rebased to dst.base.
void copy_entries(const BasketValues& src, const BasketValues& dst, std::uint64_t first,
                  std::uint64_t last, const RootBranchSpec& spec) {
  const std::uint64_t width = value_width(spec);
  if (!has_offsets(spec.layout)) {
    const std::uint64_t row = spec.items_per_entry * width;
    if (last > first) {
      std::memcpy(dst.content + first * row, src.content + first * row, (last - first) * row);
    }
    return;
  }
  const auto c0 = static_cast<std::uint64_t>(src.offsets[first] - src.base);
  const auto c1 = static_cast<std::uint64_t>(src.offsets[last] - src.base);
  if (c1 > c0) std::memcpy(dst.content + c0 * width, src.content + c0 * width, (c1 - c0) * width);
  for (std::uint64_t j = first; j <= last; ++j) dst.offsets[j] = src.offsets[j] - src.base + dst.base;
  if (spec.layout == ColumnLayout::strings) {
    for (std::uint64_t j = first; j < last; ++j) dst.starts[j] = src.starts[j] - src.base + dst.base;
  }
}

}  // namespace

void apply_page_coding(ColumnChunk& c, const RootPageCoding& page) noexcept {
  c.coding = page.coding;
  c.stored_type = page.stored_type;
  c.split = page.split;
  c.zigzag = page.zigzag;
  c.page_checksum = page.checksum;
  c.nbits = page.nbits;
  c.low = page.low;
  c.high = page.high;
  c.value_base = page.value_base;
  c.value_limit = page.value_limit;
  c.tag_bases = page.tag_bases.data();
  c.tag_count = static_cast<std::uint32_t>(page.tag_bases.size() / 2);
}

std::uint32_t value_width(const RootBranchSpec& spec) noexcept {
  if (spec.coding != ElementCoding::record && spec.coding != ElementCoding::objects) {
    return root_type_width(spec.type);
  }
  std::uint32_t row = 0;
  for (const std::uint8_t w : spec.fields) row += w;
  return row;
}

std::uint32_t stored_width(const RootBranchSpec& spec) noexcept {
  // RNTuple pages: each page's coding says its own (RootBasketRef::page).
  if (is_rntuple_page_coding(spec.coding)) return value_width(spec);
  switch (spec.coding) {
    case ElementCoding::float32_to_float64:
    case ElementCoding::scaled: return 4;
    case ElementCoding::truncated: return 3;
    default: return value_width(spec);
  }
}

// What is wrong with a branch's element coding (column_chunk.hpp), if
// anything: found while planning, so that it fails that branch only.
std::optional<std::string> coding_problem(const RootBranchSpec& spec) {
  const bool real = spec.type == RootType::float64 || spec.type == RootType::float32;
  // RNTuple pages: each page's coding is its own (RootBasketRef::page).
  if (is_rntuple_page_coding(spec.coding) &&
      (spec.layout != ColumnLayout::fixed || spec.items_per_entry != 1)) {
    return "RNTuple columns are fixed, one value per element";
  }
  switch (spec.coding) {
    case ElementCoding::plain: break;
    case ElementCoding::float32_to_float64:
      if (spec.type != RootType::float64) return "the values are float64";
      break;
    case ElementCoding::tobject_bits:
      if (spec.type != RootType::uint32 || spec.layout == ColumnLayout::strings ||
          spec.layout == ColumnLayout::nested || spec.header_bytes != 0) {
        return "TObject fBits are uint32, fixed or jagged without headers";
      }
      break;
    case ElementCoding::scaled:
      if (!real) return "the values are float64 or float32";
      if (spec.nbits < 1 || spec.nbits > 32) {
        return "nbits " + std::to_string(spec.nbits) + " outside [1, 32]";
      }
      if (!(spec.high > spec.low)) return "an empty range";
      break;
    case ElementCoding::truncated:
      if (!real) return "the values are float64 or float32";
      if (spec.nbits < 1 || spec.nbits > 23) {
        return "nbits " + std::to_string(spec.nbits) + " outside [1, 23]";
      }
      break;
    case ElementCoding::record:
    case ElementCoding::objects:
      if (spec.type != RootType::uint8 ||
          (spec.layout != ColumnLayout::fixed && spec.layout != ColumnLayout::jagged) ||
          spec.fields.empty()) {
        return "a fixed or jagged uint8 branch with fields";
      }
      for (const std::uint8_t w : spec.fields) {
        if (w != 1 && w != 2 && w != 4 && w != 8) return "a field of " + std::to_string(w) + " bytes";
      }
      break;
    default:  // RNTuple page codings: checked above
      break;
  }
  if ((spec.layout == ColumnLayout::strings || spec.leaf_strings) &&
      spec.coding != ElementCoding::plain) {
    return "strings are plain bytes";
  }
  return std::nullopt;
}

// ------------------------------------------------------------------ tree

struct RootTree::Data {
  std::string name;
  std::vector<std::shared_ptr<const InputBuffer>> files;
  std::vector<std::shared_ptr<const InputBuffer>> inputs;  // files, then embedded baskets
  std::vector<RootBranchSpec> specs;
};

RootTree::RootTree(std::vector<std::shared_ptr<const InputBuffer>> files,
                   std::vector<RootBranchSpec> branches, std::string name,
                   std::vector<std::shared_ptr<const InputBuffer>> embedded) {
  const auto invalid = [](const std::string& what) {
    return Error(ErrorCode::invalid_argument, "RootTree: " + what);
  };
  if (files.empty()) throw invalid("no files");
  for (const auto& file : files) {
    if (!file) throw invalid("a null file");
  }
  for (const auto& input : embedded) {
    if (!input) throw invalid("a null embedded basket input");
  }
  if (name.empty()) throw invalid("an empty name");
  for (const RootBranchSpec& spec : branches) {
    if (spec.items_per_entry == 0) throw invalid("branch '" + spec.name + "': items_per_entry is 0");
    if (has_offsets(spec.layout) && spec.items_per_entry != 1) {
      throw invalid("branch '" + spec.name + "': a " + std::string(to_string(spec.layout)) +
                    " branch has items_per_entry 1, not " + std::to_string(spec.items_per_entry));
    }
    if (spec.layout == ColumnLayout::strings && spec.type != RootType::uint8) {
      throw invalid("branch '" + spec.name + "': a strings branch holds uint8 bytes, not " +
                    std::string(to_string(spec.type)));
    }
    if (spec.layout == ColumnLayout::fixed && spec.header_bytes != 0) {
      throw invalid("branch '" + spec.name + "': header bytes on a fixed branch");
    }
    if (spec.layout == ColumnLayout::nested &&
        (spec.header_bytes != 10 || spec.depth > max_nested_depth ||
         (spec.leaf_strings && spec.type != RootType::uint8) ||
         (!spec.leaf_strings && spec.depth == 0))) {
      throw invalid("branch '" + spec.name + "': a nested branch has header_bytes 10, depth " +
                    "1 to " + std::to_string(max_nested_depth) + " (0 with strings) and uint8 " +
                    "strings, not header_bytes " + std::to_string(spec.header_bytes) +
                    ", depth " + std::to_string(spec.depth) +
                    (spec.leaf_strings ? ", strings of " + std::string(to_string(spec.type)) : ""));
    }
    for (const RootBasketRef& r : spec.baskets) {
      if (r.framing == ChunkFraming::embedded &&
          (r.input < files.size() || r.input >= files.size() + embedded.size())) {
        throw invalid("branch '" + spec.name + "': an embedded basket's input " +
                      std::to_string(r.input) + " is none of the " +
                      std::to_string(embedded.size()) + " embedded inputs");
      }
    }
  }
  auto data = std::make_shared<Data>();
  data->name = std::move(name);
  data->inputs = files;
  data->inputs.insert(data->inputs.end(), embedded.begin(), embedded.end());
  data->files = std::move(files);
  data->specs = std::move(branches);
  data_ = std::move(data);
}

const std::string& RootTree::name() const noexcept { return data_->name; }
std::size_t RootTree::branch_count() const noexcept { return data_->specs.size(); }
const RootBranchSpec& RootTree::branch(std::size_t i) const { return data_->specs.at(i); }
const std::vector<std::shared_ptr<const InputBuffer>>& RootTree::files() const noexcept {
  return data_->files;
}
const std::vector<std::shared_ptr<const InputBuffer>>& RootTree::inputs() const noexcept {
  return data_->inputs;
}

// ------------------------------------------------------------------ plan state

namespace {

struct BranchState {
  std::size_t first_basket = 0;  // the planned baskets: [first_basket, last_basket) of the table
  std::size_t last_basket = 0;
  std::uint64_t first_entry = 0;  // the first basket's first entry: element 0 of the arrays
  std::uint64_t entries = 0;
  std::uint64_t content_items = 0;
  std::shared_ptr<DestinationArray> content, offsets, starts;
  std::uint64_t chunk_begin = 0, chunk_end = 0;
  // iterate(): the first basket is the previous step's last (not decoded
  // here); when the whole window lies inside it, nothing is planned and the
  // values come as a rest.
  bool carried = false;
  bool from_rest = false;
  bool received = false;  // the carried basket's values arrived
  std::shared_ptr<const BasketRest> rest;
  std::uint64_t last_basket_item = 0;  // content element where the last basket starts
  // nested: the offsets of each level below the entries', reserved (each
  // chunk's room from ColumnChunk::lists[k]), and what each chunk used
  // (levels + 1 counts per chunk: ColumnTargets::used), until compact().
  std::vector<std::shared_ptr<DestinationArray>> levels;
  std::array<std::int64_t*, max_nested_depth + 1> level_data{};
  std::vector<std::uint64_t> used;
  std::array<std::uint64_t, max_nested_depth + 1> level_count{};  // compacted elements per level
};

}  // namespace

struct RootReadPlan::State {
  std::shared_ptr<const RootTree::Data> tree;
  std::optional<EntryRange> window;
  std::vector<BranchState> branches;
  std::vector<ColumnChunk> chunks;  // by tag
  ScratchPool scratch;
  bool collected = false;
  std::weak_ptr<State> successor;  // the next iterate() step, sharing our last baskets

  // Failures: the lowest-numbered failing basket of each branch. Rare, so
  // one mutex; `failed` lets the branch's other baskets skip their work.
  mutable std::mutex failures_mutex;
  std::vector<std::optional<RootBranchFailure>> failures;
  std::vector<std::size_t> failed_index;
  std::unique_ptr<std::atomic<bool>[]> failed;

  const RootBranchSpec& spec(std::size_t b) const { return tree->specs[b]; }

  // `basket` indexes spec(branch).baskets; the first in table order wins.
  void fail(std::size_t branch, std::size_t basket, const Error& error) {
    failed[branch].store(true, std::memory_order_relaxed);
    const RootBranchSpec& s = spec(branch);
    const std::uint32_t file = basket < s.baskets.size() ? s.baskets[basket].file : 0;
    std::lock_guard lock(failures_mutex);
    auto& slot = failures[branch];
    if (!slot || basket < failed_index[branch]) {
      slot = RootBranchFailure{branch, file, basket_number(s, basket), error};
      failed_index[branch] = basket;
    }
  }

  void fail_at(std::size_t branch, std::size_t basket, ErrorCode code, const std::string& cause,
               const std::string& node, std::int64_t chunk) {
    fail(branch, basket,
         Error(code, where(spec(branch), basket, tree->files) + ": " + cause, tree->name, node,
               chunk));
  }

  void run_chunk(const ChunkView& view);
  void plan_branch(std::size_t b, const BranchState* before);
  void hand_over(State& next);
  void compact(std::size_t b);
  RootBranchResult nested_result(std::size_t b, RootBranchResult r, std::uint64_t w0,
                                 std::uint64_t count);
  RootBranchResult result_of(std::size_t b);
};

void RootReadPlan::State::run_chunk(const ChunkView& view) {
  if (view.tag < 0 || static_cast<std::uint64_t>(view.tag) >= chunks.size()) {
    throw Error(ErrorCode::internal, "chunk tag " + std::to_string(view.tag) +
                                         " is no basket of root plan '" + tree->name + "'");
  }
  const ColumnChunk& chunk = chunks[static_cast<std::size_t>(view.tag)];
  // One failure per branch is enough: its arrays are not returned anyway.
  if (failed[chunk.column].load(std::memory_order_relaxed)) return;
  BranchState& branch = branches[chunk.column];
  ColumnTargets targets{int64_data(branch.offsets), int64_data(branch.starts)};
  if (chunk.layout == ColumnLayout::nested) {
    targets.lists = branch.level_data.data();
    targets.used = branch.used.data() + (static_cast<std::uint64_t>(view.tag) - branch.chunk_begin) *
                                            (reserved_levels(chunk) + 1);
  }
  const auto fail_here = [&](ErrorCode code, const std::string& cause) {
    // The chunk's basket: its index in the table, from its number's position.
    const std::size_t basket = branch.first_basket + (branch.carried ? 1 : 0) +
                               static_cast<std::size_t>(view.tag) - branch.chunk_begin;
    fail_at(chunk.column, basket, code, cause, "baskets", static_cast<std::int64_t>(view.index));
  };
  try {
    decode_column_chunk(chunk, view.input, view.output, targets, thread_decoder(), scratch);
  } catch (const Error& e) {
    fail_here(e.code(), e.cause());
  } catch (const std::bad_alloc&) {
    fail_here(ErrorCode::resource_error, "out of memory for scratch");
  } catch (const std::exception& e) {
    fail_here(ErrorCode::stage_error, e.what());
  }
}

void RootReadPlan::State::plan_branch(std::size_t b, const BranchState* before) {
  const RootBranchSpec& spec = tree->specs[b];
  BranchState& branch = branches[b];
  const std::uint32_t width = value_width(spec);
  const std::uint32_t stored = stored_width(spec);
  const auto plan_fail = [&](std::size_t basket, ErrorCode code, const std::string& cause) {
    fail_at(b, basket, code, cause, "plan", no_chunk);
  };
  if (const auto problem = coding_problem(spec)) {
    plan_fail(0, ErrorCode::invalid_argument,
              std::string(to_string(spec.coding)) + " coding: " + *problem);
    return;
  }

  // The baskets holding an entry of the window (all of them without one).
  std::size_t first = 0, last = spec.baskets.size();
  if (window) {
    const auto& bs = spec.baskets;
    if (window->start < window->stop) {
      first = static_cast<std::size_t>(
          std::partition_point(bs.begin(), bs.end(),
                               [&](const RootBasketRef& r) { return r.entry_end <= window->start; }) -
          bs.begin());
      last = static_cast<std::size_t>(
          std::partition_point(bs.begin() + static_cast<std::ptrdiff_t>(first), bs.end(),
                               [&](const RootBasketRef& r) { return r.entry_begin < window->stop; }) -
          bs.begin());
    } else {
      first = last = 0;
    }
  }
  branch.first_basket = first;
  branch.last_basket = last;
  branch.first_entry = first < last ? spec.baskets[first].entry_begin : (window ? window->start : 0);
  // A nested basket's values are compacted when collected: a step decodes
  // the basket it shares with the one before again rather than take it over.
  if (first < last && before != nullptr && before->first_basket < before->last_basket &&
      before->last_basket - 1 == first && spec.layout != ColumnLayout::nested) {
    branch.carried = true;
    branch.from_rest = last - first == 1;
  }

  // The table itself: contiguous entries, every basket inside its file.
  std::uint64_t next_entry = branch.first_entry;
  for (std::size_t k = first; k < last; ++k) {
    const RootBasketRef& r = spec.baskets[k];
    if (r.entry_begin != next_entry || r.entry_end < r.entry_begin) {
      plan_fail(k, ErrorCode::invalid_argument,
                "basket table entries are not contiguous (expected the basket to start at entry " +
                    std::to_string(next_entry) + ")");
      return;
    }
    if (r.file >= tree->files.size()) {
      plan_fail(k, ErrorCode::invalid_argument,
                "file " + std::to_string(r.file) + " of " + std::to_string(tree->files.size()));
      return;
    }
    const bool embedded = r.framing == ChunkFraming::embedded;
    if (const std::size_t size = tree->inputs[embedded ? r.input : r.file]->bytes().size();
        r.seek > size || r.bytes > size - r.seek) {
      plan_fail(k, ErrorCode::corrupt_input,
                "the basket table points outside the file (a " + std::to_string(size) +
                    "-byte file): a truncated file or a wrong table");
      return;
    }
    next_entry = r.entry_end;
  }
  branch.entries = next_entry - branch.first_entry;
  if (branch.from_rest) return;  // the previous step hands the values over

  // Where each basket's values go. Fixed: entries × items × width, known from
  // the table. Jagged, strings: fLast - fKeylen from each key.
  const std::size_t first_chunk = chunks.size();
  std::vector<ColumnChunk> planned;
  planned.reserve(last - first);
  std::uint64_t items = spec.leading_zero ? 1 : 0;
  std::array<std::uint64_t, max_nested_depth + 1> level_room{};  // nested: elements reserved
  for (std::size_t k = first; k < last; ++k) {
    const RootBasketRef& r = spec.baskets[k];
    const bool embedded = r.framing == ChunkFraming::embedded;
    ColumnChunk c;
    c.file = embedded ? r.input : r.file;
    c.offset = r.seek;
    c.size = r.bytes;
    c.framing = r.framing;
    c.layout = spec.layout;
    c.width = width;
    c.stored_width = stored;
    c.header_bytes = spec.header_bytes;
    c.coding = spec.coding;
    c.nbits = spec.nbits;
    c.low = spec.low;
    c.high = spec.high;
    c.fields = spec.fields.data();
    c.field_count = static_cast<std::uint32_t>(spec.fields.size());
    c.column = static_cast<std::uint32_t>(b);
    c.entry_begin = r.entry_begin;
    c.entries = r.entry_end - r.entry_begin;
    c.entry_slot = r.entry_begin - branch.first_entry;
    c.content_item = items;
    c.number = basket_number(spec, k);
    c.depth = spec.depth;
    c.leaf_strings = spec.leaf_strings;
    if (r.framing == ChunkFraming::rntuple_page || r.framing == ChunkFraming::rntuple_zeros) {
      apply_page_coding(c, r.page);
      c.value_type = spec.type;
    }
    if (!has_offsets(spec.layout) && c.entries > max_u64 / spec.items_per_entry / width) {
      plan_fail(k, ErrorCode::invalid_argument, "entry count overflows");
      return;
    }
    const std::uint64_t fixed_bytes = c.entries * spec.items_per_entry * stored;
    try {
      // The values' bytes as stored: the table's (embedded), the TKey's fLast
      // - fKeylen (jagged, strings: known before decompression), or entries ×
      // items × width.
      if (embedded) {
        c.stored_border = r.border;
      } else if (has_offsets(spec.layout)) {
        const RootBasketKey key = parse_root_basket_key(tree->files[r.file]->bytes().subspan(
            static_cast<std::size_t>(r.seek), static_cast<std::size_t>(r.bytes)));
        if (key.nbytes != r.bytes) {
          throw Error(ErrorCode::corrupt_input, "TKey says fNbytes = " + std::to_string(key.nbytes) +
                                                    ", the basket table fBasketBytes = " +
                                                    std::to_string(r.bytes));
        }
        c.stored_border = key.border;
      } else {
        c.stored_border = fixed_bytes;
      }
      const bool nested = spec.layout == ColumnLayout::nested;
      const std::uint64_t headers =
          spec.layout == ColumnLayout::jagged || nested ? std::uint64_t{spec.header_bytes} * c.entries
                                                        : 0;
      if (c.stored_border < headers || (!nested && (c.stored_border - headers) % stored != 0) ||
          (!has_offsets(spec.layout) && c.stored_border != fixed_bytes)) {
        if (sizes_may_vary(spec.coding)) throw varying_size_error(spec.coding);
        throw Error(ErrorCode::corrupt_input,
                    "values of " + std::to_string(c.stored_border) + " bytes are not " +
                        (has_offsets(spec.layout)
                             ? std::to_string(headers) + " header bytes and whole " +
                                   std::to_string(stored) + "-byte values"
                             : "entries × items × width = " + std::to_string(fixed_bytes)));
      }
      if (nested) {
        // Room for the most the basket's bytes can hold, at every level.
        const unsigned levels = reserved_levels(c);
        for (unsigned l = 0; l < levels; ++l) {
          c.lists[l] = level_room[l];
          level_room[l] += nested_room(c, l);
        }
        c.content_bytes = nested_room(c, levels) * width;
      } else {
        c.content_bytes = (c.stored_border - headers) / stored * width;
      }
    } catch (const Error& e) {
      plan_fail(k, e.code(), e.cause());
      return;
    }
    if (items > max_u64 / width - c.content_bytes / width) {
      plan_fail(k, ErrorCode::invalid_argument, "content size overflows");
      return;
    }
    branch.last_basket_item = items;
    items += c.content_bytes / width;
    planned.push_back(c);
  }
  branch.content_items = items;
  const bool nested = spec.layout == ColumnLayout::nested;
  branch.content = DestinationArray::allocate(static_cast<std::size_t>(items * width));
  if (spec.leading_zero) std::memset(branch.content->data(), 0, width);
  if (has_offsets(spec.layout)) {
    branch.offsets = allocate_int64(branch.entries + 1);
    int64_data(branch.offsets)[0] = 0;
  }
  if (nested) {
    const unsigned levels = reserved_levels(spec);
    for (unsigned l = 0; l < levels; ++l) {
      branch.levels.push_back(DestinationArray::allocate(
          static_cast<std::size_t>(level_room[l] + 1) * sizeof(std::int64_t),
          DestinationArray::Paging::sparse));
      branch.level_data[l] = int64_data(branch.levels.back());
      branch.level_data[l][0] = 0;
    }
    branch.used.assign(planned.size() * (levels + 1), 0);
  }
  if (spec.layout == ColumnLayout::strings) branch.starts = allocate_int64(branch.entries);
  // The carried basket is not a chunk: its values arrive from the step before.
  chunks.insert(chunks.end(), planned.begin() + (branch.carried ? 1 : 0), planned.end());
  branch.chunk_begin = first_chunk;
  branch.chunk_end = chunks.size();
}

// Gives `next` the values of each basket it shares with us (our last, its
// first), from its window's first entry on: straight into its slice, or as a
// rest it views when its whole window lies inside that basket.
void RootReadPlan::State::hand_over(State& next) {
  for (std::size_t b = 0; b < branches.size(); ++b) {
    BranchState& to = next.branches[b];
    const BranchState& from = branches[b];
    // `next` may still be running: its failures are read through the atomic
    // flags, never the slots its stage writes under the mutex.
    if (!to.carried || failures[b] || next.failed[b].load(std::memory_order_relaxed)) continue;
    const RootBranchSpec& spec = tree->specs[b];
    const RootBasketRef& basket = spec.baskets[to.first_basket];
    const std::uint64_t width = value_width(spec);
    const std::uint64_t first = next.window->start - basket.entry_begin;
    const std::uint64_t last = basket.entry_end - basket.entry_begin;
    if (to.from_rest && from.from_rest) {
      to.rest = from.rest;  // still the basket we were given
      to.received = true;
      continue;
    }
    BasketValues src;
    if (from.from_rest) {
      src = from.rest->values();
    } else {
      const std::uint64_t slot = basket.entry_begin - from.first_entry;
      const std::uint64_t item = has_offsets(spec.layout) ? from.last_basket_item
                                                           : slot * spec.items_per_entry;
      src.content = from.content->data() + item * width;
      src.base = static_cast<std::int64_t>(item);
      if (from.offsets) src.offsets = int64_data(from.offsets) + slot;
      if (from.starts) src.starts = int64_data(from.starts) + slot;
    }
    if (to.from_rest) {
      // A private copy (made before our caller sees, and may change, our arrays).
      auto rest = std::make_shared<BasketRest>();
      rest->basket_begin = basket.entry_begin;
      rest->basket_end = basket.entry_end;
      const std::uint64_t items = has_offsets(spec.layout)
                                      ? static_cast<std::uint64_t>(src.offsets[last] - src.base)
                                      : last * spec.items_per_entry;
      rest->content = DestinationArray::allocate(static_cast<std::size_t>(items * width));
      if (has_offsets(spec.layout)) rest->offsets = allocate_int64(last + 1);
      if (spec.layout == ColumnLayout::strings) rest->starts = allocate_int64(last);
      copy_entries(src, rest->values(), first, last, spec);
      to.rest = std::move(rest);
    } else {
      // The shared basket is the first of `next`'s arrays: it starts at 0.
      copy_entries(src, {to.content->data(), int64_data(to.offsets), int64_data(to.starts), 0},
                   first, last, spec);
    }
    to.received = true;
  }
}

// A nested branch's chunks each wrote into the room reserved for them:
// moves every level's elements (and the values) together, chunk after chunk,
// their ends rebased from reserved to compacted coordinates, and hands the
// room left over back. Chunks only move down, so one forward pass is enough.
void RootReadPlan::State::compact(std::size_t b) {
  const RootBranchSpec& spec = tree->specs[b];
  BranchState& branch = branches[b];
  if (spec.layout != ColumnLayout::nested || failures[b] || !branch.content) return;
  const unsigned levels = reserved_levels(spec);
  const std::uint64_t width = value_width(spec);
  std::int64_t* entry_ends = int64_data(branch.offsets);
  std::byte* content = branch.content->data();
  std::array<std::uint64_t, max_nested_depth + 2> at{};  // compacted so far; [levels]: values
  for (std::uint64_t t = branch.chunk_begin; t < branch.chunk_end; ++t) {
    const ColumnChunk& c = chunks[static_cast<std::size_t>(t)];
    const std::uint64_t* used = branch.used.data() + (t - branch.chunk_begin) * (levels + 1);
    // What each level's coordinates lose in this chunk: reserved - compacted start.
    std::array<std::int64_t, max_nested_depth + 2> shift{};
    for (unsigned l = 0; l < levels; ++l) shift[l] = static_cast<std::int64_t>(c.lists[l] - at[l]);
    shift[levels] = static_cast<std::int64_t>(c.content_item - at[levels]);
    for (std::uint64_t j = 0; j < c.entries; ++j) entry_ends[c.entry_slot + 1 + j] -= shift[0];
    for (unsigned l = 0; l < levels; ++l) {
      std::int64_t* d = branch.level_data[l];
      for (std::uint64_t i = 1; i <= used[l]; ++i) d[at[l] + i] = d[c.lists[l] + i] - shift[l + 1];
      at[l] += used[l];
    }
    if (used[levels] != 0 && shift[levels] != 0) {
      std::memmove(content + at[levels] * width, content + c.content_item * width,
                   static_cast<std::size_t>(used[levels] * width));
    }
    at[levels] += used[levels];
  }
  branch.content_items = at[levels];
  branch.content->release_from(static_cast<std::size_t>(at[levels] * width));
  for (unsigned l = 0; l < levels; ++l) {
    branch.level_count[l] = at[l];
    branch.levels[l]->release_from(static_cast<std::size_t>((at[l] + 1) * sizeof(std::int64_t)));
  }
  branch.used = {};
}

RootBranchResult RootReadPlan::State::result_of(std::size_t b) {
  const RootBranchSpec& spec = tree->specs[b];
  BranchState& branch = branches[b];
  RootBranchResult r;
  r.chunk_begin = branch.chunk_begin;
  r.chunk_end = branch.chunk_end;
  if (failures[b]) {
    r.failure = failures[b];
    return r;
  }
  const bool jagged = has_offsets(spec.layout);
  // The window, in entries of the arrays.
  std::uint64_t w0 = 0, count = branch.entries;
  if (window) {
    w0 = std::min(window->start - std::min(window->start, branch.first_entry), branch.entries);
    count = std::min(window->stop - window->start, branch.entries - w0);
  }
  if (branch.from_rest) {
    // Views of the shared rest: the content as it is, offsets and starts
    // copied (rebased from 0; other steps view the same rest).
    const BasketRest& rest = *branch.rest;
    const std::uint64_t at = window->start - rest.basket_begin;
    r.content = rest.content;
    r.entries = count;
    if (!jagged) {
      r.content_begin = at * spec.items_per_entry;
      r.content_items = count * spec.items_per_entry;
      return r;
    }
    const std::int64_t* off = int64_data(rest.offsets) + at;
    r.content_begin = static_cast<std::uint64_t>(off[0]);
    r.content_items = static_cast<std::uint64_t>(off[count] - off[0]);
    r.offsets = allocate_int64(count + 1);
    std::int64_t* out = int64_data(r.offsets);
    for (std::uint64_t j = 0; j <= count; ++j) out[j] = off[j] - off[0];
    if (rest.starts) {
      r.starts = allocate_int64(count);
      const std::int64_t* starts = int64_data(rest.starts) + at;
      std::int64_t* s = int64_data(r.starts);
      for (std::uint64_t j = 0; j < count; ++j) s[j] = starts[j] - off[0];
    }
    r.entries = count;
    return r;
  }
  if (!branch.content) {  // no basket holds an entry of the window
    r.content = DestinationArray::allocate(0);
    if (jagged) {
      r.offsets = allocate_int64(1);
      int64_data(r.offsets)[0] = 0;
    }
    if (spec.layout == ColumnLayout::strings) r.starts = allocate_int64(0);
    for (unsigned l = 0; l < reserved_levels(spec); ++l) {
      r.levels.push_back({allocate_int64(1), 0, 0});
      int64_data(r.levels.back().offsets)[0] = 0;
    }
    return r;
  }
  r.content = branch.content;
  r.offsets = branch.offsets;
  r.starts = branch.starts;
  r.entry_begin = w0;
  r.entries = count;
  if (!jagged) {
    r.content_begin = w0 * spec.items_per_entry;
    r.content_items = count * spec.items_per_entry;
    return r;
  }
  if (spec.layout == ColumnLayout::nested) return nested_result(b, std::move(r), w0, count);
  std::int64_t* off = int64_data(branch.offsets) + w0;
  const std::int64_t base = off[0];
  r.content_begin = static_cast<std::uint64_t>(base);
  r.content_items = static_cast<std::uint64_t>(off[count] - base);
  if (base != 0) {  // in place: after hand_over, which reads them as decoded
    for (std::uint64_t j = 0; j <= count; ++j) off[j] -= base;
    if (branch.starts) {
      std::int64_t* s = int64_data(branch.starts) + w0;
      for (std::uint64_t j = 0; j < count; ++j) s[j] -= base;
    }
  }
  return r;
}

// Entries [w0, w0 + count) of a compacted nested branch: each level's
// elements under them, its offsets rebased in place (the first 0).
RootBranchResult RootReadPlan::State::nested_result(std::size_t b, RootBranchResult r,
                                                    std::uint64_t w0, std::uint64_t count) {
  BranchState& branch = branches[b];
  const RootBranchSpec& spec = tree->specs[b];
  const unsigned levels = reserved_levels(spec);
  // [lo, hi): the elements of the level below, found through this level's offsets.
  const auto descend = [&](std::int64_t* off, std::uint64_t n, std::uint64_t elements,
                           std::uint64_t& lo, std::uint64_t& hi) {
    const std::int64_t first = off[0], last = off[n];
    if (first < 0 || last < first || static_cast<std::uint64_t>(last) > elements) {
      throw Error(ErrorCode::internal, "nested offsets [" + std::to_string(first) + ", " +
                                           std::to_string(last) + ") outside the " +
                                           std::to_string(elements) + " elements decoded");
    }
    for (std::uint64_t j = 0; j <= n; ++j) off[j] -= first;
    lo = static_cast<std::uint64_t>(first);
    hi = static_cast<std::uint64_t>(last);
  };
  try {
    std::uint64_t lo = 0, hi = 0;
    descend(int64_data(branch.offsets) + w0, count,
            levels ? branch.level_count[0] : branch.content_items, lo, hi);
    for (unsigned l = 0; l < levels; ++l) {
      r.levels.push_back({branch.levels[l], lo, hi - lo});
      descend(branch.level_data[l] + lo, hi - lo,
              l + 1 < levels ? branch.level_count[l + 1] : branch.content_items, lo, hi);
    }
    r.content_begin = lo;
    r.content_items = hi - lo;
  } catch (const Error& e) {
    fail_at(b, branch.first_basket, e.code(), e.cause(), "collect", no_chunk);
    r = RootBranchResult{};
    r.chunk_begin = branch.chunk_begin;
    r.chunk_end = branch.chunk_end;
    r.failure = failures[b];
  }
  return r;
}

// ------------------------------------------------------------------ plan

RootReadPlan RootTree::plan(std::optional<EntryRange> window, RootReadPlan* previous) const {
  if (window && window->stop < window->start) {
    throw Error(ErrorCode::invalid_argument,
                "RootTree::plan: entry window [" + std::to_string(window->start) + ", " +
                    std::to_string(window->stop) + ") ends before it starts");
  }
  RootReadPlan::State* before = nullptr;
  if (previous != nullptr) {
    before = previous->state_.get();
    if (before->tree != data_) {
      throw Error(ErrorCode::invalid_argument, "RootTree::plan: the previous plan is of another tree");
    }
    if (!window || !before->window || before->collected) before = nullptr;
  }
  auto state = std::make_shared<RootReadPlan::State>();
  state->tree = data_;
  state->window = window;
  const std::size_t n = data_->specs.size();
  state->branches.resize(n);
  state->failures.resize(n);
  state->failed_index.resize(n);
  state->failed = std::make_unique<std::atomic<bool>[]>(n);
  for (std::size_t b = 0; b < n; ++b) {
    const BranchState* prior = before != nullptr && !before->failures[b] ? &before->branches[b] : nullptr;
    state->plan_branch(b, prior);
  }
  if (before != nullptr) before->successor = state;
  return RootReadPlan(std::move(state));
}

RootReadPlan::RootReadPlan(std::shared_ptr<State> state) : state_(std::move(state)) {}
RootReadPlan::RootReadPlan(RootReadPlan&&) noexcept = default;
RootReadPlan& RootReadPlan::operator=(RootReadPlan&&) noexcept = default;
RootReadPlan::~RootReadPlan() = default;

std::size_t RootReadPlan::branch_count() const noexcept { return state_->branches.size(); }
const RootBranchSpec& RootReadPlan::branch(std::size_t i) const { return state_->tree->specs.at(i); }
std::uint64_t RootReadPlan::first_entry(std::size_t i) const {
  return state_->branches.at(i).first_entry;
}
std::uint64_t RootReadPlan::entries(std::size_t i) const { return state_->branches.at(i).entries; }
std::uint64_t RootReadPlan::content_items(std::size_t i) const {
  return state_->branches.at(i).content_items;
}
std::shared_ptr<DestinationArray> RootReadPlan::content(std::size_t i) const {
  return state_->branches.at(i).content;
}
std::shared_ptr<DestinationArray> RootReadPlan::offsets(std::size_t i) const {
  return state_->branches.at(i).offsets;
}
std::shared_ptr<DestinationArray> RootReadPlan::starts(std::size_t i) const {
  return state_->branches.at(i).starts;
}
const std::vector<ColumnChunk>& RootReadPlan::chunks() const noexcept { return state_->chunks; }
const std::vector<std::shared_ptr<const InputBuffer>>& RootReadPlan::inputs() const noexcept {
  return state_->tree->inputs;
}

Stage RootReadPlan::stage() const {
  // The stage shares the state: the arrays, the chunks and the scratch pool
  // live as long as any graph holding the stage.
  std::shared_ptr<State> state = state_;
  return Stage::native("baskets", [state](const ChunkView& view) { state->run_chunk(view); });
}

Graph RootReadPlan::make_graph(std::vector<Stage> more) const {
  const State& s = *state_;
  Graph graph(s.tree->name);
  std::vector<std::uint32_t> inputs;
  for (const auto& input : s.tree->inputs) inputs.push_back(graph.add_input(input));
  std::vector<std::uint32_t> array_ids(s.branches.size(), 0);
  for (std::size_t i = 0; i < s.branches.size(); ++i) {
    if (s.branches[i].content && s.branches[i].chunk_end > s.branches[i].chunk_begin) {
      array_ids[i] = graph.add_array(s.branches[i].content);
    }
  }
  graph.add_stage(stage());
  for (Stage& extra : more) graph.add_stage(std::move(extra));
  graph.reserve_chunks(s.chunks.size());
  for (std::size_t t = 0; t < s.chunks.size(); ++t) {
    const ColumnChunk& c = s.chunks[t];
    const std::uint64_t width = c.width;
    graph.add_chunk({.input = inputs[c.file], .input_offset = c.offset, .input_size = c.size,
                     .array = array_ids[c.column], .dest_offset = c.content_item * width,
                     .dest_size = c.content_bytes, .codec = Codec::root_blocks,
                     .tag = static_cast<std::int64_t>(t)});
  }
  return graph;
}

std::optional<RootChunkLocation> RootReadPlan::locate(std::size_t index) const {
  const State& s = *state_;
  if (index >= s.chunks.size()) return std::nullopt;
  const ColumnChunk& c = s.chunks[index];
  const BranchState& branch = s.branches[c.column];
  const std::size_t basket = branch.first_basket + (branch.carried ? 1 : 0) + index - branch.chunk_begin;
  const RootBranchSpec& spec = s.spec(c.column);
  return RootChunkLocation{c.column, c.file, basket_number(spec, basket),
                           where(spec, basket, s.tree->files)};
}

std::vector<RootBranchFailure> RootReadPlan::failures() const {
  std::lock_guard lock(state_->failures_mutex);
  std::vector<RootBranchFailure> out;
  for (const auto& f : state_->failures) {
    if (f) out.push_back(*f);
  }
  return out;
}

void RootReadPlan::check() const {
  const auto all = failures();
  if (!all.empty()) throw all.front().error;
}

std::vector<RootBranchResult> RootReadPlan::collect() {
  State& s = *state_;
  if (s.collected) throw Error(ErrorCode::invalid_argument, "RootReadPlan::collect: called twice");
  s.collected = true;
  std::vector<RootBranchResult> out;
  out.reserve(s.branches.size());
  // First what the step before handed over is checked (and becomes part of
  // what we hand on), then the next step gets its share, then the windows.
  for (std::size_t b = 0; b < s.branches.size(); ++b) {
    BranchState& branch = s.branches[b];
    if (branch.carried && !branch.received && !s.failures[b]) {
      s.fail_at(b, branch.first_basket, ErrorCode::internal,
                "the step before did not hand over this basket (it failed, or was not "
                "collected first)",
                "plan", no_chunk);
    }
  }
  for (std::size_t b = 0; b < s.branches.size(); ++b) s.compact(b);
  if (auto next = s.successor.lock(); next && !next->collected) s.hand_over(*next);
  for (std::size_t b = 0; b < s.branches.size(); ++b) out.push_back(s.result_of(b));
  return out;
}

RootReadPlan plan_root_branches(std::vector<std::shared_ptr<const InputBuffer>> files,
                                std::vector<RootBranchSpec> branches, std::string name) {
  return RootTree(std::move(files), std::move(branches), std::move(name)).plan();
}

RootReadPlan plan_root_branches(std::shared_ptr<const InputBuffer> file,
                                std::vector<RootBranchSpec> branches, std::string name) {
  std::vector<std::shared_ptr<const InputBuffer>> files{std::move(file)};
  return plan_root_branches(std::move(files), std::move(branches), std::move(name));
}

}  // namespace decoflow
