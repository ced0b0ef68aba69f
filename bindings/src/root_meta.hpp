// decoflow._core's native ROOT metadata reader (graphs/root_tree_meta.hpp).
#pragma once

#include <nanobind/nanobind.h>

#include <memory>
#include <string>

#include "decoflow/root_tree_meta.hpp"

namespace decoflow::python {

/// decoflow._core._RootTreeMeta: a TTree's metadata read natively, kept in
/// C++ (decoflow.root plans its reads from it: _core._RootTree takes it).
struct NativeTreeMeta {
  std::string path;
  std::shared_ptr<const RootTreeMeta> meta;
};

/// Registers decoflow._core._root_keys(), _root_tree_meta() and _RootTreeMeta.
void bind_root_meta(nanobind::module_& m);

}  // namespace decoflow::python
