#include "courier.hpp"

#include <pthread.h>

#include <atomic>
#include <utility>

namespace decoflow::python {

namespace {

std::atomic<bool> threads_started{false};
std::atomic<bool> forked{false};

void note_fork_in_child() {
  if (threads_started.load()) forked.store(true);
}

// Drops `release` now when this thread holds the main GIL, else on the
// courier. Never through PyGILState_*: see courier.hpp.
void release_python(std::function<void()> release) {
  if (attached_to_main()) {
    release();
    return;
  }
  Courier::instance().post(std::move(release));
}

}  // namespace

bool attached_to_main() noexcept {
#if PY_VERSION_HEX >= 0x030D0000
  PyThreadState* ts = PyThreadState_GetUnchecked();
#else
  PyThreadState* ts = _PyThreadState_UncheckedGet();
#endif
  return ts != nullptr && PyThreadState_GetInterpreter(ts) == PyInterpreterState_Main();
}

std::shared_ptr<PyObject> share_python_object(PyObject* object) {
  Py_XINCREF(object);
  return std::shared_ptr<PyObject>(object, [](PyObject* o) {
    if (o != nullptr) release_python([o] { Py_DECREF(o); });
  });
}

std::shared_ptr<Py_buffer> share_python_buffer(Py_buffer view) {
  return std::shared_ptr<Py_buffer>(new Py_buffer(view), [](Py_buffer* v) {
    release_python([v] {
      PyBuffer_Release(v);
      delete v;
    });
  });
}

Courier& Courier::instance() {
  // Never destroyed: its thread is ended by stop() (atexit), and a static
  // destructor running after Python finalised must not touch anything.
  static Courier* courier = [] {
    pthread_atfork(nullptr, nullptr, note_fork_in_child);
    return new Courier();
  }();
  return *courier;
}

bool Courier::running() const {
  std::lock_guard lock(mutex_);
  return !stopping_ && !forked.load();
}

void Courier::start_locked() {
  if (started_ || stopping_) return;
  started_ = true;
  note_threads_started();
  thread_ = std::thread([this] { thread_main(); });
}

void Courier::post(Task task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || forked.load()) {
      // Dropped without running. Its captures are destroyed here: fine on the
      // main thread (atexit); elsewhere they only leak (see release_python).
      if (!attached_to_main()) {
        new Task(std::move(task));  // leak on purpose: Python is going away
      }
      return;
    }
    start_locked();
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
}

void Courier::watch(Watch fn, std::chrono::milliseconds interval) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || forked.load()) return;
    start_locked();
    watchers_.push_back(Watcher{std::move(fn), interval, std::chrono::steady_clock::now() + interval});
  }
  wake_.notify_one();
}

void Courier::stop() {
  std::thread thread;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    thread.swap(thread_);
  }
  wake_.notify_one();
  if (!thread.joinable()) return;
  // The courier needs the GIL to drain its queue.
  PyThreadState* saved = PyEval_SaveThread();
  thread.join();
  PyEval_RestoreThread(saved);
}

void Courier::thread_main() {
  PyThreadState* state = PyThreadState_New(PyInterpreterState_Main());
  for (;;) {
    std::deque<Task> tasks;
    std::vector<Watcher> due;
    bool stopping = false;
    {
      std::unique_lock lock(mutex_);
      for (;;) {
        stopping = stopping_;
        if (!tasks_.empty() || stopping) break;
        auto now = std::chrono::steady_clock::now();
        auto next = std::chrono::steady_clock::time_point::max();
        for (const auto& w : watchers_) next = std::min(next, w.next);
        if (next <= now) break;
        if (next == std::chrono::steady_clock::time_point::max()) {
          wake_.wait(lock);
        } else {
          wake_.wait_until(lock, next);
        }
      }
      tasks.swap(tasks_);
      const auto now = std::chrono::steady_clock::now();
      // Due watchers leave the list while they run (they may call watch()).
      for (auto it = watchers_.begin(); it != watchers_.end();) {
        if (it->next <= now || stopping) {
          due.push_back(std::move(*it));
          it = watchers_.erase(it);
        } else {
          ++it;
        }
      }
    }
    PyEval_RestoreThread(state);
    for (auto& task : tasks) {
      try {
        task();
      } catch (...) {
        // Tasks report their own Python errors (as unraisable); nothing may
        // escape and end the process.
      }
      if (PyErr_Occurred()) PyErr_WriteUnraisable(nullptr);
    }
    tasks.clear();  // destroy captures with the GIL held
    std::vector<Watcher> again;
    for (auto& w : due) {
      bool keep = false;
      try {
        keep = w.fn();
      } catch (...) {
        keep = false;
      }
      if (PyErr_Occurred()) PyErr_WriteUnraisable(nullptr);
      if (keep && !stopping) {
        w.next = std::chrono::steady_clock::now() + w.interval;
        again.push_back(std::move(w));
      }
    }
    due.clear();
    PyEval_SaveThread();
    std::lock_guard lock(mutex_);
    for (auto& w : again) watchers_.push_back(std::move(w));
    if (stopping && tasks_.empty()) break;
  }
  PyEval_RestoreThread(state);
  PyThreadState_Clear(state);
  PyThreadState_DeleteCurrent();
}

bool forked_after_start() noexcept { return forked.load(); }

void note_threads_started() noexcept { threads_started.store(true); }

}  // namespace decoflow::python
