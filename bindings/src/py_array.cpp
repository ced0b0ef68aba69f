#include "py_array.hpp"

#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <limits>
#include <string>

#include "courier.hpp"
#include "decoflow/error.hpp"

namespace nb = nanobind;

namespace decoflow::python {

namespace {

std::vector<Py_ssize_t> c_strides(const std::vector<Py_ssize_t>& shape, Py_ssize_t itemsize) {
  std::vector<Py_ssize_t> strides(shape.size());
  Py_ssize_t step = itemsize;
  for (std::size_t k = shape.size(); k-- > 0;) {
    strides[k] = step;
    step *= shape[k];
  }
  return strides;
}

// Bytes of an array of `shape` elements of `itemsize`, refusing negative
// dimensions and sizes that overflow.
std::size_t checked_bytes(const std::vector<Py_ssize_t>& shape, Py_ssize_t itemsize) {
  if (itemsize <= 0) throw nb::value_error("itemsize must be positive");
  std::size_t total = static_cast<std::size_t>(itemsize);
  for (Py_ssize_t d : shape) {
    if (d < 0) throw nb::value_error("array dimensions must not be negative");
    const auto dim = static_cast<std::size_t>(d);
    if (dim != 0 && total > static_cast<std::size_t>(std::numeric_limits<Py_ssize_t>::max()) / dim) {
      throw nb::value_error("array too large");
    }
    total *= dim;
  }
  return total;
}

// A zero-length export still needs a valid pointer for some consumers.
char empty_buffer_byte = 0;

int array_getbuffer(PyObject* self, Py_buffer* view, int flags) {
  PyArray* a = nb::inst_ptr<PyArray>(self);
  if (a->array->in_use()) {
    // Refused rather than documented-and-hoped-for: bytes a running graph
    // writes have unspecified contents until its future is done.
    PyErr_SetString(PyExc_BufferError,
                    "decoflow.Array: a running graph is writing this array; wait for its "
                    "future (result()) before viewing it");
    view->obj = nullptr;
    return -1;
  }
  if ((flags & PyBUF_F_CONTIGUOUS) == PyBUF_F_CONTIGUOUS && a->shape.size() > 1) {
    PyErr_SetString(PyExc_BufferError, "decoflow.Array is C-contiguous, not Fortran-contiguous");
    view->obj = nullptr;
    return -1;
  }
  const std::size_t bytes = a->array->size();
  view->buf = bytes != 0 ? static_cast<void*>(a->array->data()) : &empty_buffer_byte;
  view->obj = Py_NewRef(self);
  view->len = static_cast<Py_ssize_t>(bytes);
  view->readonly = 0;
  view->itemsize = a->itemsize;
  view->format = (flags & PyBUF_FORMAT) != 0 ? const_cast<char*>(a->format.c_str()) : nullptr;
  if ((flags & PyBUF_ND) == PyBUF_ND) {
    view->ndim = static_cast<int>(a->shape.size());
    view->shape = a->shape.data();
    view->strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? a->strides.data() : nullptr;
  } else {
    // A consumer that asked for plain bytes sees one dimension of bytes.
    view->ndim = 1;
    view->shape = nullptr;
    view->strides = nullptr;
    view->itemsize = 1;
    view->format = (flags & PyBUF_FORMAT) != 0 ? const_cast<char*>("B") : nullptr;
  }
  view->suboffsets = nullptr;
  view->internal = nullptr;
  return 0;
}

PyType_Slot array_slots[] = {
    {Py_bf_getbuffer, reinterpret_cast<void*>(array_getbuffer)},
    {0, nullptr},
};

// The parts of a buffer format that hold Python objects or pointers cannot be
// written by a decoder.
bool format_holds_objects(const char* format) {
  if (format == nullptr) return false;
  for (const char* c = format; *c != '\0'; ++c) {
    if (*c == 'O' || *c == 'P') return true;
  }
  return false;
}

std::string type_name(PyObject* obj) { return Py_TYPE(obj)->tp_name; }

}  // namespace

PyArray::PyArray(std::shared_ptr<DestinationArray> a, std::string fmt, Py_ssize_t item,
                 std::vector<Py_ssize_t> dims)
    : array(std::move(a)), format(std::move(fmt)), itemsize(item), shape(std::move(dims)),
      strides(c_strides(shape, itemsize)) {}

void bind_arrays(nb::module_& m) {
  nb::class_<PyArray>(m, "Array", nb::type_slots(array_slots),
                      "Memory that graphs decode into: an n-dimensional C-contiguous array.\n\n"
                      "Made by decoflow.empty() (engine-owned) or decoflow.adopt() (a NumPy\n"
                      "array's memory). Exports the buffer protocol, so np.asarray(arr) and\n"
                      "memoryview(arr) share its memory; exporting is refused (BufferError)\n"
                      "while a running graph writes into it. Engine-owned memory returns to\n"
                      "the system once the array, every view of it and every graph using it\n"
                      "are gone.")
      .def_prop_ro("nbytes", [](const PyArray& a) { return a.array->size(); },
                   "Size in bytes.")
      .def_prop_ro("shape", [](const PyArray& a) {
            nb::list dims;
            for (Py_ssize_t d : a.shape) dims.append(d);
            return nb::tuple(dims);
          }, "Shape (a tuple of ints).")
      .def_prop_ro("format", [](const PyArray& a) { return a.format; },
                   "Buffer-protocol format of one element (struct module syntax).")
      .def_prop_ro("itemsize", [](const PyArray& a) { return a.itemsize; },
                   "Bytes per element.")
      .def_prop_ro("in_use", [](const PyArray& a) { return a.array->in_use(); },
                   "True while a running graph writes into this array.")
      .def_prop_ro("owns_memory", [](const PyArray& a) { return a.array->owns_memory(); },
                   "True for engine-owned memory (decoflow.empty), False for adopted memory.")
      .def_prop_ro("is_mapped", [](const PyArray& a) { return a.array->is_mapped(); },
                   "True when the engine backed this array with an anonymous memory map\n"
                   "(arrays of 256 KiB and more): freeing it unmaps the pages at once.")
      .def_prop_ro("address", [](const PyArray& a) {
            return reinterpret_cast<std::uintptr_t>(a.array->data());
          }, "Address of the first byte (for tests and debugging).");

  m.def("_allocate", [](std::vector<Py_ssize_t> shape, std::string format, Py_ssize_t itemsize) {
        const std::size_t bytes = checked_bytes(shape, itemsize);
        auto array = DestinationArray::allocate(bytes);
        return new PyArray(std::move(array), std::move(format), itemsize, std::move(shape));
      }, nb::arg("shape"), nb::arg("format"), nb::arg("itemsize"), nb::rv_policy::take_ownership,
      "Allocates an engine-owned array (use decoflow.empty()).");

  m.def("_adopt", [](nb::handle source) {
        Py_buffer view{};
        // RECORDS: strides and format, without insisting on writability, so
        // that a read-only source gets a message of ours rather than the
        // exporter's.
        if (PyObject_GetBuffer(source.ptr(), &view, PyBUF_RECORDS_RO) != 0) {
          nb::python_error exporter;  // takes the exporter's exception
          const std::string why = nb::str(exporter.value()).c_str();
          throw nb::value_error(("decoflow.adopt: cannot adopt a " + type_name(source.ptr()) +
                                 ": it exports no strided buffer (" + why + ")")
                                    .c_str());
        }
        auto fail = [&](const std::string& why) {
          PyBuffer_Release(&view);
          throw nb::value_error(("decoflow.adopt: cannot adopt this " + type_name(source.ptr()) +
                                 ": " + why)
                                    .c_str());
        };
        if (view.readonly != 0) fail("it is read-only (decoded chunks are written into it)");
        if (PyBuffer_IsContiguous(&view, 'C') == 0) {
          fail("it is not C-contiguous (chunks land in byte ranges of one contiguous block); "
               "use numpy.ascontiguousarray() or adopt its base array");
        }
        if (format_holds_objects(view.format)) {
          fail("its elements are Python objects or pointers (format '" +
               std::string(view.format) + "')");
        }
        std::vector<Py_ssize_t> shape;
        if (view.ndim == 0) {
          // A scalar buffer: treat it as one element.
        } else {
          shape.assign(view.shape, view.shape + view.ndim);
        }
        const std::string format = view.format != nullptr ? view.format : "B";
        const Py_ssize_t itemsize = view.itemsize;
        auto* data = static_cast<std::byte*>(view.buf);
        const auto bytes = static_cast<std::size_t>(view.len);
        // The Py_buffer itself is the keepalive: it pins the exporter's memory
        // (NumPy refuses to resize an exported array) and is released on the
        // courier or any main-interpreter thread, whichever drops it last.
        auto keepalive = share_python_buffer(view);
        auto array = DestinationArray::adopt(data, bytes, std::move(keepalive));
        auto* result = new PyArray(std::move(array), format, itemsize, std::move(shape));
        result->adopted = true;
        return result;
      }, nb::arg("source"), nb::rv_policy::take_ownership,
      "Wraps a writable C-contiguous buffer (use decoflow.adopt()).");
}

}  // namespace decoflow::python
