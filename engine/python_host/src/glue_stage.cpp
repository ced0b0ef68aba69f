// The glue stage body: one Python call per chunk, in the pool thread's own
// subinterpreter, with the chunk's memory lent as views that must not escape.
#include <Python.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <string>

#include "decoflow/error.hpp"
#include "decoflow/glue.hpp"
#include "interpreter_pool.hpp"
#include "python_runtime.hpp"

namespace decoflow {

std::string GlueSpec::describe() const {
  return target.empty() ? "<source:" + function + ">" : target;
}

namespace detail {

namespace {

// str(obj) as UTF-8, never throwing; clears any error it meets.
std::string text_of(PyObject* obj) {
  PyObject* s = PyObject_Str(obj);
  if (s == nullptr) {
    PyErr_Clear();
    return "<unprintable>";
  }
  Py_ssize_t size = 0;
  const char* utf8 = PyUnicode_AsUTF8AndSize(s, &size);
  std::string out = utf8 != nullptr ? std::string(utf8, static_cast<std::size_t>(size)) : "";
  if (utf8 == nullptr) PyErr_Clear();
  Py_DECREF(s);
  return out;
}

// Takes the raised exception and returns "Type: message\n<traceback>". The
// exception (and its traceback, whose frames may hold views) is released here,
// before anyone counts the views.
std::string take_exception() {
  PyObject* exc = PyErr_GetRaisedException();
  if (exc == nullptr) return "unknown error (no exception set)";
  std::string text = std::string(Py_TYPE(exc)->tp_name) + ": " + text_of(exc);
  if (PyObject* traceback = PyImport_ImportModule("traceback")) {
    PyObject* lines = PyObject_CallMethod(traceback, "format_exception", "O", exc);
    if (lines != nullptr) {
      PyObject* empty = PyUnicode_FromString("");
      PyObject* joined = empty != nullptr ? PyUnicode_Join(empty, lines) : nullptr;
      if (joined != nullptr) text += "\n" + text_of(joined);
      Py_XDECREF(joined);
      Py_XDECREF(empty);
      Py_DECREF(lines);
    }
    Py_DECREF(traceback);
  }
  PyErr_Clear();
  Py_DECREF(exc);
  return text;
}

// "0.25 s": a duration as a person writes it.
std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", seconds);
  return text;
}

constexpr const char* isolated_import_hint =
    "\nGlue runs in subinterpreters with their own GIL: NumPy, pyarrow and extensions built "
    "with nanobind or pybind11 cannot be imported there (numpy#24755). Work on the "
    "memoryviews with struct, array or int.from_bytes, or use a native stage.";

bool looks_like_isolation_failure(const std::string& text) {
  return text.find("subinterpreter") != std::string::npos ||
         text.find("numpy") != std::string::npos ||
         text.find("multi-phase") != std::string::npos;
}

// Puts the spec's folders in front of sys.path (once each).
void extend_sys_path(const GlueSpec& spec) {
  PyObject* path = PySys_GetObject("path");  // borrowed
  if (path == nullptr || !PyList_Check(path)) return;
  for (auto it = spec.sys_path.rbegin(); it != spec.sys_path.rend(); ++it) {
    PyObject* folder = PyUnicode_FromString(it->c_str());
    if (folder == nullptr) {
      PyErr_Clear();
      continue;
    }
    if (PySequence_Contains(path, folder) == 0) PyList_Insert(path, 0, folder);
    PyErr_Clear();
    Py_DECREF(folder);
  }
}

// Executes source-text glue as a module of its own and registers the source
// with linecache, so that tracebacks show its lines.
PyObject* load_from_source(const GlueSpec& spec) {
  const std::string filename = "<decoflow glue " + spec.function + ">";
  PyObject* code = Py_CompileString(spec.source.c_str(), filename.c_str(), Py_file_input);
  if (code == nullptr) return nullptr;
  PyObject* module = PyModule_New(("decoflow_glue_" + spec.function).c_str());
  if (module == nullptr) {
    Py_DECREF(code);
    return nullptr;
  }
  PyObject* globals = PyModule_GetDict(module);  // borrowed
  PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins());
  PyObject* done = PyEval_EvalCode(code, globals, globals);
  Py_DECREF(code);
  if (done == nullptr) {
    Py_DECREF(module);
    return nullptr;
  }
  Py_DECREF(done);
  if (PyObject* linecache = PyImport_ImportModule("linecache")) {
    PyObject* cache = PyObject_GetAttrString(linecache, "cache");
    PyObject* source = PyUnicode_FromString(spec.source.c_str());
    PyObject* lines = source != nullptr ? PyObject_CallMethod(source, "splitlines", "O", Py_True)
                                        : nullptr;
    if (cache != nullptr && lines != nullptr) {
      PyObject* entry = Py_BuildValue("(nOOs)", PyUnicode_GetLength(source), Py_None, lines,
                                      filename.c_str());
      if (entry != nullptr) PyDict_SetItemString(cache, filename.c_str(), entry);
      Py_XDECREF(entry);
    }
    Py_XDECREF(lines);
    Py_XDECREF(source);
    Py_XDECREF(cache);
    Py_DECREF(linecache);
  }
  PyErr_Clear();  // linecache is a nicety
  PyObject* fn = PyObject_GetAttrString(module, spec.function.c_str());
  Py_DECREF(module);
  return fn;
}

PyObject* load_from_target(const GlueSpec& spec) {
  const auto colon = spec.target.rfind(':');
  const std::string module_name = spec.target.substr(0, colon);
  const std::string function_name = spec.target.substr(colon + 1);
  PyObject* module = PyImport_ImportModule(module_name.c_str());
  if (module == nullptr) return nullptr;
  PyObject* fn = PyObject_GetAttrString(module, function_name.c_str());
  Py_DECREF(module);
  return fn;
}

std::atomic<std::uint64_t> next_body_id{1};

class GlueBody final : public PinnedStageBody {
 public:
  explicit GlueBody(GlueSpec spec)
      : spec_(std::move(spec)),
        key_(spec_.describe() + "\n" + spec_.source),
        id_(next_body_id++),
        // Capped at ~31 years so that now + timeout cannot overflow.
        timeout_ns_(spec_.timeout.count() > 0
                        ? static_cast<std::int64_t>(std::min(spec_.timeout.count() * 1e9, 1e18))
                        : 0) {
    for (const auto& p : spec_.sys_path) key_ += "\n" + p;
  }

  // Called on a flow-graph worker that has reserved the graph's wait: it must
  // never throw, or the graph would wait for this batch forever. When no glue
  // thread can take the batch (Python shutting down, a forked child, a thread
  // that cannot start), the batch runs here, where no interpreter is attached,
  // and each chunk fails with run()'s clear error instead.
  void post(const PinnedJob& job) noexcept override {
    InterpreterPool& pool = InterpreterPool::instance();
    try {
      if (pool.accepting() && !pool.forked_child()) {
        pool.ensure_threads(job.concurrency());
        pool.post(job);
        return;
      }
    } catch (...) {
      // Falls through: the batch fails below, chunk by chunk.
    }
    job.execute();
    job.finish();
  }

  void run(const ChunkView& view) override {
    InterpreterState* state = current_interpreter();
    if (state == nullptr) {
      throw Error(ErrorCode::resource_error,
                  InterpreterPool::instance().forked_child()
                      ? "glue cannot run in a process forked from one with live glue "
                        "subinterpreters: use multiprocessing's 'spawn' or 'forkserver'"
                      : "glue cannot run: no glue interpreter thread is available (Python is "
                        "shutting down, or a glue thread could not start)");
    }
    if (state->thread_state == nullptr || !state->creation_error.empty()) {
      throw Error(ErrorCode::resource_error,
                  "cannot create a subinterpreter for glue: " + state->creation_error);
    }
    PyObject* fn = function(*state);
    call(*state, fn, view);
  }

 private:
  PyObject* function(InterpreterState& state) {
    if (state.last_body == id_) return state.last_function;
    PyObject* fn = nullptr;
    if (auto it = state.functions.find(key_); it != state.functions.end()) {
      fn = it->second;
    } else {
      extend_sys_path(spec_);
      fn = spec_.target.empty() ? load_from_source(spec_) : load_from_target(spec_);
      if (fn == nullptr) {
        std::string why = take_exception();
        if (looks_like_isolation_failure(why)) why += isolated_import_hint;
        throw Error(ErrorCode::glue_error,
                    "cannot load glue " + spec_.describe() + " in a subinterpreter: " + why);
      }
      if (!PyCallable_Check(fn)) {
        Py_DECREF(fn);
        throw Error(ErrorCode::glue_error, "glue " + spec_.describe() + " is not callable");
      }
      state.functions.emplace(key_, fn);
    }
    state.last_body = id_;
    state.last_function = fn;
    return fn;
  }

  // A buffer a view escaped from is left to that view: it keeps the chunk's
  // memory alive until the view dies, and the interpreter gets a fresh one.
  static bool orphan_if_escaped(InterpreterState& state, GlueBuffer*& buffer,
                                const ChunkView& view) {
    if (buffer->exports == 0) return false;
    buffer->keepalive = new std::shared_ptr<const void>(*view.memory_owner);
    GlueBuffer* fresh = new_glue_buffer(state.buffer_type);
    Py_DECREF(reinterpret_cast<PyObject*>(buffer));  // the escaped views hold it now
    buffer = fresh;
    if (fresh == nullptr) PyErr_Clear();
    return true;
  }

  void call(InterpreterState& state, PyObject* fn, const ChunkView& view) {
    if (state.input == nullptr || state.output == nullptr) {
      throw Error(ErrorCode::resource_error, "glue interpreter has no buffers left");
    }
    state.input->data = const_cast<std::byte*>(view.input.data());
    state.input->size = static_cast<Py_ssize_t>(view.input.size());
    state.input->readonly = 1;
    state.output->data = view.output.data();
    state.output->size = static_cast<Py_ssize_t>(view.output.size());
    state.output->readonly = 0;

    std::string error;
    PyObject* args[4] = {PyMemoryView_FromObject(reinterpret_cast<PyObject*>(state.input)),
                         PyMemoryView_FromObject(reinterpret_cast<PyObject*>(state.output)),
                         PyLong_FromSize_t(view.index), PyLong_FromLongLong(view.tag)};
    PyObject* result = nullptr;
    GlueCallSlot& slot = *state.call_slot;
    slot.interrupted = GlueCallSlot::none;
    if (args[0] != nullptr && args[1] != nullptr && args[2] != nullptr && args[3] != nullptr) {
      slot.deadline_ns.store(timeout_ns_ > 0 ? steady_ns() + timeout_ns_ : GlueCallSlot::no_deadline,
                             std::memory_order_relaxed);
      slot.call.store(++state.calls, std::memory_order_release);
      result = PyObject_Vectorcall(fn, args, 4, nullptr);
      slot.call.store(0, std::memory_order_release);  // with the GIL held: see glue_watchdog.hpp
      if (slot.interrupted != GlueCallSlot::none) {
        // Sent but maybe not delivered (the call ended first): it must not
        // fire in the next Python code this thread runs.
        PyThreadState_SetAsyncExc(slot.thread_ident, nullptr);
      }
    }
    for (PyObject* a : args) Py_XDECREF(a);
    if (result == nullptr) {
      error = take_exception();
    } else {
      if (PyLong_Check(result)) {
        const long long value = PyLong_AsLongLong(result);
        if (value == -1 && PyErr_Occurred()) {
          error = "glue result does not fit in 64 bits: " + take_exception();
        } else {
          *view.result = value;
        }
      } else if (result != Py_None) {
        error = std::string("glue returned a ") + Py_TYPE(result)->tp_name +
                "; it may return an int or None";
      }
      Py_DECREF(result);  // after the exception: both may hold views
    }
    const bool input_escaped = orphan_if_escaped(state, state.input, view);
    const bool output_escaped = orphan_if_escaped(state, state.output, view);
    if (slot.interrupted == GlueCallSlot::stopped) {
      throw Error(ErrorCode::cancelled, "glue call interrupted: the graph stopped");
    }
    if (slot.interrupted == GlueCallSlot::timed_out) {
      throw Error(ErrorCode::glue_error,
                  "glue call exceeded its time limit of " + seconds_text(spec_.timeout.count()) +
                      " and was interrupted" + (error.empty() ? "" : ": " + error));
    }
    if (!error.empty()) throw Error(ErrorCode::glue_error, error);
    if (input_escaped || output_escaped) {
      throw Error(ErrorCode::glue_error,
                  std::string("glue kept a view of the chunk's ") +
                      (output_escaped ? "destination" : "input") +
                      " buffer after returning (stored it, a slice of it, or an object "
                      "holding it); views are valid only during the call: copy with bytes(view)");
    }
  }

  GlueSpec spec_;
  std::string key_;
  std::uint64_t id_;
  std::int64_t timeout_ns_;  // 0: none
};

}  // namespace
}  // namespace detail

Stage glue_stage(std::string name, GlueSpec spec) {
  if (spec.target.empty() == spec.source.empty()) {
    throw Error(ErrorCode::invalid_argument,
                "glue stage '" + name + "': give either a \"module:function\" target or source");
  }
  if (!spec.target.empty()) {
    const auto colon = spec.target.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == spec.target.size()) {
      throw Error(ErrorCode::invalid_argument, "glue stage '" + name + "': target '" +
                                                   spec.target +
                                                   "' is not of the form \"module:function\"");
    }
  } else if (spec.function.empty()) {
    throw Error(ErrorCode::invalid_argument,
                "glue stage '" + name + "': source glue needs the function's name");
  }
  if (!(spec.timeout.count() >= 0)) {  // negative or NaN
    throw Error(ErrorCode::invalid_argument,
                "glue stage '" + name + "': timeout must be zero (none) or positive, not " +
                    detail::seconds_text(spec.timeout.count()));
  }
  detail::ensure_python_runtime();
  return Stage::custom(std::move(name), std::make_shared<detail::GlueBody>(std::move(spec)));
}

}  // namespace decoflow
