// decoflow._core's face of graphs/rntuple.hpp: decoflow.root passes an
// RNTuple's anchor once (read with uproot until decoflow reads ROOT keys
// itself), gets its fields, columns and clusters back, and asks for a
// _RootTree over the columns and clusters it reads — one page per chunk.
#include "rntuple_plan.hpp"

#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "decoflow/input.hpp"
#include "decoflow/root_file.hpp"
#include "decoflow/rntuple.hpp"
#include "decoflow/rntuple_fields.hpp"

namespace nb = nanobind;

namespace decoflow::python {

namespace {

using Anchor = std::tuple<std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                          std::uint64_t, std::uint64_t, std::uint64_t>;

const char* kind_name(RNTupleFieldNode::Kind kind) {
  using Kind = RNTupleFieldNode::Kind;
  switch (kind) {
    case Kind::values: return "values";
    case Kind::collection: return "collection";
    case Kind::string: return "string";
    case Kind::fixed: return "fixed";
    case Kind::record: return "record";
    case Kind::cardinality: return "cardinality";
    case Kind::variant: return "variant";
  }
  return "unknown";
}

// (kind, name, type, size, column, content, children): column and content
// index the field's columns, -1 for none.
nb::tuple node_tuple(const RNTupleFieldNode& node) {
  const auto index = [](std::size_t i) {
    return i == RNTupleFieldNode::no_column ? std::int64_t{-1} : static_cast<std::int64_t>(i);
  };
  nb::list children;
  for (const RNTupleFieldNode& child : node.children) children.append(node_tuple(child));
  return nb::make_tuple(kind_name(node.kind), node.name, node.type, node.size, index(node.column),
                        index(node.content), children);
}

}  // namespace

void bind_rntuple(nb::module_& m) {
  nb::class_<RNTuple>(m, "_RNTuple", "An RNTuple's metadata, read natively (see decoflow.root).")
      .def("__init__", [](RNTuple* self, const std::string& path, Anchor a, std::string name) {
        nb::gil_scoped_release release;  // maps the file, reads the envelopes
        const RNTupleAnchor anchor{std::get<0>(a), std::get<1>(a), std::get<2>(a), std::get<3>(a),
                                   std::get<4>(a), std::get<5>(a), std::get<6>(a)};
        new (self) RNTuple(InputBuffer::map_file(path), anchor, std::move(name));
      }, nb::arg("path"), nb::arg("anchor"), nb::arg("name"),
      "Maps `path` and reads the RNTuple `anchor` = (seek_header, nbytes_header, len_header, "
      "seek_footer, nbytes_footer, len_footer, max_key_size) leads to.")
      .def_static("open", [](const std::string& path, const std::string& name) {
        nb::gil_scoped_release release;  // maps the file, reads its keys and the envelopes
        const RootFile file = RootFile::open(path);
        const RNTupleAnchor anchor = read_rntuple_anchor(file, name);
        std::string bare(name.substr(0, name.find(';')));
        bare = bare.substr(bare.rfind('/') + 1);
        return std::make_shared<RNTuple>(file.file(), anchor, bare);
      }, nb::arg("path"), nb::arg("name"),
      "Opens the RNTuple `name` (\"ntuple\", \"dir/ntuple;1\") of the ROOT file at `path`, "
      "its anchor read natively.")
      .def("anchor", [](const RNTuple& t) {
        const RNTupleAnchor& a = t.anchor();
        return std::make_tuple(a.seek_header, a.nbytes_header, a.len_header, a.seek_footer,
                               a.nbytes_footer, a.len_footer, a.max_key_size);
      },
      "The anchor it was read from: (seek_header, nbytes_header, len_header, seek_footer, "
      "nbytes_footer, len_footer, max_key_size).")
      .def_prop_ro("entries", &RNTuple::entries)
      .def("fields", [](const RNTuple& t) {
        // (name, type, alias, parent, role, flags, array_size, source, representations, columns)
        nb::list out;
        for (const RNTupleField& f : t.fields()) {
          out.append(nb::make_tuple(f.name, f.type, f.alias, f.parent, f.role, f.flags, f.array_size,
                                    f.source == RNTupleField::none ? -1 : static_cast<std::int64_t>(f.source),
                                    f.representations, f.columns));
        }
        return out;
      }, "Per field: (name, type, alias, parent, role, flags, array_size, source or -1, "
         "representations, physical column ids).")
      .def("columns", [](const RNTuple& t) {
        nb::list out;
        for (const RNTupleColumn& c : t.columns()) {
          out.append(nb::make_tuple(c.type, c.bits, c.field, c.flags, c.representation, c.first_element));
        }
        return out;
      }, "Per physical column: (type, bits, field, flags, representation, first_element).")
      .def("clusters", [](const RNTuple& t) {
        std::vector<std::tuple<std::uint64_t, std::uint64_t>> out;
        for (const RNTupleCluster& c : t.clusters()) out.emplace_back(c.first_entry, c.entries);
        return out;
      }, "Per cluster: (first_entry, entries).")
      .def("value_type", [](const RNTuple& t, std::uint32_t field, std::uint32_t slot) {
        return std::string(to_string(t.value_type(field, slot)));
      }, nb::arg("field"), nb::arg("slot"), "The values' NumPy type name of a field's column.")
      .def("plan_fields", [](const RNTuple& t, const std::vector<std::string>& names) {
        // Every field planned in one crossing (rntuple_fields.hpp): per name
        // (node, columns) or, refused, (None, the error's cause).
        std::vector<std::pair<std::optional<RNTupleFieldNode>, std::vector<RNTupleFieldColumn>>> planned;
        std::vector<std::string> refused(names.size());
        {
          nb::gil_scoped_release release;
          for (std::size_t i = 0; i < names.size(); ++i) {
            std::vector<RNTupleFieldColumn> columns;
            try {
              planned.emplace_back(plan_rntuple_field(t, names[i], columns), std::move(columns));
            } catch (const Error& e) {
              if (e.code() != ErrorCode::unsupported_format) throw;
              planned.emplace_back(std::nullopt, std::vector<RNTupleFieldColumn>{});
              refused[i] = e.cause();
            }
          }
        }
        nb::list out;
        for (std::size_t i = 0; i < names.size(); ++i) {
          if (!planned[i].first) {
            out.append(nb::make_tuple(nb::none(), refused[i]));
            continue;
          }
          nb::list columns;
          for (const RNTupleFieldColumn& c : planned[i].second) {
            columns.append(nb::make_tuple(c.name, c.field, c.slot, c.offsets, std::string(to_string(c.type))));
          }
          out.append(nb::make_tuple(node_tuple(*planned[i].first), columns));
        }
        return out;
      }, nb::arg("names"),
      "Plans each named field (rntuple_fields.hpp's plan_rntuple_field): per name (node, "
      "columns) — node (kind, name, type, size, column, content, children), a column (name, "
      "field, slot, offsets, type) — or (None, why it is refused).")
      .def("column_bytes", [](const RNTuple& t, std::uint32_t field, std::uint32_t slot) {
        // Every cluster's elements of the column (its principal
        // representation: any, as they count the same) times the value width.
        const RNTupleField& f = t.fields().at(field);
        const std::uint32_t col = f.columns.at(slot);
        std::uint64_t elements = 0;
        for (const RNTupleCluster& c : t.clusters()) elements += c.columns[col].elements;
        return elements * root_type_width(t.value_type(field, slot));
      }, nb::arg("field"), nb::arg("slot"), "Decoded bytes of a field's column in every cluster.");

  m.def("_rntuple_tree", [](const std::vector<std::shared_ptr<RNTuple>>& ntuples,
                            const std::vector<std::tuple<std::string, std::uint32_t, std::uint32_t>>& columns,
                            const std::vector<std::tuple<std::size_t, std::size_t>>& clusters,
                            std::string name) {
    std::vector<std::shared_ptr<const RNTuple>> read(ntuples.begin(), ntuples.end());
    std::vector<RNTupleColumnRef> refs;
    for (const auto& [column_name, field, slot] : columns) refs.push_back({column_name, field, slot});
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    for (const auto& [begin, end] : clusters) ranges.emplace_back(begin, end);
    nb::gil_scoped_release release;
    return rntuple_tree(read, refs, ranges, std::move(name));
  }, nb::arg("ntuples"), nb::arg("columns"), nb::arg("clusters"), nb::arg("name"),
  "A _RootTree over (name, field, slot) columns of the RNTuples (one per file, read as one), "
  "clusters [begin, end) of each.");
}

}  // namespace decoflow::python
