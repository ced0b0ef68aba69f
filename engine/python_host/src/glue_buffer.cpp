#include "glue_buffer.hpp"

namespace decoflow::detail {

namespace {

int glue_buffer_getbuffer(PyObject* self, Py_buffer* view, int flags) {
  auto* buffer = reinterpret_cast<GlueBuffer*>(self);
  if (buffer->data == nullptr && buffer->size != 0) {
    PyErr_SetString(PyExc_BufferError, "decoflow glue buffer is no longer valid");
    return -1;
  }
  if (PyBuffer_FillInfo(view, self, buffer->data, buffer->size, buffer->readonly, flags) != 0) {
    return -1;
  }
  ++buffer->exports;
  return 0;
}

void glue_buffer_releasebuffer(PyObject* self, Py_buffer*) {
  --reinterpret_cast<GlueBuffer*>(self)->exports;
}

void glue_buffer_dealloc(PyObject* self) {
  auto* buffer = reinterpret_cast<GlueBuffer*>(self);
  delete buffer->keepalive;  // the last view is gone: the memory may go too
  PyTypeObject* type = Py_TYPE(self);
  type->tp_free(self);
  Py_DECREF(type);  // instances of heap types own a reference to their type
}

PyType_Slot glue_buffer_slots[] = {
    {Py_bf_getbuffer, reinterpret_cast<void*>(glue_buffer_getbuffer)},
    {Py_bf_releasebuffer, reinterpret_cast<void*>(glue_buffer_releasebuffer)},
    {Py_tp_dealloc, reinterpret_cast<void*>(glue_buffer_dealloc)},
    {Py_tp_doc, const_cast<char*>("Engine memory lent to one glue call.")},
    {0, nullptr},
};

PyType_Spec glue_buffer_spec = {
    "decoflow_glue.Buffer",
    sizeof(GlueBuffer),
    0,
    Py_TPFLAGS_DEFAULT,
    glue_buffer_slots,
};

}  // namespace

PyObject* make_glue_buffer_type() { return PyType_FromSpec(&glue_buffer_spec); }

GlueBuffer* new_glue_buffer(PyObject* type) {
  auto* tp = reinterpret_cast<PyTypeObject*>(type);
  auto* buffer = reinterpret_cast<GlueBuffer*>(tp->tp_alloc(tp, 0));
  if (buffer == nullptr) return nullptr;
  buffer->data = nullptr;
  buffer->size = 0;
  buffer->readonly = 1;
  buffer->exports = 0;
  buffer->keepalive = nullptr;
  return buffer;
}

}  // namespace decoflow::detail
