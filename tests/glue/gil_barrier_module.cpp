// _decoflow_gil_barrier: a test-only extension module that proves glue
// interpreters run in parallel. meet(parties, timeout) waits — holding its
// interpreter's GIL, never releasing it — until `parties` callers have
// arrived. Two glue threads meet only if each interpreter has a GIL of its
// own; under one shared GIL the first caller blocks the second and times out.
// Multi-phase init, declared safe for per-interpreter GILs, so it imports in
// own-GIL subinterpreters (as NumPy does not).
#include <Python.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace {

std::atomic<long> arrivals{0};

PyObject* meet(PyObject*, PyObject* args) {
  long parties = 0;
  double timeout = 0;
  if (!PyArg_ParseTuple(args, "ld", &parties, &timeout)) return nullptr;
  arrivals.fetch_add(1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout);
  while (arrivals.load() < parties) {
    if (std::chrono::steady_clock::now() > deadline) Py_RETURN_FALSE;
    std::this_thread::sleep_for(std::chrono::microseconds(100));  // the GIL stays held
  }
  Py_RETURN_TRUE;
}

PyObject* reset(PyObject*, PyObject*) {
  arrivals.store(0);
  Py_RETURN_NONE;
}

PyMethodDef methods[] = {
    {"meet", meet, METH_VARARGS, "meet(parties, timeout) -> bool, without releasing the GIL"},
    {"reset", reset, METH_NOARGS, "forget earlier arrivals"},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef_Slot slots[] = {
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, nullptr},
};

PyModuleDef module = {PyModuleDef_HEAD_INIT, "_decoflow_gil_barrier", nullptr, 0, methods,
                      slots, nullptr, nullptr, nullptr};

}  // namespace

PyMODINIT_FUNC PyInit__decoflow_gil_barrier() { return PyModuleDef_Init(&module); }
