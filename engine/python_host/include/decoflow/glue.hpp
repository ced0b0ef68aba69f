// decoflow/glue.hpp: Python glue stages, run in per-thread subinterpreters
// that each have their own GIL (PEP 684). Part of the decoflow::python target.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "decoflow/stage.hpp"

namespace decoflow {

/// Which Python function a glue stage calls, and where to find it.
///
/// The function is called once per chunk as `fn(src, dst, index, tag)`:
/// `src` is a read-only memoryview of the chunk's input bytes, `dst` a writable
/// memoryview of its destination slice (format "B"), `index` the chunk index
/// and `tag` the chunk's tag. It may return None or an int, stored in the
/// chunk's result slot (GraphRun::results()). The views are valid only during
/// the call: a chunk whose glue keeps one (or a slice of one) fails with
/// ErrorCode::glue_error, and the memory behind it stays alive while it exists.
///
/// Glue runs in isolated subinterpreters: only modules that support them load
/// there. NumPy, pyarrow and nanobind/pybind11 modules do not; use memoryview,
/// struct, array, int.from_bytes — or a native stage.
///
/// When the graph stops (cancelled, or another chunk failed), calls in flight
/// are interrupted the same way (KeyboardInterrupt raised inside them), so a
/// cancel never waits for a long glue call to finish on its own.
struct GlueSpec {
  /// "package.module:function" — imported once per interpreter and cached.
  std::string target;
  /// Python source defining `function` (alternative to `target`); executed
  /// once per interpreter as a module named after `name`.
  std::string source;
  /// The function's name in `source`.
  std::string function;
  /// Folders put in front of sys.path in every glue interpreter before importing.
  std::vector<std::string> sys_path;
  /// Longest a single call may run; zero: no limit. A call past it has
  /// TimeoutError raised inside it and its chunk fails with
  /// ErrorCode::glue_error ("... exceeded its time limit ..."). Pure-Python
  /// code is interrupted within ~20 ms; a blocking C call (time.sleep, a long
  /// regex) when it returns. A call that catches the exception and goes on
  /// gets it again every 50 ms, and still fails its chunk.
  std::chrono::duration<double> timeout{0};

  /// "module:function" for target specs, "<source:function>" otherwise.
  std::string describe() const;
};

/// A stage that calls the glue function for every chunk. Ensures an embedded
/// Python runtime exists (initialising CPython when the process has not: see
/// python_host.hpp). Throws Error(invalid_argument) for an incomplete spec and
/// Error(resource_error) when Python is older than 3.12 or cannot start. The
/// function is loaded lazily, in each interpreter, on first use: import errors
/// fail the first chunk with ErrorCode::glue_error.
///
/// Thread-safety: may be called from any thread; the stage is immutable.
Stage glue_stage(std::string name, GlueSpec spec);

}  // namespace decoflow
