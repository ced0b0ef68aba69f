#include <Python.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>

#include "decoflow/error.hpp"
#include "decoflow/python_host.hpp"
#include "interpreter_pool.hpp"
#include "python_runtime.hpp"

#if PY_VERSION_HEX < 0x030C0000
#error "decoflow's glue needs CPython 3.12 or newer (own-GIL subinterpreters, PEP 684)"
#endif

#ifndef DECOFLOW_DEFAULT_PYTHONHOME
#define DECOFLOW_DEFAULT_PYTHONHOME ""
#endif

namespace decoflow {

namespace {

std::mutex runtime_mutex;
std::unique_ptr<PythonHost> implicit_host;  // started by a glue stage, ended at exit()

std::string python_home(const PythonHostOptions& options) {
  if (!options.home.empty()) return options.home;
  if (const char* env = std::getenv("DECOFLOW_PYTHONHOME"); env != nullptr && *env != '\0') {
    return env;
  }
  return DECOFLOW_DEFAULT_PYTHONHOME;
}

}  // namespace

PythonHost::PythonHost(const PythonHostOptions& options) {
  if (Py_Version < 0x030C0000) {
    throw Error(ErrorCode::resource_error,
                "Python " + std::to_string(Py_Version >> 24) + "." +
                    std::to_string((Py_Version >> 16) & 0xFF) +
                    " cannot run glue: own-GIL subinterpreters need Python 3.12 or newer");
  }
  detail::InterpreterPool::instance().reopen();
  if (Py_IsInitialized()) return;  // Python is the host (or the program started it)
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.install_signal_handlers = 0;  // signals belong to the host program
  config.parse_argv = 0;
  const std::string home = python_home(options);
  PyStatus status = PyStatus_Ok();
  if (!home.empty()) status = PyConfig_SetBytesString(&config, &config.home, home.c_str());
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) {
    throw Error(ErrorCode::resource_error,
                std::string("cannot start Python") + (home.empty() ? "" : " at home '" + home + "'") +
                    ": " + (status.err_msg != nullptr ? status.err_msg : "unknown error") +
                    " (set DECOFLOW_PYTHONHOME or PythonHostOptions::home)");
  }
  owns_ = true;
  // Give the GIL up: glue threads take it briefly to create their interpreters.
  main_thread_state_ = PyEval_SaveThread();
}

PythonHost::~PythonHost() {
  end_glue_interpreters();
  if (owns_) {
    PyEval_RestoreThread(static_cast<PyThreadState*>(main_thread_state_));
    Py_FinalizeEx();
  }
}

unsigned glue_interpreter_count() { return detail::InterpreterPool::instance().interpreter_count(); }

void end_glue_interpreters() { detail::InterpreterPool::instance().shutdown(); }

unsigned start_glue_interpreters(unsigned count) {
  detail::ensure_python_runtime();
  detail::InterpreterPool& pool = detail::InterpreterPool::instance();
  pool.ensure_threads(count);
  return pool.wait_for_interpreters();
}

namespace detail {

void ensure_python_runtime() {
  std::lock_guard lock(runtime_mutex);
  if (Py_IsInitialized()) {
    InterpreterPool::instance().reopen();
    return;
  }
  implicit_host = std::make_unique<PythonHost>();
  std::atexit([] {
    std::lock_guard exit_lock(runtime_mutex);
    implicit_host.reset();
  });
}

}  // namespace detail
}  // namespace decoflow
