// The buffer type glue calls see: created from C in every interpreter (never
// imported), it exports the engine's memory and counts its live exports, so the
// engine can tell when a view escaped a call.
#pragma once

#include <Python.h>

#include <cstddef>
#include <memory>

namespace decoflow::detail {

struct GlueBuffer {
  PyObject_HEAD
  void* data;
  Py_ssize_t size;
  int readonly;
  Py_ssize_t exports;  // live Py_buffer exports (memoryviews and their slices)
  // Set only once a view has escaped: keeps the memory behind `data` alive.
  std::shared_ptr<const void>* keepalive;
};

/// Creates the GlueBuffer type in the current interpreter (call with its GIL).
/// Returns a new reference, or null with a Python exception set.
PyObject* make_glue_buffer_type();

/// A new, empty GlueBuffer of `type` (a new reference, or null with an exception).
GlueBuffer* new_glue_buffer(PyObject* type);

}  // namespace decoflow::detail
