// decoflow/python_host.hpp: the embedded CPython runtime that glue stages use.
// Part of the decoflow::python target (links libpython).
//
// Glue runs on a process-wide pool of threads of the engine's own, each with
// one subinterpreter (own GIL) created once on first use and kept for the life
// of the process — every executor and graph reuses them — and ended on its own
// thread before Python finalises:
//  - when Python is the host (the decoflow Python package), from an atexit hook;
//  - in a C++ program, by the PythonHost guard, or at exit() when the first glue
//    stage had to start Python itself.
#pragma once

#include <string>

namespace decoflow {

/// Options for starting CPython inside a C++ program.
struct PythonHostOptions {
  /// Python's installation prefix (PYTHONHOME). Empty: the DECOFLOW_PYTHONHOME
  /// environment variable, else the prefix decoflow was built against.
  std::string home;
};

/// RAII guard for C++ programs that run glue: starts CPython if it is not
/// running (and finalises it on destruction, after ending every glue
/// interpreter on its own thread); when Python already runs, it only ends the
/// glue interpreters on destruction. Create it on the main thread before the
/// first executor that runs glue and destroy it on the same thread after the
/// last one. Programs without glue need none of this and never touch Python.
///
/// Throws Error(resource_error) when Python cannot be started or is older than
/// 3.12 (own-GIL subinterpreters need 3.12).
class PythonHost {
 public:
  explicit PythonHost(const PythonHostOptions& options = {});
  ~PythonHost();
  PythonHost(const PythonHost&) = delete;
  PythonHost& operator=(const PythonHost&) = delete;

  /// True when this guard started Python (and will finalise it).
  bool owns_runtime() const noexcept { return owns_; }

 private:
  bool owns_ = false;
  void* main_thread_state_ = nullptr;
};

/// Number of glue interpreters alive in this process. Thread-safe.
unsigned glue_interpreter_count();

/// Creates glue interpreters now, up to `count` (a graph's glue uses one per
/// executor thread), rather than when the first glue batches arrive: they are
/// created one at a time (CPython has crashed creating them concurrently), a
/// few tens of milliseconds each, which a first graph on many threads would
/// otherwise wait for. Starts Python the way a glue stage does when it is not
/// running. Returns the number of glue interpreters alive (fewer than `count`
/// when some could not be created: their threads fail glue chunks with the
/// reason). Throws Error(resource_error) when Python cannot be started or the
/// process was forked from one with glue interpreters. The calling thread must
/// not hold the GIL. Thread-safe.
unsigned start_glue_interpreters(unsigned count);

/// Ends every glue interpreter, each on its own thread, and stops the pool (a
/// later glue stage starts a new one). Called by PythonHost and the Python
/// package's atexit hook; a C++ program that started Python itself calls it
/// before Py_FinalizeEx. Must not run while graphs with glue are running.
/// The calling thread must not hold the GIL. Thread-safe.
void end_glue_interpreters();

}  // namespace decoflow
