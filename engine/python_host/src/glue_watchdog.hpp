// Interrupts glue calls that run too long or whose graph has stopped.
//
// A glue call is Python code running on a pool thread with its
// interpreter's GIL held; nothing outside can stop it but an exception raised
// inside it. The watchdog, a thread of its own, looks at every interpreter's
// call in flight every few milliseconds; for one past its deadline, or whose
// run has stopped (cancelled, or failed elsewhere), it attaches to that
// interpreter with a thread state of its own (taking the GIL when the call's
// eval loop lets go of it, at the switch interval), and raises an exception
// in the call's thread (PyThreadState_SetAsyncExc). Pure-Python code sees it
// at once; a blocking C call (time.sleep, a long regex) when it returns.
//
// It scans only while some pool thread runs a batch; in between it sleeps
// until the next batch begins, so an idle process is not woken 100 times a
// second.
//
// The race with a call that ends just then is closed by the GIL: the pool
// thread marks its call finished while holding the GIL, and the watchdog
// checks that the same call is still in flight after taking it. What was sent
// but not yet delivered is cleared by the pool thread after the call.
#pragma once

#include <Python.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace decoflow::detail {

/// One interpreter's call in flight, shared by its pool thread and the watchdog.
struct GlueCallSlot {
  enum Interrupt : int { none = 0, timed_out = 1, stopped = 2 };
  static constexpr std::int64_t no_deadline = INT64_MAX;

  PyInterpreterState* interpreter = nullptr;
  unsigned long thread_ident = 0;  // the pool thread (PyThread_get_thread_ident)

  // Written by the pool thread, read by the watchdog.
  std::atomic<std::uint64_t> call{0};  // the call in flight; 0: none
  std::atomic<std::int64_t> deadline_ns{no_deadline};  // steady clock
  // The batch's run: set before its calls, cleared by GlueWatchdog::forget_run.
  // The watchdog reads the flag behind it holding run_mutex (this slot's
  // only: the pool thread's per-batch lock contends with nothing else).
  std::atomic<const std::atomic<bool>*> run_stopped{nullptr};
  std::mutex run_mutex;

  // Read and written only with this interpreter's GIL held.
  Interrupt interrupted = none;

  // The watchdog's own bookkeeping: re-send to a call that swallowed it.
  std::uint64_t sent_call = 0;
  std::int64_t sent_ns = 0;
};

/// Monotonic nanoseconds (the deadlines' clock).
inline std::int64_t steady_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class GlueWatchdog {
 public:
  static GlueWatchdog& instance();

  /// Watches `slot` from now on (starts the watchdog thread if needed). Call
  /// holding no GIL.
  void add(std::shared_ptr<GlueCallSlot> slot);
  /// Stops watching `slot`; returns once no interrupt is being sent to it, so
  /// its interpreter may then end. Call holding no GIL.
  void remove(const GlueCallSlot* slot);
  /// Around each batch of glue calls (a pool thread, holding no GIL): the
  /// watchdog scans while any batch runs. batch_begins() wakes it if it sleeps.
  void batch_begins();
  void batch_ends() noexcept;
  /// Sets `slot`'s run stop flag to null, once the watchdog is not reading it:
  /// the run may end (and its flag go) as soon as this returns.
  static void forget_run(GlueCallSlot& slot);
  /// Ends the watchdog thread (before interpreters end at shutdown); a later
  /// add() starts it again. Call holding no GIL.
  void stop();

 private:
  GlueWatchdog() = default;
  void loop(std::uint64_t generation);
  static void interrupt(GlueCallSlot& slot, std::uint64_t call, GlueCallSlot::Interrupt why);

  std::mutex mutex_;  // held for a whole scan: remove() waits for it
  std::condition_variable wake_;
  // Each thread runs while this is its own: stop() moves it on, so a thread
  // that a late add() started cannot keep an older one from seeing its stop.
  std::uint64_t generation_ = 0;
  std::thread thread_;
  std::vector<std::shared_ptr<GlueCallSlot>> slots_;
  // Batches running now, and whether the watchdog sleeps until one begins.
  // Each side writes its own flag before reading the other's (seq_cst), so
  // a batch that begins as the watchdog goes to sleep is never missed.
  std::atomic<unsigned> active_batches_{0};
  std::atomic<bool> idle_{false};
};

}  // namespace decoflow::detail
