// decoflow._core's face of graphs/root_file.hpp and root_tree_meta.hpp: one
// call opens a ROOT file and reads a tree's metadata natively, kept in C++
// (_RootTreeMeta); Python gets what it selects branches by in one crossing
// (paths, names, each branch's kind index into the tree's distinct kinds),
// and _core._RootTree builds the read's basket tables from it natively — no
// Python object per basket table. One branch's whole row (leaves, basket
// table as NumPy arrays) is there on request, for listings and tests.
#include "root_meta.hpp"

#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "decoflow/root_file.hpp"
#include "decoflow/root_tree_meta.hpp"

namespace nb = nanobind;

namespace decoflow::python {

namespace {

using Int64Array = nb::ndarray<nb::numpy, std::int64_t, nb::ndim<1>>;

Int64Array to_numpy(std::vector<std::int64_t> values) {
  auto* owned = new std::vector<std::int64_t>(std::move(values));
  nb::capsule free(owned, [](void* p) noexcept { delete static_cast<std::vector<std::int64_t>*>(p); });
  return Int64Array(owned->data(), {owned->size()}, free);
}

// One string per distinct kind: the tree's kinds are made once each, and
// Python compares kinds across files by it (doubles in full: two ranges must
// never share a key).
std::string kind_key(const RootBranchKind& k) {
  const auto exact = [](double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", v);
    return std::string(text);
  };
  std::string key = std::string(to_string(k.type)) + "|" + std::string(to_string(k.layout)) + "|" +
                    std::to_string(k.header_bytes) + "|" + std::string(to_string(k.coding)) + "|" +
                    std::to_string(k.nbits) + "|" + exact(k.low) + "|" +
                    exact(k.high) + "|" + std::to_string(k.depth) + "|" +
                    (k.leaf_strings ? "s" : "n") + "|";
  for (auto v : k.inner) key += std::to_string(v) + ",";
  for (const auto& f : k.record) {
    key += "|" + f.name + ":" + std::string(to_string(f.type));
    for (auto v : f.dims) key += "," + std::to_string(v);
  }
  for (const auto& [prefix, name] : k.classes) key += "|" + prefix + "=" + name;
  return key;
}

nb::object kind_dict(const RootBranchKind& k) {
  nb::dict d;
  d["type"] = std::string(to_string(k.type));
  d["layout"] = std::string(to_string(k.layout));
  d["items"] = k.items();
  d["header_bytes"] = static_cast<unsigned>(k.header_bytes);
  d["coding"] = std::string(to_string(k.coding));
  d["nbits"] = static_cast<unsigned>(k.nbits);
  d["low"] = k.low;
  d["high"] = k.high;
  nb::list widths;
  for (auto w : k.field_widths()) widths.append(static_cast<unsigned>(w));
  d["fields"] = widths;
  d["depth"] = static_cast<unsigned>(k.depth);
  d["leaf_strings"] = k.leaf_strings;
  nb::list inner;
  for (auto v : k.inner) inner.append(v);
  d["inner"] = nb::tuple(inner);
  nb::list record;
  for (const auto& f : k.record) {
    nb::list dims;
    for (auto v : f.dims) dims.append(v);
    record.append(nb::make_tuple(f.name, std::string(to_string(f.type)), nb::tuple(dims)));
  }
  d["record"] = record;
  nb::list classes;
  for (const auto& [prefix, name] : k.classes) classes.append(nb::make_tuple(prefix, name));
  d["classes"] = classes;
  d["key"] = kind_key(k);
  return d;
}

// One branch: (path, name, class, kind dict or None, why unknown, fEntries,
// parent index or -1, leaves [(class, name, title)], seeks, sizes, bounds
// (n + 1), embedded [bytes as the engine reads them], borders (-1 for baskets
// on file), files (0), numbers, inputs (the embedded list's index, -1 for
// baskets on file), fTotBytes): the basket table as decoflow.root's
// BranchTable holds it for one file.
nb::tuple branch_tuple(const RootTreeMeta& tree, std::size_t i) {
  const RootBranchMeta& b = tree.branches[i];
  std::vector<std::int64_t> seeks, sizes, bounds, borders, numbers, inputs;
  nb::list embedded;
  bounds.push_back(b.baskets.empty() ? 0 : static_cast<std::int64_t>(b.baskets.front().entry_begin));
  for (const RootBasketRef& r : b.baskets) {
    const bool inside = r.framing == ChunkFraming::embedded;
    std::size_t size = r.bytes;
    if (inside) {
      const RootEmbeddedBasket& e = b.embedded[r.input];
      if (b.kind) {
        const auto bytes = embedded_input(e, *b.kind);
        size = bytes.size();
        embedded.append(nb::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
      } else {
        size = e.values.size();
        embedded.append(nb::bytes(reinterpret_cast<const char*>(e.values.data()), e.values.size()));
      }
    }
    seeks.push_back(inside ? 0 : static_cast<std::int64_t>(r.seek));
    sizes.push_back(static_cast<std::int64_t>(size));
    bounds.push_back(static_cast<std::int64_t>(r.entry_end));
    borders.push_back(inside ? static_cast<std::int64_t>(r.border) : -1);
    numbers.push_back(static_cast<std::int64_t>(numbers.size()));
    inputs.push_back(inside ? static_cast<std::int64_t>(r.input) : -1);
  }
  const std::size_t n = seeks.size();
  nb::list leaves;
  for (const RootLeafMeta& l : b.leaves) leaves.append(nb::make_tuple(l.class_name, l.name, l.title));
  return nb::make_tuple(b.path, b.name, b.class_name,
                        b.kind ? kind_dict(*b.kind) : nb::object(nb::none()), b.unknown, b.entries,
                        b.parent ? static_cast<std::int64_t>(*b.parent) : std::int64_t{-1}, leaves,
                        to_numpy(std::move(seeks)), to_numpy(std::move(sizes)),
                        to_numpy(std::move(bounds)), embedded, to_numpy(std::move(borders)),
                        to_numpy(std::vector<std::int64_t>(n, 0)), to_numpy(std::move(numbers)),
                        to_numpy(std::move(inputs)), b.tot_bytes);
}

}  // namespace

void bind_root_meta(nb::module_& m) {
  m.def("_root_keys", [](const std::string& path) {
    std::vector<std::pair<std::string, RootKey>> keys;
    {
      nb::gil_scoped_release release;
      keys = RootFile::open(path).walk();
    }
    nb::list out;
    for (const auto& [p, k] : keys) out.append(nb::make_tuple(p, k.cycle, k.class_name, k.title));
    return out;
  }, nb::arg("path"), "Every key of the ROOT file: (path, cycle, class name, title), natively.");

  nb::class_<NativeTreeMeta>(m, "_RootTreeMeta",
                              "A TTree's metadata, read natively and kept in C++ "
                              "(decoflow._core._root_tree_meta).")
      .def_ro("path", &NativeTreeMeta::path)
      .def_prop_ro("name", [](const NativeTreeMeta& t) { return t.meta->name; })
      .def_prop_ro("entries", [](const NativeTreeMeta& t) { return t.meta->entries; })
      .def("__len__", [](const NativeTreeMeta& t) { return t.meta->branches.size(); })
      .def("table", [](const NativeTreeMeta& t) {
        // Per branch its path, name and kind (an index into `kinds`, the
        // tree's distinct kinds as dicts; -1: not typed, see why()), and
        // fTotBytes: what decoflow.root selects and plans by.
        const auto& branches = t.meta->branches;
        nb::list paths, names, kinds;
        std::vector<std::int64_t> kind_index, tot_bytes;
        std::map<std::string, std::int64_t> seen;
        for (const RootBranchMeta& b : branches) {
          paths.append(nb::str(b.path.data(), b.path.size()));
          names.append(nb::str(b.name.data(), b.name.size()));
          tot_bytes.push_back(static_cast<std::int64_t>(b.tot_bytes));
          if (!b.kind) {
            kind_index.push_back(-1);
            continue;
          }
          const auto [at, added] = seen.try_emplace(kind_key(*b.kind),
                                                    static_cast<std::int64_t>(seen.size()));
          if (added) kinds.append(kind_dict(*b.kind));
          kind_index.push_back(at->second);
        }
        return nb::make_tuple(paths, names, kinds, to_numpy(std::move(kind_index)),
                              to_numpy(std::move(tot_bytes)));
      }, "(paths, names, kinds, kind index per branch (-1: not typed), fTotBytes per branch).")
      .def("why", [](const NativeTreeMeta& t, std::size_t i) { return t.meta->branches.at(i).unknown; },
           nb::arg("i"), "Why branch i is not typed natively ('' when it is).")
      .def("branch", [](const NativeTreeMeta& t, std::size_t i) {
        if (i >= t.meta->branches.size()) throw nb::index_error("no such branch");
        return branch_tuple(*t.meta, i);
      }, nb::arg("i"),
      "Branch i whole: (path, name, class, kind dict or None, why unknown, fEntries, parent "
      "index or -1, leaves [(class, name, title)], seeks, sizes, bounds, embedded, borders, "
      "files, numbers, inputs, fTotBytes).");

  m.def("_root_tree_meta", [](const std::string& path, const std::string& tree) {
    auto meta = std::make_shared<RootTreeMeta>();
    {
      nb::gil_scoped_release release;  // maps the file, decompresses the tree's key
      const RootFile file = RootFile::open(path);
      const auto key = file.find(tree);
      if (!key) {
        throw Error(ErrorCode::invalid_argument, path + ": no key '" + tree + "'");
      }
      if (key->class_name != "TTree") {
        throw Error(ErrorCode::invalid_argument,
                    file.describe(*key) + ": a " + key->class_name + ", not a TTree");
      }
      *meta = read_root_tree(file, *key);
    }
    return NativeTreeMeta{path, std::move(meta)};
  }, nb::arg("path"), nb::arg("tree"), "A TTree's metadata read natively (a _RootTreeMeta).");
}

}  // namespace decoflow::python
