// Starting the embedded CPython runtime on demand, for glue.
#pragma once

namespace decoflow::detail {

/// Makes sure CPython runs and glue may use it: when the process has not
/// started Python, starts it (for the life of the process, finalised at
/// exit()). Throws Error(resource_error) when it cannot.
void ensure_python_runtime();

}  // namespace decoflow::detail
