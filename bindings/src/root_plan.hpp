// decoflow._core's ROOT branches plan (graphs/root_branches.hpp), used by decoflow.root.
#pragma once

#include <nanobind/nanobind.h>

namespace decoflow::python {

/// Registers decoflow._core._RootPlan and _root_plan().
void bind_root(nanobind::module_& m);

}  // namespace decoflow::python
