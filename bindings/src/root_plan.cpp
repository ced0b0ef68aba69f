// decoflow._core's face of graphs/root_branches.hpp: decoflow.root describes a
// read once (the files and each branch's basket table, as uproot's arrays),
// plans and fills a graph in one call, and collects every branch in one call.
// A branch whose metadata decoflow read natively is given by reference to it
// (root_meta.hpp): its table is built here, not in Python.
#include "root_plan.hpp"

#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "decoflow/error.hpp"
#include "decoflow/input.hpp"
#include "decoflow/root_branches.hpp"
#include "py_array.hpp"
#include "py_graph.hpp"
#include "root_meta.hpp"

namespace nb = nanobind;

namespace decoflow::python {

namespace {

using Int64Column = nb::ndarray<const std::int64_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;

nb::object wrap_array(std::shared_ptr<DestinationArray> array, std::string format,
                      Py_ssize_t itemsize) {
  if (!array) return nb::none();
  const auto items = static_cast<Py_ssize_t>(array->size()) / itemsize;
  return nb::cast(new PyArray(std::move(array), std::move(format), itemsize, {items}),
                  nb::rv_policy::take_ownership);
}

nb::object to_python(const Error& e) {
  nb::object make = nb::module_::import_("decoflow._errors").attr("_from_native");
  nb::object chunk = e.chunk() == no_chunk ? nb::object(nb::none()) : nb::object(nb::int_(e.chunk()));
  return make(static_cast<int>(e.code()), e.what(), e.cause(), e.graph(), e.node(), chunk);
}

RootBranchSpec make_spec(nb::handle item) {
  // (name, kind, seeks, bytes, entry_bounds, files, numbers, inputs, borders):
  // kind = {"type", "layout", "items", "header_bytes", "coding", "nbits", "low",
  // "high", "fields", "depth", "leaf_strings"}; per basket its seek, size, file index, number in its file,
  // and for a basket embedded in its TBranch the input holding it and its value
  // bytes (-1 for the others); n + 1 entry bounds.
  const nb::tuple t = nb::cast<nb::tuple>(item);
  if (t.size() != 9) throw nb::value_error("_RootTree: a branch table has 9 fields");
  RootBranchSpec spec;
  spec.name = nb::cast<std::string>(t[0]);
  const nb::dict kind = nb::cast<nb::dict>(t[1]);
  const std::string type = nb::cast<std::string>(kind["type"]);
  const std::string layout = nb::cast<std::string>(kind["layout"]);
  const std::string coding = nb::cast<std::string>(kind["coding"]);
  const auto parsed_type = root_type_from_string(type);
  const auto parsed_layout = column_layout_from_string(layout);
  const auto parsed_coding = element_coding_from_string(coding);
  if (!parsed_type || !parsed_layout || !parsed_coding) {
    throw Error(ErrorCode::unsupported_format, "branch '" + spec.name + "': element type '" +
                                                   type + "', layout '" + layout +
                                                   "' or coding '" + coding + "' is not supported");
  }
  spec.type = *parsed_type;
  spec.layout = *parsed_layout;
  spec.coding = *parsed_coding;
  spec.items_per_entry = nb::cast<std::uint64_t>(kind["items"]);
  const auto small = [&](const char* key) {
    const auto v = nb::cast<unsigned>(kind[key]);
    if (v > 255) throw nb::value_error(("_RootTree: " + std::string(key) + " over 255").c_str());
    return static_cast<std::uint8_t>(v);
  };
  spec.header_bytes = small("header_bytes");
  spec.nbits = small("nbits");
  spec.low = nb::cast<double>(kind["low"]);
  spec.high = nb::cast<double>(kind["high"]);
  const auto depth = nb::cast<unsigned>(kind["depth"]);
  if (depth > 255) throw nb::value_error("_RootTree: depth over 255");
  spec.depth = static_cast<std::uint8_t>(depth);
  spec.leaf_strings = nb::cast<bool>(kind["leaf_strings"]);
  for (nb::handle w : nb::cast<nb::list>(kind["fields"])) {
    const auto width = nb::cast<unsigned>(w);
    if (width > 255) throw nb::value_error("_RootTree: a field over 255 bytes");
    spec.fields.push_back(static_cast<std::uint8_t>(width));
  }
  const auto seeks = nb::cast<Int64Column>(t[2]);
  const auto bytes = nb::cast<Int64Column>(t[3]);
  const auto bounds = nb::cast<Int64Column>(t[4]);
  const auto files = nb::cast<Int64Column>(t[5]);
  const auto numbers = nb::cast<Int64Column>(t[6]);
  const auto inputs = nb::cast<Int64Column>(t[7]);
  const auto borders = nb::cast<Int64Column>(t[8]);
  const std::size_t n = seeks.shape(0);
  if (bytes.shape(0) != n || bounds.shape(0) != n + 1 || files.shape(0) != n ||
      numbers.shape(0) != n || inputs.shape(0) != n || borders.shape(0) != n) {
    throw nb::value_error(("branch '" + spec.name + "': " + std::to_string(n) + " seeks, " +
                           std::to_string(bytes.shape(0)) + " sizes, " +
                           std::to_string(bounds.shape(0)) + " entry bounds, " +
                           std::to_string(files.shape(0)) + " files and " +
                           std::to_string(numbers.shape(0)) + " numbers, " +
                           std::to_string(inputs.shape(0)) + " inputs and " +
                           std::to_string(borders.shape(0)) +
                           " borders (need n, n, n + 1, n, n, n, n)")
                              .c_str());
  }
  spec.baskets.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t s = seeks(i), b = bytes(i), e0 = bounds(i), e1 = bounds(i + 1);
    const std::int64_t f = files(i), number = numbers(i);
    if (s < 0 || b < 0 || e0 < 0 || e1 < 0 || f < 0 || f > INT32_MAX || number < 0) {
      throw nb::value_error(("branch '" + spec.name + "' basket " + std::to_string(number) +
                             ": negative seek, size, entry, file or number in the basket table")
                                .c_str());
    }
    RootBasketRef& r = spec.baskets[i];
    r.seek = static_cast<std::uint64_t>(s);
    r.bytes = static_cast<std::uint64_t>(b);
    r.entry_begin = static_cast<std::uint64_t>(e0);
    r.entry_end = static_cast<std::uint64_t>(e1);
    r.file = static_cast<std::uint32_t>(f);
    r.number = static_cast<std::uint64_t>(number);
    if (inputs(i) >= 0) {  // kept inside its TBranch record
      if (inputs(i) > INT32_MAX || borders(i) < 0) {
        throw nb::value_error(("branch '" + spec.name + "' basket " + std::to_string(number) +
                               ": an embedded basket's input or border out of range")
                                  .c_str());
      }
      r.framing = ChunkFraming::embedded;
      r.input = static_cast<std::uint32_t>(inputs(i));
      r.border = static_cast<std::uint64_t>(borders(i));
    }
  }
  return spec;
}

// A branch the native metadata reader typed: (name, [_RootTreeMeta per
// file], [its index in each]); its table is made here from the metadata, its
// embedded baskets' bytes appended to `kept` (inputs from `first_input`).
RootBranchSpec native_spec(nb::handle item, std::uint32_t first_input,
                           std::vector<std::vector<std::byte>>& kept) {
  const nb::tuple t = nb::cast<nb::tuple>(item);
  const nb::list metas = nb::cast<nb::list>(t[1]);
  const nb::list indices = nb::cast<nb::list>(t[2]);
  if (metas.size() != indices.size()) {
    throw nb::value_error("_RootTree: a native branch needs one index per tree");
  }
  std::vector<const RootBranchMeta*> per_file;
  for (std::size_t f = 0; f < metas.size(); ++f) {
    const NativeTreeMeta& tree = nb::cast<const NativeTreeMeta&>(metas[f]);
    per_file.push_back(&tree.meta->branches.at(nb::cast<std::size_t>(indices[f])));
  }
  RootBranchSpec spec = root_branch_spec(per_file, first_input, kept);
  spec.name = nb::cast<std::string>(t[0]);  // as the caller named it
  return spec;
}

RootTree make_tree(const std::vector<std::string>& paths, nb::list tables, std::string name,
                   nb::list embedded) {
  // Embedded baskets are small (one per branch and file at most): copied.
  // uproot's tables count theirs first, the native branches' follow.
  std::vector<std::shared_ptr<const InputBuffer>> buffers;
  for (nb::handle item : embedded) {
    const nb::bytes data = nb::cast<nb::bytes>(item);
    const auto* p = static_cast<const std::byte*>(static_cast<const void*>(data.c_str()));
    buffers.push_back(InputBuffer::from_bytes(std::vector<std::byte>(p, p + data.size())));
  }
  const auto first_native_input = static_cast<std::uint32_t>(paths.size() + buffers.size());
  std::vector<std::vector<std::byte>> kept;
  std::vector<RootBranchSpec> branches;
  branches.reserve(tables.size());
  for (nb::handle item : tables) {
    branches.push_back(nb::len(item) == 3 ? native_spec(item, first_native_input, kept)
                                          : make_spec(item));
  }
  for (auto& bytes : kept) buffers.push_back(InputBuffer::from_bytes(std::move(bytes)));
  std::vector<std::shared_ptr<const InputBuffer>> files;
  {
    nb::gil_scoped_release release;  // mapping may touch the disk
    for (const auto& path : paths) files.push_back(InputBuffer::map_file(path));
  }
  return RootTree(std::move(files), std::move(branches), std::move(name), std::move(buffers));
}

}  // namespace

void bind_root(nb::module_& m) {
  nb::class_<RootReadPlan>(m, "_RootPlan", "A planned ROOT read (see decoflow.root).")
      .def("collect", [](RootReadPlan& plan) {
        // Per branch: (content, content_begin, content_items, offsets, starts,
        // entry_begin, entries, chunk_begin, chunk_end, failure, levels),
        // failure = None or (decoflow.Error, file index, basket number), levels
        // (nested) [(offsets, begin, count)] below the entries'.
        std::vector<RootBranchResult> results;
        {
          nb::gil_scoped_release release;  // hands values over, rebases offsets
          results = plan.collect();
        }
        nb::list out;
        for (std::size_t b = 0; b < results.size(); ++b) {
          RootBranchResult& r = results[b];
          const RootBranchSpec& spec = plan.branch(b);
          nb::object failure = nb::none();
          if (r.failure) {
            failure = nb::make_tuple(to_python(r.failure->error), r.failure->file, r.failure->basket);
          }
          const auto width = static_cast<Py_ssize_t>(root_type_width(spec.type));
          nb::list levels;
          for (RootBranchResult::Level& level : r.levels) {
            levels.append(nb::make_tuple(wrap_array(std::move(level.offsets), "q", 8), level.begin,
                                         level.count));
          }
          out.append(nb::make_tuple(
              wrap_array(std::move(r.content), std::string(root_type_format(spec.type)), width),
              r.content_begin, r.content_items, wrap_array(std::move(r.offsets), "q", 8),
              wrap_array(std::move(r.starts), "q", 8), r.entry_begin, r.entries, r.chunk_begin,
              r.chunk_end, failure, levels));
        }
        return out;
      }, "Once the graph has run: every branch's window and failure (call once).")
      .def("locate", [](const RootReadPlan& plan, std::size_t chunk) -> nb::object {
        const auto at = plan.locate(chunk);
        if (!at) return nb::none();
        return nb::make_tuple(at->branch, at->file, at->basket, at->where);
      }, nb::arg("chunk"), "(branch, file, basket, where) of a graph chunk, or None.");

  nb::class_<RootTree>(m, "_RootTree", "Branches of one tree in mapped ROOT files.")
      .def("__init__", [](RootTree* self, std::vector<std::string> paths, nb::list tables,
                          std::string name, nb::list embedded) {
        new (self) RootTree(make_tree(paths, tables, std::move(name), embedded));
      }, nb::arg("paths"), nb::arg("tables"), nb::arg("name"), nb::arg("embedded"),
      "Maps the files (one tree each, read as one) with each branch's table: (name, kind, "
      "seeks, sizes, entry_bounds, files, numbers, inputs, borders), or (name, "
      "[_RootTreeMeta per file], [the branch's index in each]) for one read natively, kind a dict (type, "
      "layout, items, header_bytes, coding, nbits, low, high, fields, depth, leaf_strings); `embedded`: the bytes "
      "of baskets kept in TBranch records (inputs len(paths), len(paths) + 1, ...).")
      .def("plan", [](const RootTree& tree, PyGraph& graph,
                      std::optional<std::tuple<std::uint64_t, std::uint64_t>> window,
                      std::vector<Stage> stages, RootReadPlan* previous) {
        std::optional<EntryRange> range;
        if (window) range = EntryRange{std::get<0>(*window), std::get<1>(*window)};
        std::optional<RootReadPlan> plan;
        {
          nb::gil_scoped_release release;  // reads jagged baskets' keys, allocates
          plan.emplace(tree.plan(range, previous));
          graph.graph = std::make_shared<Graph>(plan->make_graph(std::move(stages)));
        }
        graph.array_ids.clear();
        return std::move(*plan);
      }, nb::arg("graph"), nb::arg("window").none(), nb::arg("stages"),
      nb::arg("previous").none(),
      "Plans entries [start, stop) (None: every basket) and makes `graph` (an empty "
      "decoflow.Graph) its graph, `stages` after the native one; `previous`: the step "
      "before, whose last baskets are not decoded again.");
}

}  // namespace decoflow::python
