// The pool of engine-owned threads that run Python glue, each with one pinned
// subinterpreter (own GIL).
//
// Why threads of our own rather than TBB workers with thread-local
// interpreters: an interpreter must be ended on the thread that owns it, and
// TBB's workers are process-wide and go wherever the scheduler sends them, so
// no teardown could be sure to reach each one. Our own threads are reached by
// a message. The price is a hand-off per batch (not per chunk) through
// tbb::flow::async_node, which leaves the handing worker free to decode.
#pragma once

#include <Python.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "decoflow/stage.hpp"
#include "glue_buffer.hpp"
#include "glue_watchdog.hpp"

namespace decoflow::detail {

/// What one pool thread keeps in its interpreter.
struct InterpreterState {
  PyThreadState* thread_state = nullptr;  // null when creation failed
  std::string creation_error;             // why, when it failed
  PyObject* buffer_type = nullptr;
  GlueBuffer* input = nullptr;   // reused for every call whose views did not escape
  GlueBuffer* output = nullptr;
  std::unordered_map<std::string, PyObject*> functions;  // glue spec -> function
  std::uint64_t last_body = 0;   // the glue body whose function is in last_function
  PyObject* last_function = nullptr;
  std::shared_ptr<GlueCallSlot> call_slot;  // the call in flight, for the watchdog
  std::uint64_t calls = 0;                  // numbers this thread's calls (from 1)
};

/// The interpreter of the calling pool thread, or null on any other thread.
InterpreterState* current_interpreter() noexcept;

/// Tests only: the config for interpreters created from now on (a shared GIL,
/// an invalid combination); nullopt restores the isolated own-GIL config.
void set_interpreter_config_for_tests(std::optional<PyInterpreterConfig> config);

class InterpreterPool {
 public:
  static InterpreterPool& instance();

  /// Makes sure at least `threads` pool threads exist (each creates its
  /// interpreter as it starts, one at a time). Thread-safe.
  void ensure_threads(unsigned threads);
  /// Queues a batch for the next free pool thread.
  void post(const PinnedJob& job);
  /// Ends every interpreter on its own thread and joins the threads. The
  /// caller must not hold a GIL. Thread-safe; a later ensure_threads starts anew.
  void shutdown();
  unsigned interpreter_count() const;
  /// Waits until every pool thread started so far has tried to create its
  /// interpreter; returns how many live. The caller must not hold a GIL (the
  /// threads need the main interpreter's to create theirs).
  unsigned wait_for_interpreters() const;
  /// False after shutdown() until reopen(): glue posted then fails at once.
  bool accepting() const noexcept { return accepting_.load(); }
  /// Lets shutdown() be followed by new glue (a new embedded runtime).
  void reopen() noexcept { accepting_.store(true); }
  /// True in a child forked from a process whose pool had threads.
  bool forked_child() const noexcept;

 private:
  InterpreterPool();
  void thread_main();
  struct Item {
    PinnedJob job;
    bool stop = false;
  };
  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::deque<Item> queue_;
  std::vector<std::thread> threads_;
  unsigned alive_interpreters_ = 0;
  unsigned started_threads_ = 0;  // past their interpreter's creation, alive or failed
  mutable std::condition_variable started_;
  std::atomic<bool> accepting_{true};
};

}  // namespace decoflow::detail
