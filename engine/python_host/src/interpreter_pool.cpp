#include "interpreter_pool.hpp"

#include <pthread.h>
#include <unistd.h>

#include <atomic>

#include "decoflow/error.hpp"

namespace decoflow::detail {

namespace {

thread_local InterpreterState* this_thread_interpreter = nullptr;

// Concurrent creation of interpreters has crashed CPython 3.12 (pybind11
// #5779; 2 of 11 runs segfaulted on 3.13 in a prototype): one at a time.
std::mutex creation_mutex;

std::optional<PyInterpreterConfig> config_override;  // guarded by creation_mutex

std::atomic<pid_t> pool_pid{0};  // the process whose pool has threads
std::atomic<bool> in_forked_child{false};

void note_fork_in_child() {
  if (pool_pid.load() != 0) in_forked_child.store(true);
}

// Creates this thread's interpreter: borrow a thread state of the main
// interpreter to hold its GIL while creating, then give it back.
void create_interpreter(InterpreterState& state) {
  std::lock_guard lock(creation_mutex);
  PyInterpreterState* main = PyInterpreterState_Main();
  PyThreadState* borrowed = PyThreadState_New(main);
  PyEval_RestoreThread(borrowed);

  PyInterpreterConfig config = {};
  config.use_main_obmalloc = 0;
  config.allow_fork = 0;
  config.allow_exec = 0;
  config.allow_threads = 1;
  config.allow_daemon_threads = 0;
  config.check_multi_interp_extensions = 1;
  config.gil = PyInterpreterConfig_OWN_GIL;
  if (config_override) config = *config_override;
  PyThreadState* sub = nullptr;
  PyStatus status = Py_NewInterpreterFromConfig(&sub, &config);
  if (PyStatus_Exception(status) || sub == nullptr) {
    // Never Py_ExitStatusException from a library: report and go on.
    state.creation_error = status.err_msg != nullptr ? status.err_msg : "unknown error";
    PyThreadState_Swap(borrowed);
  } else {
    // Now attached to the new interpreter (its own GIL held): build what every
    // call needs, then detach.
    state.thread_state = sub;
    state.buffer_type = make_glue_buffer_type();
    if (state.buffer_type != nullptr) {
      state.input = new_glue_buffer(state.buffer_type);
      state.output = new_glue_buffer(state.buffer_type);
    }
    if (state.input == nullptr || state.output == nullptr) {
      PyErr_Clear();
      state.creation_error = "cannot create the glue buffer type";
    }
    PyThreadState_Swap(borrowed);  // releases the subinterpreter's GIL
  }
  PyThreadState_Clear(borrowed);
  PyThreadState_DeleteCurrent();  // releases the main GIL
}

// Ends this thread's interpreter, on this thread (ending it from another thread
// leaves this thread's thread-state slot dangling: its next attach crashed).
void end_interpreter(InterpreterState& state) {
  if (state.thread_state == nullptr) return;
  PyEval_RestoreThread(state.thread_state);
  for (auto& [key, fn] : state.functions) Py_DECREF(fn);
  state.functions.clear();
  Py_XDECREF(reinterpret_cast<PyObject*>(state.input));
  Py_XDECREF(reinterpret_cast<PyObject*>(state.output));
  Py_XDECREF(state.buffer_type);
  Py_EndInterpreter(state.thread_state);
  state.thread_state = nullptr;
}

}  // namespace

InterpreterState* current_interpreter() noexcept { return this_thread_interpreter; }

void set_interpreter_config_for_tests(std::optional<PyInterpreterConfig> config) {
  std::lock_guard lock(creation_mutex);
  config_override = config;
}

InterpreterPool& InterpreterPool::instance() {
  // Never destroyed: its threads are ended explicitly before Python finalises,
  // and static destruction order must not matter.
  static InterpreterPool* pool = new InterpreterPool();
  return *pool;
}

InterpreterPool::InterpreterPool() { pthread_atfork(nullptr, nullptr, note_fork_in_child); }

bool InterpreterPool::forked_child() const noexcept { return in_forked_child.load(); }

void InterpreterPool::ensure_threads(unsigned threads) {
  if (forked_child()) {
    throw Error(ErrorCode::resource_error,
                "this process was forked from one with live glue subinterpreters; CPython "
                "cannot run them in the child (3.13 kills it, 3.12 hangs): start workers with "
                "multiprocessing's 'spawn' or 'forkserver' method");
  }
  std::lock_guard lock(mutex_);
  pool_pid.store(::getpid());
  while (threads_.size() < threads) threads_.emplace_back([this] { thread_main(); });
}

void InterpreterPool::post(const PinnedJob& job) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(Item{job, false});
  }
  available_.notify_one();
}

void InterpreterPool::thread_main() {
  pthread_setname_np(pthread_self(), "decoflow-glue");  // for top -H, gdb, perf
  InterpreterState state;
  create_interpreter(state);
  if (state.thread_state != nullptr) {
    state.call_slot = std::make_shared<GlueCallSlot>();
    state.call_slot->interpreter = PyThreadState_GetInterpreter(state.thread_state);
    state.call_slot->thread_ident = PyThread_get_thread_ident();
    GlueWatchdog::instance().add(state.call_slot);
  }
  this_thread_interpreter = &state;
  {
    std::lock_guard lock(mutex_);
    if (state.thread_state != nullptr) ++alive_interpreters_;
    ++started_threads_;
  }
  started_.notify_all();
  for (;;) {
    Item item;
    {
      std::unique_lock lock(mutex_);
      available_.wait(lock, [this] { return !queue_.empty(); });
      item = queue_.front();
      queue_.pop_front();
    }
    if (item.stop) break;
    if (state.thread_state != nullptr && state.creation_error.empty()) {
      auto& watchdog = GlueWatchdog::instance();
      state.call_slot->run_stopped.store(item.job.stop_flag(), std::memory_order_relaxed);
      watchdog.batch_begins();
      PyEval_RestoreThread(state.thread_state);
      item.job.execute();
      PyEval_SaveThread();
      watchdog.batch_ends();
      GlueWatchdog::forget_run(*state.call_slot);  // before finish() lets the run end
    } else {
      item.job.execute();  // the glue body fails each chunk with the creation error
    }
    item.job.finish();  // detached: the flow graph may need this thread's help
  }
  const bool had_interpreter = state.thread_state != nullptr;
  if (state.call_slot) GlueWatchdog::instance().remove(state.call_slot.get());
  end_interpreter(state);
  this_thread_interpreter = nullptr;
  std::lock_guard lock(mutex_);
  if (had_interpreter) --alive_interpreters_;
  --started_threads_;
}

void InterpreterPool::shutdown() {
  accepting_.store(false);
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    threads.swap(threads_);
    for (std::size_t k = 0; k < threads.size(); ++k) queue_.push_back(Item{PinnedJob(), true});
  }
  available_.notify_all();
  for (auto& t : threads) t.join();
  // Each thread took its slot from the watchdog before ending its interpreter
  // (remove() waits out a scan), so the watchdog never touched an ending one.
  GlueWatchdog::instance().stop();
}

unsigned InterpreterPool::interpreter_count() const {
  std::lock_guard lock(mutex_);
  return alive_interpreters_;
}

unsigned InterpreterPool::wait_for_interpreters() const {
  std::unique_lock lock(mutex_);
  started_.wait(lock, [this] { return started_threads_ >= threads_.size(); });
  return alive_interpreters_;
}

}  // namespace decoflow::detail
