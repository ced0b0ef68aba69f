#include "decoflow/rntuple_fields.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace decoflow {

namespace {

// The specification's structural roles and field flags.
constexpr std::uint16_t kLeaf = 0, kCollection = 1, kRecord = 2, kVariant = 3, kStreamer = 4;
constexpr std::uint16_t kRepetitive = 0x1;

Error unsupported(const std::string& path, const std::string& type, const std::string& what) {
  return Error(ErrorCode::unsupported_format, "field '" + path + "' (" + type + "): " + what);
}

// Plans one field's tree. `stem`: where its values are written (PATH);
// `level`: the lists between it and its record (its offsets' names);
// `path`: its dotted path from the top-level field (errors).
class Planner {
 public:
  Planner(const RNTuple& ntuple, std::vector<RNTupleFieldColumn>& columns)
      : ntuple_(ntuple), fields_(ntuple.fields()), columns_(columns), children_(fields_.size()) {
    for (std::uint32_t i = 0; i < fields_.size(); ++i) {
      if (fields_[i].parent != i) children_[fields_[i].parent].push_back(i);
    }
  }

  const std::vector<std::uint32_t>& children(std::uint32_t field) const { return children_[field]; }

  RNTupleFieldNode plan(std::uint32_t id, const std::string& stem, unsigned level, const std::string& path) {
    const RNTupleField& f = fields_[id];
    // A subfield's depth is bounded by the file's bytes only: bound the
    // recursion (here, collect()'s walk and describe_type()) by what a
    // schema needs (RNTuple::entry_column looks as deep).
    if (++depth_ > kMaxDepth) {
      throw unsupported(path, f.type, "subfields nested over " + std::to_string(kMaxDepth) + " levels deep");
    }
    struct Leave {
      unsigned& depth;
      ~Leave() { --depth; }
    } leave{depth_};
    const std::size_t slots = f.representations ? f.columns.size() / f.representations : 0;
    const std::vector<std::uint32_t>& kids = children_[id];
    RNTupleFieldNode node;
    node.field = id;
    node.name = f.name;
    node.type = f.type;
    if (f.role == kVariant) {
      if (slots != 1 || kids.empty()) throw unsupported(path, f.type, "a variant without one switch column and alternatives");
      node.kind = RNTupleFieldNode::Kind::variant;
      node.column = add(id, 0, stem, false, path);
      for (const std::uint32_t kid : kids) {
        node.children.push_back(plan(kid, stem + "." + fields_[kid].name, 0, path + "." + fields_[kid].name));
      }
      return node;
    }
    if (f.role == kStreamer) throw unsupported(path, f.type, "fields stored with the ROOT streamer are not decoded");
    const std::string offsets = stem + ".offsets" + (level == 0 ? std::string() : std::to_string(level));
    if ((f.flags & kRepetitive) != 0) {
      node.kind = RNTupleFieldNode::Kind::fixed;
      node.size = f.array_size;
      if (slots == 1 && kids.empty()) {  // std::bitset<N>: N bits per value
        node.column = add(id, 0, stem, false, path);
      } else if (slots == 0 && kids.size() == 1) {  // std::array<T, N>
        node.children.push_back(plan(kids[0], stem, level, path + "." + fields_[kids[0]].name));
      } else {
        throw unsupported(path, f.type, "a fixed-size array of this shape is not decoded");
      }
      return node;
    }
    if (f.role == kCollection) {
      if (slots != 1 || kids.size() != 1) {
        throw unsupported(path, f.type, "a collection without one index column and one item field");
      }
      node.kind = RNTupleFieldNode::Kind::collection;
      node.column = add(id, 0, offsets, true, path);
      node.children.push_back(plan(kids[0], stem, level + 1, path + "." + fields_[kids[0]].name));
      return node;
    }
    if (f.role == kLeaf && slots == 2 && kids.empty()) {
      node.kind = RNTupleFieldNode::Kind::string;
      node.column = add(id, 0, offsets, true, path);
      node.content = add(id, 1, stem, false, path);
      return node;
    }
    if (f.role == kLeaf && slots == 1 && kids.empty()) {
      // ROOT::RNTupleCardinality: a projection of a collection's offsets.
      const bool cardinality = f.type.rfind("ROOT::RNTupleCardinality<", 0) == 0;
      node.kind = cardinality ? RNTupleFieldNode::Kind::cardinality : RNTupleFieldNode::Kind::values;
      node.column = add(id, 0, stem, cardinality, path);
      return node;
    }
    if (f.role == kLeaf && slots == 0 && kids.size() == 1) {  // std::atomic<T>, enums: their T
      RNTupleFieldNode inner = plan(kids[0], stem, level, path + "." + fields_[kids[0]].name);
      inner.name = f.name;  // in its record; its type stays T's
      return inner;
    }
    if (f.role == kRecord && slots == 0) {
      node.kind = RNTupleFieldNode::Kind::record;
      for (const std::uint32_t kid : kids) {
        node.children.push_back(plan(kid, stem + "." + fields_[kid].name, 0, path + "." + fields_[kid].name));
      }
      return node;
    }
    throw unsupported(path, f.type,
                      "a field of structural role " + std::to_string(f.role) + " with " + std::to_string(slots) +
                          " columns and " + std::to_string(kids.size()) + " subfields is not decoded");
  }

 private:
  std::size_t add(std::uint32_t field, std::uint32_t slot, std::string name, bool offsets, const std::string& path) {
    RootType type;
    try {
      type = ntuple_.value_type(field, slot);
    } catch (const Error& e) {
      // value_type names the subfield by its own name: name the path too.
      if (e.code() != ErrorCode::unsupported_format) throw;
      throw Error(e.code(), "in field '" + path + "': " + e.cause());
    }
    columns_.push_back({std::move(name), field, slot, offsets, type});
    return columns_.size() - 1;
  }

  static constexpr unsigned kMaxDepth = 64;

  const RNTuple& ntuple_;
  unsigned depth_ = 0;
  const std::vector<RNTupleField>& fields_;
  std::vector<RNTupleFieldColumn>& columns_;
  std::vector<std::vector<std::uint32_t>> children_;
};

// Whether two RNTuples' schemas mean the same fields and columns (files
// read as one share field ids and column slots).
bool same_fields(const RNTuple& a, const RNTuple& b) {
  const auto& fa = a.fields();
  const auto& fb = b.fields();
  if (fa.size() != fb.size()) return false;
  for (std::size_t i = 0; i < fa.size(); ++i) {
    const RNTupleField& x = fa[i];
    const RNTupleField& y = fb[i];
    const auto slots = [](const RNTupleField& f) { return f.representations ? f.columns.size() / f.representations : 0; };
    if (x.name != y.name || x.type != y.type || x.parent != y.parent || x.role != y.role || x.flags != y.flags ||
        x.array_size != y.array_size || x.source != y.source || slots(x) != slots(y)) {
      return false;
    }
  }
  return true;
}

std::string top_list(const RNTuple& ntuple) {
  std::string out;
  for (const std::string& name : rntuple_top_fields(ntuple)) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

std::vector<std::string> rntuple_top_fields(const RNTuple& ntuple) {
  std::vector<std::string> out;
  const auto& fields = ntuple.fields();
  for (std::uint32_t i = 0; i < fields.size(); ++i) {
    if (fields[i].parent == i) out.push_back(fields[i].name);
  }
  return out;
}

RNTupleFieldNode plan_rntuple_field(const RNTuple& ntuple, std::string_view path,
                                    std::vector<RNTupleFieldColumn>& columns) {
  Planner planner(ntuple, columns);
  const auto& fields = ntuple.fields();
  // Field names hold no '.': each part names a top-level field, then a subfield.
  std::optional<std::uint32_t> at;
  std::size_t from = 0;
  while (from <= path.size()) {
    const std::size_t dot = std::min(path.find('.', from), path.size());
    const std::string_view part = path.substr(from, dot - from);
    std::optional<std::uint32_t> next;
    if (!at) {
      for (std::uint32_t i = 0; i < fields.size() && !next; ++i) {
        if (fields[i].parent == i && fields[i].name == part) next = i;
      }
    } else if (fields[*at].role == kRecord && (fields[*at].flags & kRepetitive) == 0) {
      // Through records only: a field inside a collection or an array has
      // items, not entries (read the collection).
      for (const std::uint32_t kid : planner.children(*at)) {
        if (fields[kid].name == part) next = kid;
      }
    }
    if (!next) {
      if (at && fields[*at].role != kRecord) {
        throw Error(ErrorCode::invalid_argument,
                    "RNTuple '" + ntuple.name() + "': no field '" + std::string(path) + "': '" +
                        std::string(path.substr(0, from - 1)) + "' is a " + fields[*at].type +
                        ", not a record (a path goes through records only)");
      }
      throw Error(ErrorCode::invalid_argument, "RNTuple '" + ntuple.name() + "': no field '" + std::string(path) +
                                                   "' (its fields: " + top_list(ntuple) + ")");
    }
    at = next;
    from = dot + 1;
  }
  const std::string name(path);
  return planner.plan(*at, name, 0, name);
}

std::string describe_type(const RNTupleFieldNode& node, const std::vector<RNTupleFieldColumn>& columns) {
  using Kind = RNTupleFieldNode::Kind;
  switch (node.kind) {
    case Kind::values: return std::string(to_string(columns.at(node.column).type));
    case Kind::collection: return "var * " + describe_type(node.children.at(0), columns);
    case Kind::string: return "string";
    case Kind::cardinality: return "int64";
    case Kind::fixed:
      return std::to_string(node.size) + " * " +
             (node.children.empty() ? std::string(to_string(columns.at(node.column).type))
                                    : describe_type(node.children[0], columns));
    case Kind::variant: {
      std::string out = "union[";
      for (const RNTupleFieldNode& child : node.children) {
        out += (out.size() > 6 ? ", " : "") + describe_type(child, columns);
      }
      return out + "]";
    }
    case Kind::record: {
      std::string out = "{";
      for (const RNTupleFieldNode& child : node.children) {
        out += (out.size() > 1 ? ", " : "") + child.name + ": " + describe_type(child, columns);
      }
      return out + "}";
    }
  }
  return "unknown";
}

// ------------------------------------------------------------------ reader

RNTupleFieldReader::RNTupleFieldReader(std::vector<std::shared_ptr<const RNTuple>> ntuples,
                                       std::vector<std::string> fields)
    : ntuples_(std::move(ntuples)) {
  if (ntuples_.empty()) throw Error(ErrorCode::invalid_argument, "RNTupleFieldReader: no RNTuples");
  for (const auto& t : ntuples_) {
    if (!t) throw Error(ErrorCode::invalid_argument, "RNTupleFieldReader: a null RNTuple");
  }
  if (fields.empty()) throw Error(ErrorCode::invalid_argument, "RNTupleFieldReader: no fields");
  const RNTuple& first = *ntuples_.front();
  for (std::size_t k = 1; k < ntuples_.size(); ++k) {
    if (!same_fields(first, *ntuples_[k])) {
      throw Error(ErrorCode::invalid_argument,
                  "RNTuple '" + ntuples_[k]->name() + "' of file " + std::to_string(k) + " (" +
                      ntuples_[k]->file()->path() + "): its fields differ from file 0's (" + first.file()->path() +
                      "): files read as one must hold the same fields");
    }
  }
  for (std::string& name : fields) {
    if (std::find(names_.begin(), names_.end(), name) != names_.end()) continue;  // each read once
    std::vector<RNTupleFieldColumn> columns;
    fields_.push_back(plan_rntuple_field(first, name, columns));
    for (std::size_t k = 1; k < ntuples_.size(); ++k) {
      for (const RNTupleFieldColumn& c : columns) {
        // The same schema may still store a column in another type (a
        // Real32Trunc float in one file, a Real16 one in the next).
        if (ntuples_[k]->value_type(c.field, c.slot) != c.type) {
          throw Error(ErrorCode::invalid_argument,
                      "field '" + name + "': column '" + c.name + "' holds " + std::string(to_string(c.type)) +
                          " in file 0, " + std::string(to_string(ntuples_[k]->value_type(c.field, c.slot))) +
                          " in file " + std::to_string(k) + ": files read as one must store it alike");
        }
      }
    }
    columns_.push_back(std::move(columns));
    names_.push_back(std::move(name));
  }
}

std::uint64_t RNTupleFieldReader::entries() const noexcept {
  std::uint64_t n = 0;
  for (const auto& t : ntuples_) n += t->entries();
  return n;
}

RNTupleFieldRead RNTupleFieldReader::plan(std::optional<EntryRange> window) const {
  const std::uint64_t total = entries();
  if (window && window->stop < window->start) {
    throw Error(ErrorCode::invalid_argument, "RNTupleFieldReader: entries [" + std::to_string(window->start) +
                                                 ", " + std::to_string(window->stop) + ") end before they start");
  }
  EntryRange w{0, total};
  if (window) w = {std::min(window->start, total), std::min(window->stop, total)};

  // Per file the clusters holding entries of the window (whole clusters:
  // pages do not split at entries).
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  std::optional<std::uint64_t> clusters_first_entry;
  std::uint64_t base = 0;
  for (const auto& t : ntuples_) {
    const std::uint64_t n = t->entries();
    const auto& clusters = t->clusters();
    std::size_t first = 0, end = 0;
    if (!window) {
      end = clusters.size();
    } else if (w.start < base + n && w.stop > base && w.start < w.stop) {
      const std::uint64_t lo = w.start - std::min(w.start, base), hi = std::min(w.stop - base, n);
      first = clusters.size();
      for (std::size_t k = 0; k < clusters.size(); ++k) {
        if (clusters[k].first_entry + clusters[k].entries > lo && first == clusters.size()) first = k;
        if (clusters[k].first_entry < hi) end = k + 1;
      }
      end = std::max(end, first);
    }
    if (first < end && !clusters_first_entry) clusters_first_entry = base + clusters[first].first_entry;
    ranges.emplace_back(first, end);
    base += n;
  }

  std::vector<RNTupleColumnRef> refs;
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    for (const RNTupleFieldColumn& c : columns_[i]) {
      refs.push_back({"field '" + names_[i] + "' column '" + c.name + "'", c.field, c.slot});
    }
  }
  std::string name = "rntuple:" + ntuples_.front()->name();
  if (ntuples_.size() > 1) name += " +" + std::to_string(ntuples_.size() - 1) + " files";
  const RootTree tree = rntuple_tree(ntuples_, refs, ranges, std::move(name));
  return RNTupleFieldRead(names_, fields_, columns_, tree.plan(), w, clusters_first_entry.value_or(w.start));
}

// ------------------------------------------------------------------ results

RNTupleFieldRead::RNTupleFieldRead(std::vector<std::string> names, std::vector<RNTupleFieldNode> fields,
                                   std::vector<std::vector<RNTupleFieldColumn>> columns, RootReadPlan plan,
                                   EntryRange window, std::uint64_t clusters_first_entry)
    : names_(std::move(names)),
      fields_(std::move(fields)),
      columns_(std::move(columns)),
      plan_(std::move(plan)),
      window_(window),
      clusters_first_entry_(clusters_first_entry) {}

namespace {

// Cuts one field's columns to its entries, walking its tree: a node's
// items [a, b) are its column's elements, or (collections, strings) bound
// its items' range through its offsets.
class Slicer {
 public:
  Slicer(const std::string& field, const std::vector<RNTupleFieldColumn>& columns,
         const std::vector<RootBranchResult>& results, std::size_t first_branch)
      : field_(field), columns_(columns), results_(results), first_(first_branch), out_(columns.size()) {}

  void walk(const RNTupleFieldNode& node, std::uint64_t a, std::uint64_t b) {
    using Kind = RNTupleFieldNode::Kind;
    switch (node.kind) {
      case Kind::values: take(node.column, a, b); return;
      case Kind::fixed:
        if (node.children.empty()) {
          take(node.column, a * node.size, b * node.size);
        } else {
          walk(node.children[0], a * node.size, b * node.size);
        }
        return;
      case Kind::record:
        for (const RNTupleFieldNode& child : node.children) walk(child, a, b);
        return;
      case Kind::variant: variant(node, a, b); return;
      case Kind::collection:
      case Kind::string:
      case Kind::cardinality: {
        const auto [lo, hi] = take_offsets(node.column, a, b);
        if (node.kind == Kind::collection) walk(node.children[0], lo, hi);
        if (node.kind == Kind::string) take(node.content, lo, hi);
        return;
      }
    }
  }

  std::vector<RNTupleColumnValues> done() { return std::move(out_); }

 private:
  const RootBranchResult& result(std::size_t column) const { return results_[first_ + column]; }

  void take(std::size_t column, std::uint64_t a, std::uint64_t b) {
    const RootBranchResult& r = result(column);
    if (b > r.entries) throw outside(column, b, r.entries);
    out_[column] = {r.content, r.content_begin + a, b - a};
  }

  // An index column's ends (with its leading 0: entries + 1 of them) for
  // items [a, b): rebased in place to start at 0; returns what they bound.
  std::pair<std::uint64_t, std::uint64_t> take_offsets(std::size_t column, std::uint64_t a, std::uint64_t b) {
    const RootBranchResult& r = result(column);
    if (b > r.entries) throw outside(column, b, r.entries);
    if (r.content->size() < (r.content_begin + b + 1) * sizeof(std::int64_t)) {
      // No page read (no entries): the one 0 that bounds nothing.
      auto zero = DestinationArray::allocate(sizeof(std::int64_t));
      std::memset(zero->data(), 0, sizeof(std::int64_t));
      out_[column] = {std::move(zero), 0, 0};
      return {0, 0};
    }
    auto* off = reinterpret_cast<std::int64_t*>(r.content->data()) + r.content_begin + a;
    const std::int64_t lo = off[0], hi = off[b - a];
    if (lo < 0 || hi < lo) {
      throw Error(ErrorCode::corrupt_input, "field '" + field_ + "' column '" + columns_[column].name +
                                                "': offsets from " + std::to_string(lo) + " to " +
                                                std::to_string(hi) + " for elements [" + std::to_string(a) + ", " +
                                                std::to_string(b) + ")");
    }
    for (std::uint64_t j = 0; j <= b - a; ++j) off[j] -= lo;
    out_[column] = {r.content, r.content_begin + a, b - a};
    return {static_cast<std::uint64_t>(lo), static_cast<std::uint64_t>(hi)};
  }

  // A variant's values [a, b): each alternative's items are those its
  // entries point at (in order: each alternative's items are appended as
  // entries are written), [first, last + 1) of it; the indexes are rebased
  // in place to count from there.
  void variant(const RNTupleFieldNode& node, std::uint64_t a, std::uint64_t b) {
    take(node.column, a, b);
    auto* packed = reinterpret_cast<std::int64_t*>(result(node.column).content->data()) +
                   result(node.column).content_begin + a;
    const std::size_t n = node.children.size();
    std::vector<std::uint64_t> first(n, ~std::uint64_t{0}), end(n, 0);
    for (std::uint64_t j = 0; j < b - a; ++j) {
      const auto tag = static_cast<std::uint64_t>(packed[j] & 0xFF);
      if (tag == 0) continue;
      const auto index = static_cast<std::uint64_t>(packed[j] >> 8);
      if (tag > n) {
        throw Error(ErrorCode::corrupt_input, "field '" + field_ + "' column '" + columns_[node.column].name +
                                                  "': tag " + std::to_string(tag) + " of " + std::to_string(n) +
                                                  " alternatives");
      }
      first[tag - 1] = std::min(first[tag - 1], index);
      end[tag - 1] = std::max(end[tag - 1], index + 1);
    }
    for (std::uint64_t j = 0; j < b - a; ++j) {
      const auto tag = static_cast<std::uint64_t>(packed[j] & 0xFF);
      if (tag != 0) packed[j] -= static_cast<std::int64_t>(first[tag - 1] << 8);
    }
    for (std::size_t k = 0; k < n; ++k) {
      if (end[k] == 0) first[k] = 0;
      walk(node.children[k], first[k], end[k]);
    }
  }

  Error outside(std::size_t column, std::uint64_t want, std::uint64_t have) const {
    return Error(ErrorCode::corrupt_input, "field '" + field_ + "' column '" + columns_[column].name + "': " +
                                              std::to_string(want) + " elements needed, " + std::to_string(have) +
                                              " decoded (offsets point past its values)");
  }

  const std::string& field_;
  const std::vector<RNTupleFieldColumn>& columns_;
  const std::vector<RootBranchResult>& results_;
  std::size_t first_;
  std::vector<RNTupleColumnValues> out_;
};

}  // namespace

std::vector<RNTupleFieldResult> RNTupleFieldRead::collect() {
  if (collected_) throw Error(ErrorCode::invalid_argument, "RNTupleFieldRead: collected twice");
  collected_ = true;
  const std::vector<RootBranchResult> results = plan_.collect();
  std::vector<RNTupleFieldResult> out(fields_.size());
  const std::uint64_t a = window_.start - clusters_first_entry_;
  const std::uint64_t b = window_.stop - clusters_first_entry_;
  std::size_t first = 0;
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    const std::vector<RNTupleFieldColumn>& columns = columns_[i];
    RNTupleFieldResult& field = out[i];
    field.entries = b - a;
    for (std::size_t c = 0; c < columns.size() && !field.failure; ++c) {
      if (results[first + c].failure) field.failure = results[first + c].failure->error;
    }
    if (!field.failure) {
      Slicer slicer(names_[i], columns, results, first);
      try {
        slicer.walk(fields_[i], a, b);
        field.columns = slicer.done();
      } catch (const Error& e) {
        field.failure = e;
      }
    }
    first += columns.size();
  }
  return out;
}

}  // namespace decoflow
