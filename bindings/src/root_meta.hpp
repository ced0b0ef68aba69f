// decoflow._core's native ROOT metadata reader (graphs/root_tree_meta.hpp).
#pragma once

#include <nanobind/nanobind.h>

namespace decoflow::python {

/// Registers decoflow._core._root_keys() and _root_tree_meta().
void bind_root_meta(nanobind::module_& m);

}  // namespace decoflow::python
