// The Python face of a DestinationArray: an n-dimensional, C-contiguous view
// with a dtype, exported through the buffer protocol so that NumPy (and
// memoryview) see the engine's memory without a copy.
#pragma once

#include <Python.h>
#include <nanobind/nanobind.h>

#include <memory>
#include <string>
#include <vector>

#include "decoflow/destination.hpp"

namespace decoflow::python {

struct PyArray {
  std::shared_ptr<DestinationArray> array;
  std::string format;               // struct-module format of one element ("f", "<i8", ...)
  Py_ssize_t itemsize = 1;
  std::vector<Py_ssize_t> shape;    // C order
  std::vector<Py_ssize_t> strides;  // bytes, derived from shape and itemsize
  bool adopted = false;

  PyArray(std::shared_ptr<DestinationArray> a, std::string fmt, Py_ssize_t item,
          std::vector<Py_ssize_t> dims);
};

/// Registers decoflow._core.Array and the functions that make arrays.
void bind_arrays(nanobind::module_& m);

}  // namespace decoflow::python
