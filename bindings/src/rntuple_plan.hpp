// decoflow._core's face of graphs/rntuple.hpp, used by decoflow.root.
#pragma once

#include <nanobind/nanobind.h>

namespace decoflow::python {

/// Registers decoflow._core._RNTuple and _rntuple_tree().
void bind_rntuple(nanobind::module_& m);

}  // namespace decoflow::python
