// VirtualTimeRuntime: RuntimeCore on one owner thread, work on a thread each, a virtual clock.
#include "tasklane/drivers/virtual_time_runtime.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace tasklane::sim {

struct VirtualTimeRuntime::Impl {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::function<void()>> queue;  // guarded by mutex
  bool stopping = false;                    // guarded by mutex
  std::atomic<int> busy_work{0};            // work threads not inside an OutsideWait
  std::atomic<Time::rep> clock{0};

  // Owner thread only.
  std::unique_ptr<drivers::RuntimeCore> core;
  std::shared_ptr<const drivers::Metrics> metrics;  // the core's; outlives it for late readers
  std::optional<Time> deadline;
  std::multimap<Time, std::function<void()>> alarms;  // sleep_for
  int waiting = 0;                                    // outstanding waiting calls
  // A thread per attempt; a finished one is joined the next time work starts, so a long run does
  // not keep every exited thread's stack until the runtime goes.
  struct Worker {
    std::thread thread;
    std::atomic<bool> finished{false};
  };
  std::list<Worker> workers;

  std::thread owner;

  void post(std::function<void()> f) {
    {
      std::lock_guard lock(mutex);
      queue.push_back(std::move(f));
    }
    changed.notify_one();
  }

  Time now() const { return Time{clock.load()}; }

  // One waiting call begins; the returned callback ends it (on the owner) and runs `done`.
  template <class... Args>
  std::function<void(Args...)> waiting_call(std::function<void(Args...)> done) {
    ++waiting;
    return [this, done = std::move(done)](Args... args) {
      --waiting;
      if (done) done(std::forward<Args>(args)...);
    };
  }

  void run_work(std::function<void()> job);
  void loop();
  void let_time_pass();
};

namespace {
thread_local void* current_work_runtime = nullptr;  // the VirtualTimeRuntime::Impl whose work this thread runs
}

OutsideWait::OutsideWait() : runtime_(current_work_runtime) {
  if (runtime_) {
    static_cast<VirtualTimeRuntime::Impl*>(runtime_)->busy_work.fetch_sub(1);
    static_cast<VirtualTimeRuntime::Impl*>(runtime_)->changed.notify_one();
  }
}

OutsideWait::~OutsideWait() {
  if (runtime_) static_cast<VirtualTimeRuntime::Impl*>(runtime_)->busy_work.fetch_add(1);
}

void VirtualTimeRuntime::Impl::run_work(std::function<void()> job) {
  // Counted busy from here, before the thread exists, so the clock cannot jump in between. The
  // job posts its report to the owner before it returns, so the queue holds it before the count drops.
  busy_work.fetch_add(1);
  for (auto w = workers.begin(); w != workers.end();) {
    if (!w->finished.load()) {
      ++w;
      continue;
    }
    w->thread.join();
    w = workers.erase(w);
  }
  Worker& worker = workers.emplace_back();
  worker.thread = std::thread([this, &worker, job = std::move(job)] {
    current_work_runtime = this;
    job();
    current_work_runtime = nullptr;
    busy_work.fetch_sub(1);
    changed.notify_one();
    worker.finished.store(true);
  });
}

void VirtualTimeRuntime::Impl::loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex);
      // The timeout lets the loop notice work entering an OutsideWait without a notification race.
      changed.wait_for(lock, std::chrono::milliseconds(1), [&] { return stopping || !queue.empty(); });
      if (stopping) return;
      if (!queue.empty()) {
        job = std::move(queue.front());
        queue.pop_front();
      }
    }
    if (job) {
      job();
    } else {
      let_time_pass();
    }
  }
}

// Fires what is due; moves the clock to the next deadline or alarm when nothing else can happen.
void VirtualTimeRuntime::Impl::let_time_pass() {
  std::optional<Time> next = deadline;
  if (!alarms.empty() && (!next || alarms.begin()->first < *next)) next = alarms.begin()->first;
  if (!next) return;
  if (*next > now()) {
    // Busy first, then the queue: work posts its report before it stops counting as busy, so a
    // report is never left behind in the queue while the clock jumps past it.
    if (waiting == 0 || busy_work.load() != 0) return;
    {
      std::lock_guard lock(mutex);
      if (!queue.empty()) return;
    }
    clock.store(next->count());
  }
  if (deadline && *deadline <= now()) {
    deadline.reset();
    if (core) core->on_timer();
  }
  while (!alarms.empty() && alarms.begin()->first <= now()) {
    auto done = std::move(alarms.begin()->second);
    alarms.erase(alarms.begin());
    done();
  }
}

VirtualTimeRuntime::VirtualTimeRuntime(drivers::RuntimeOptions options, drivers::HandlerRegistry handlers, Time start)
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.clock.store(start.count());
  drivers::RuntimeHooks hooks;
  hooks.run_work = [&s](std::function<void()> job) { s.run_work(std::move(job)); };
  hooks.to_owner = [&s](std::function<void()> f) { s.post(std::move(f)); };
  hooks.arm_timer = [&s](std::optional<Time> at) { s.deadline = at; };
  hooks.now = [&s] { return s.now(); };
  s.core = std::make_unique<drivers::RuntimeCore>(std::move(options), std::move(handlers), std::move(hooks));
  s.metrics = s.core->metrics();
  s.owner = std::thread([&s] { s.loop(); });
}

VirtualTimeRuntime::~VirtualTimeRuntime() {
  Impl& s = *impl_;
  // The crash: the core goes (cancelling running work) on its own thread, then the loop stops.
  // The loop ends with this job: no alarm fires and no queued call runs after the core is gone.
  s.post([&s] {
    s.core.reset();
    s.alarms.clear();
    std::lock_guard lock(s.mutex);
    s.stopping = true;
  });
  s.owner.join();
  for (auto& w : s.workers) w.thread.join();  // cancelled work returns; what it reports is dropped
}

void VirtualTimeRuntime::start(StartDone done) {
  impl_->post([this, done = std::move(done)] { done(impl_->core->start()); });
}

void VirtualTimeRuntime::spawn(TaskSpec spec, drivers::RuntimeCore::SpawnDone done) {
  impl_->post([this, spec = std::move(spec), done = std::move(done)]() mutable {
    impl_->core->spawn(std::move(spec), std::move(done));
  });
}

void VirtualTimeRuntime::abort(AbortSelector which, std::function<void(std::size_t)> done) {
  impl_->post([this, which = std::move(which), done = std::move(done)] { done(impl_->core->abort(which)); });
}

void VirtualTimeRuntime::pause(PauseSelector which, std::function<void(drivers::PauseAnswer)> done) {
  impl_->post([this, which = std::move(which), done = std::move(done)] { done(impl_->core->pause(which)); });
}

void VirtualTimeRuntime::resume(PauseSelector which, std::function<void(drivers::PauseAnswer)> done) {
  impl_->post([this, which = std::move(which), done = std::move(done)] { done(impl_->core->resume(which)); });
}

void VirtualTimeRuntime::send(TaskId to, std::string from, Json message,
                              std::function<void(Result<void, SendError>)> done) {
  impl_->post([this, to, from = std::move(from), message = std::move(message), done = std::move(done)]() mutable {
    done(impl_->core->send(to, std::move(from), std::move(message)));
  });
}

void VirtualTimeRuntime::read(std::function<void(const Kernel&)> f) {
  impl_->post([this, f = std::move(f)] { f(impl_->core->kernel()); });
}

void VirtualTimeRuntime::subscribe(std::optional<std::string> owner,
                                   std::function<void(const drivers::TaskEvent&)> listener) {
  impl_->post([this, owner = std::move(owner), listener = std::move(listener)]() mutable {
    impl_->core->subscribe(std::move(owner), std::move(listener));
  });
}

void VirtualTimeRuntime::wait(TaskId id, std::function<void(std::optional<TaskInfo>)> done) {
  impl_->post([this, id, done = std::move(done)]() mutable {
    impl_->core->wait(id, impl_->waiting_call(std::move(done)));
  });
}

void VirtualTimeRuntime::flush(FlushSelector which, std::function<void(std::optional<std::string>)> done) {
  impl_->post([this, which = std::move(which), done = std::move(done)]() mutable {
    impl_->core->flush(which, impl_->waiting_call(std::move(done)));
  });
}

void VirtualTimeRuntime::shutdown(ShutdownMode mode, std::function<void()> done) {
  impl_->post([this, mode, done = std::move(done)]() mutable {
    impl_->core->shutdown(mode, impl_->waiting_call(std::move(done)));
  });
}

void VirtualTimeRuntime::sleep_for(Duration d, std::function<void()> done) {
  impl_->post([this, d, done = std::move(done)]() mutable {
    impl_->alarms.emplace(impl_->now() + std::max(d, Duration{0}), impl_->waiting_call(std::move(done)));
  });
}

Time VirtualTimeRuntime::now() const { return impl_->now(); }
drivers::MetricsSnapshot VirtualTimeRuntime::metrics() const { return impl_->metrics->snapshot(); }

}  // namespace tasklane::sim
