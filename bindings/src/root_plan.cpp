// decoflow._core's face of graphs/root_branches.hpp: the plan of a ROOT
// branches read, driven by decoflow/root.py (which reads the basket tables
// from uproot's metadata and builds the graph through decoflow.Graph).
#include "root_plan.hpp"

#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "decoflow/error.hpp"
#include "decoflow/input.hpp"
#include "decoflow/root_branches.hpp"
#include "py_array.hpp"

namespace nb = nanobind;

namespace decoflow::python {

namespace {

using Int64Column = nb::ndarray<const std::int64_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;

// An int64 NumPy array that owns a std::vector's data.
nb::object int64_array(std::vector<std::int64_t> values) {
  auto* owned = new std::vector<std::int64_t>(std::move(values));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<std::int64_t>*>(p); });
  return nb::cast(nb::ndarray<nb::numpy, std::int64_t, nb::ndim<1>>(owned->data(), {owned->size()},
                                                                    owner));
}

nb::object wrap_array(std::shared_ptr<DestinationArray> array, std::string format,
                      Py_ssize_t itemsize, std::vector<Py_ssize_t> shape) {
  if (!array) return nb::none();
  return nb::cast(new PyArray(std::move(array), std::move(format), itemsize, std::move(shape)),
                  nb::rv_policy::take_ownership);
}

RootBranchSpec make_spec(nb::handle item) {
  // (name, type, jagged, items_per_entry, seeks, bytes, entry_offsets, files, numbers):
  // per basket its seek, size, file index and number in its file; n + 1 entry offsets.
  const nb::tuple t = nb::cast<nb::tuple>(item);
  if (t.size() != 9) throw nb::value_error("_root_plan: a branch spec has 9 fields");
  RootBranchSpec spec;
  spec.name = nb::cast<std::string>(t[0]);
  const std::string type = nb::cast<std::string>(t[1]);
  const auto parsed = root_type_from_string(type);
  if (!parsed) {
    throw Error(ErrorCode::unsupported_format,
                "branch '" + spec.name + "': element type '" + type + "' is not supported");
  }
  spec.type = *parsed;
  spec.jagged = nb::cast<bool>(t[2]);
  spec.items_per_entry = nb::cast<std::uint64_t>(t[3]);
  const auto seeks = nb::cast<Int64Column>(t[4]);
  const auto bytes = nb::cast<Int64Column>(t[5]);
  const auto entries = nb::cast<Int64Column>(t[6]);
  const auto files = nb::cast<Int64Column>(t[7]);
  const auto numbers = nb::cast<Int64Column>(t[8]);
  const std::size_t n = seeks.shape(0);
  if (bytes.shape(0) != n || entries.shape(0) != n + 1 || files.shape(0) != n ||
      numbers.shape(0) != n) {
    throw nb::value_error(("branch '" + spec.name + "': " + std::to_string(n) + " seeks, " +
                           std::to_string(bytes.shape(0)) + " sizes, " +
                           std::to_string(entries.shape(0)) + " entry offsets, " +
                           std::to_string(files.shape(0)) + " files and " +
                           std::to_string(numbers.shape(0)) +
                           " numbers (need n, n, n + 1, n, n)")
                              .c_str());
  }
  spec.baskets.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t s = seeks(i), b = bytes(i), e0 = entries(i), e1 = entries(i + 1);
    const std::int64_t f = files(i), number = numbers(i);
    if (s < 0 || b < 0 || e0 < 0 || e1 < 0 || f < 0 || f > INT32_MAX || number < 0) {
      throw nb::value_error(("branch '" + spec.name + "' basket " + std::to_string(number) +
                             ": negative seek, size, entry, file or number in the basket table")
                                .c_str());
    }
    spec.baskets[i] = {static_cast<std::uint64_t>(s),  static_cast<std::uint64_t>(b),
                       static_cast<std::uint64_t>(e0), static_cast<std::uint64_t>(e1),
                       static_cast<std::uint32_t>(f),  static_cast<std::uint64_t>(number)};
  }
  return spec;
}

}  // namespace

void bind_root(nb::module_& m) {
  nb::class_<RootBranchesPlan>(m, "_RootPlan",
                               "The plan of one ROOT branches read (see decoflow.root).")
      .def_prop_ro("branch_count", &RootBranchesPlan::branch_count)
      .def("first_entry", &RootBranchesPlan::first_entry, nb::arg("branch"))
      .def("entries", &RootBranchesPlan::entries, nb::arg("branch"))
      .def("content_items", &RootBranchesPlan::content_items, nb::arg("branch"))
      .def("content", [](const RootBranchesPlan& p, std::size_t i, std::string format,
                         Py_ssize_t itemsize, std::vector<Py_ssize_t> shape) {
        return wrap_array(p.content(i), std::move(format), itemsize, std::move(shape));
      }, nb::arg("branch"), nb::arg("format"), nb::arg("itemsize"), nb::arg("shape"),
      "Branch i's content array with this element format and shape, or None.")
      .def("offsets", [](const RootBranchesPlan& p, std::size_t i) {
        const std::uint64_t n = p.entries(i) + 1;
        return wrap_array(p.offsets(i), "q", 8, {static_cast<Py_ssize_t>(n)});
      }, nb::arg("branch"), "Jagged branch i's int64 entry offsets, or None.")
      .def("chunks", [](const RootBranchesPlan& p, std::size_t branch) {
        // Columns for decoflow.Graph.add_chunks(): this branch's baskets.
        // chunks() lists the branches in order: a binary search, not a scan
        // per branch.
        std::vector<std::int64_t> off, size, doff, dsize, tag, file;
        const auto& all = p.chunks();
        const auto first = std::partition_point(
            all.begin(), all.end(), [&](const RootBasketChunk& c) { return c.branch < branch; });
        const auto last = std::partition_point(
            first, all.end(), [&](const RootBasketChunk& c) { return c.branch == branch; });
        for (auto it = first; it != last; ++it) {
          const RootBasketChunk& c = *it;
          off.push_back(static_cast<std::int64_t>(c.input_offset));
          size.push_back(static_cast<std::int64_t>(c.input_size));
          doff.push_back(static_cast<std::int64_t>(c.dest_offset));
          dsize.push_back(static_cast<std::int64_t>(c.dest_size));
          tag.push_back(c.tag);
          file.push_back(c.file);
        }
        return nb::make_tuple(int64_array(std::move(off)), int64_array(std::move(size)),
                              int64_array(std::move(doff)), int64_array(std::move(dsize)),
                              int64_array(std::move(tag)), int64_array(std::move(file)));
      }, nb::arg("branch"),
      "(input_offsets, input_sizes, dest_offsets, dest_sizes, tags, files) of branch i's "
      "baskets.")
      .def("stage", &RootBranchesPlan::stage, "The native 'baskets' stage.")
      .def("failures", [](const RootBranchesPlan& p) {
        // [(branch index, file index, basket number, decoflow.Error)]
        nb::object make = nb::module_::import_("decoflow._errors").attr("_from_native");
        nb::list out;
        for (const RootBranchFailure& f : p.failures()) {
          const Error& e = f.error;
          nb::object chunk = e.chunk() == no_chunk ? nb::object(nb::none()) : nb::object(nb::int_(e.chunk()));
          out.append(nb::make_tuple(f.branch, f.file, f.basket,
                                    make(static_cast<int>(e.code()), e.what(), e.cause(), e.graph(),
                                         e.node(), chunk)));
        }
        return out;
      }, "The failed branches: [(branch, file, basket, decoflow.Error)].");

  m.def("_root_plan", [](std::vector<std::string> paths, nb::list specs, std::string name) {
    std::vector<RootBranchSpec> branches;
    branches.reserve(specs.size());
    for (nb::handle item : specs) branches.push_back(make_spec(item));
    std::vector<std::shared_ptr<const InputBuffer>> files;
    for (const auto& path : paths) files.push_back(InputBuffer::map_file(path));
    nb::gil_scoped_release release;  // reads every jagged basket's key
    return plan_root_branches(std::move(files), std::move(branches), std::move(name));
  }, nb::arg("paths"), nb::arg("specs"), nb::arg("name"),
  "Plans decoding branches of the ROOT files at `paths`, one tree each, read as one "
  "(see decoflow.root.arrays).");
}

}  // namespace decoflow::python
