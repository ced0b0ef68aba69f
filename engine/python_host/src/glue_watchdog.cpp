#include "glue_watchdog.hpp"

#include <pthread.h>

#include <algorithm>

namespace decoflow::detail {

namespace {

// Polling is cheap (a few atomic loads per interpreter) and bounds how late a
// timeout or a cancel reaches a call, on top of CPython's 5 ms switch interval.
constexpr auto scan_interval = std::chrono::milliseconds(10);
// A call that caught the exception and went on gets it again this often.
constexpr std::int64_t resend_ns = 50'000'000;

}  // namespace

GlueWatchdog& GlueWatchdog::instance() {
  static GlueWatchdog* watchdog = new GlueWatchdog();  // never destroyed, like the pool
  return *watchdog;
}

void GlueWatchdog::add(std::shared_ptr<GlueCallSlot> slot) {
  std::lock_guard lock(mutex_);
  slots_.push_back(std::move(slot));
  if (!thread_.joinable()) {
    thread_ = std::thread([this, generation = generation_] {
      pthread_setname_np(pthread_self(), "decoflow-watch");
      loop(generation);
    });
  }
}

void GlueWatchdog::remove(const GlueCallSlot* slot) {
  std::lock_guard lock(mutex_);
  std::erase_if(slots_, [slot](const auto& s) { return s.get() == slot; });
}

void GlueWatchdog::batch_begins() {
  active_batches_.fetch_add(1);
  if (idle_.load()) {
    std::lock_guard lock(mutex_);  // the watchdog is in wait() or about to re-check
    wake_.notify_all();
  }
}

void GlueWatchdog::batch_ends() noexcept { active_batches_.fetch_sub(1); }

void GlueWatchdog::forget_run(GlueCallSlot& slot) {
  std::lock_guard lock(slot.run_mutex);
  slot.run_stopped.store(nullptr, std::memory_order_relaxed);
}

void GlueWatchdog::stop() {
  std::thread thread;
  {
    std::lock_guard lock(mutex_);
    ++generation_;
    thread.swap(thread_);
  }
  wake_.notify_all();
  if (thread.joinable()) thread.join();
}

void GlueWatchdog::loop(std::uint64_t generation) {
  std::unique_lock lock(mutex_);
  while (generation_ == generation) {
    if (active_batches_.load() == 0) {
      idle_.store(true);
      wake_.wait(lock, [&] { return generation_ != generation || active_batches_.load() > 0; });
      idle_.store(false);
      if (generation_ != generation) break;
    }
    wake_.wait_for(lock, scan_interval);
    if (generation_ != generation) break;
    const std::int64_t now = steady_ns();
    for (const auto& slot : slots_) {
      const std::uint64_t call = slot->call.load(std::memory_order_acquire);
      if (call == 0) continue;
      bool run_stopped = false;
      {
        std::lock_guard run_lock(slot->run_mutex);
        const std::atomic<bool>* flag = slot->run_stopped.load(std::memory_order_relaxed);
        run_stopped = flag != nullptr && flag->load(std::memory_order_relaxed);
      }
      GlueCallSlot::Interrupt why = GlueCallSlot::none;
      if (run_stopped) {
        why = GlueCallSlot::stopped;
      } else if (now >= slot->deadline_ns.load(std::memory_order_relaxed)) {
        why = GlueCallSlot::timed_out;
      }
      if (why == GlueCallSlot::none) continue;
      if (slot->sent_call == call && now - slot->sent_ns < resend_ns) continue;
      slot->sent_call = call;
      slot->sent_ns = now;
      interrupt(*slot, call, why);  // under mutex_: remove() waits until it is done
    }
  }
}

void GlueWatchdog::interrupt(GlueCallSlot& slot, std::uint64_t call,
                             GlueCallSlot::Interrupt why) {
  PyThreadState* attached = PyThreadState_New(slot.interpreter);
  if (attached == nullptr) return;
  PyEval_RestoreThread(attached);  // the interpreter's GIL, once the call lets go of it
  // Still the same call? It cannot end while we hold the GIL.
  if (slot.call.load(std::memory_order_acquire) == call) {
    slot.interrupted = why;
    PyObject* exception =
        why == GlueCallSlot::timed_out ? PyExc_TimeoutError : PyExc_KeyboardInterrupt;
    PyThreadState_SetAsyncExc(slot.thread_ident, exception);
  }
  PyThreadState_Clear(attached);
  PyThreadState_DeleteCurrent();  // releases the GIL
}

}  // namespace decoflow::detail
