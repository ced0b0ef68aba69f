// The main-interpreter side of the extension: a thread of our own that runs
// Python callbacks (done, progress) and drops Python references that engine
// threads let go of.
//
// Why a thread of our own: the engine finishes runs, and drops the last C++
// reference to adopted arrays and wrapped inputs, on its TBB workers or on a
// glue thread that hosts a subinterpreter. Such a thread must not take the
// main interpreter's GIL through PyGILState_* (nanobind's gil_scoped_acquire
// uses it): with subinterpreters, the GIL-state machinery may pick the wrong
// interpreter's thread state. The courier attaches to the main interpreter
// with a thread state created for it (PyThreadState_New + PyEval_RestoreThread),
// which is always correct.
#pragma once

#include <Python.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace decoflow::python {

/// True when the calling thread is attached to the main interpreter (holds its
/// GIL). Never takes a lock; safe on any thread, attached or not.
bool attached_to_main() noexcept;

/// A strong reference to a Python object that any thread may drop: when the
/// last copy goes away on a thread attached to the main interpreter, the
/// reference is released at once; on any other thread it is handed to the
/// courier. Create with the GIL held.
std::shared_ptr<PyObject> share_python_object(PyObject* object);

/// Like share_python_object, for an exported buffer: the Py_buffer is
/// released (PyBuffer_Release) under the same rules. Takes ownership of `view`.
std::shared_ptr<Py_buffer> share_python_buffer(Py_buffer view);

/// Runs tasks with the main interpreter's GIL held, in order, on one thread.
///
/// Thread-safety: post() and watch() may be called from any thread, attached or
/// not; stop() from the main interpreter with the GIL held.
class Courier {
 public:
  using Task = std::function<void()>;
  /// Called on the courier with the GIL held; returns false to stop watching.
  using Watch = std::function<bool()>;

  static Courier& instance();

  /// Queues `task` (run with the GIL held). After stop(), the task is dropped
  /// without running; a thread not attached to the main interpreter then leaks
  /// whatever Python references it held (Python is finalising).
  void post(Task task);
  /// Calls `watch` every `interval` until it returns false (progress bars).
  void watch(Watch watch, std::chrono::milliseconds interval);
  /// Runs what is queued, then ends the thread. Called from the atexit hook,
  /// before Python finalises; later posts are dropped. Releases the GIL while
  /// it waits.
  void stop();
  /// False once stop() began, or in a forked child (whose courier thread did
  /// not survive the fork).
  bool running() const;

 private:
  Courier() = default;
  void start_locked();
  void thread_main();
  struct Watcher {
    Watch fn;
    std::chrono::milliseconds interval;
    std::chrono::steady_clock::time_point next;
  };
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Task> tasks_;
  std::vector<Watcher> watchers_;
  std::thread thread_;
  bool started_ = false;
  bool stopping_ = false;
};

/// True in a child process forked after this process started engine threads
/// (an executor or the courier): neither TBB's workers nor ours exist there.
bool forked_after_start() noexcept;
/// Records that engine threads exist (for forked_after_start()).
void note_threads_started() noexcept;

}  // namespace decoflow::python
