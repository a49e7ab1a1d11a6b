// The Asio shell around RuntimeCore: a strand, one steady_timer, a worker pool.
//
// Everything that touches the core runs through impl::guarded(), on the strand and under one
// recursive mutex. The strand alone would serialise the core, but the destructor runs on the
// caller's thread while the strand may be running a report from the pool: the mutex lets it take
// the core away without racing that handler, and every later handler finds no core and does nothing.
#include "tasklane/asio/runtime.hpp"

#include <atomic>
#include <chrono>
#include <iterator>
#include <mutex>
#include <variant>

#include <boost/asio/execution.hpp>

#include "tasklane/drivers/call_batch.hpp"
#include "tasklane/drivers/handoff_batch.hpp"

namespace tasklane::asio {

namespace {
// What reaches the strand from another thread: a call, or the spec of a spawn made with
// net::detached, held as it is. A TaskSpec is over UniqueFunction's in-place bytes: in a closure,
// every fire-and-forget spawn cost an allocation on the caller's thread and a free on the strand.
using StrandCall = std::variant<drivers::UniqueFunction<void()>, TaskSpec>;
}  // namespace

struct runtime::impl : std::enable_shared_from_this<runtime::impl> {
  impl(executor_type executor, runtime_options& options)
      : strand(net::make_strand(executor)), timer(strand) {
    if (options.work_executor) {
      work = *options.work_executor;
    } else {
      own_pool.emplace(options.worker_threads);
      work = own_pool->get_executor();
    }
  }

  static Time clock_now() {
    return std::chrono::duration_cast<Time>(std::chrono::system_clock::now().time_since_epoch());
  }

  // On the strand: runs `f` on the core unless the runtime is gone, as one turn of the core (its
  // metrics are published once, at the end), then keeps the owner's context busy exactly while the
  // core has work out (sync work on the pool, a coroutine on some other executor, a commit to
  // come), so that io_context::run() returns only once it all came back.
  template <class F>
  void guarded(F&& f) {
    std::lock_guard lock(mutex);
    if (!core) return;
    const drivers::RuntimeCore::Turn turn(*core);
    struct TrackBusy {  // also when `f` throws: the context's work count must follow the core
      impl& self;
      ~TrackBusy() { self.track_busy(); }
    } track{*this};
    f();
  }
  void track_busy() {
    if (!core) return;  // a user callback destroyed the runtime
    if (core->idle()) {
      busy.reset();
    } else if (!busy) {
      busy.emplace(net::prefer(strand.get_inner_executor(), net::execution::outstanding_work.tracked));
    }
  }

  // Called by the core, hence on the strand under the mutex. Re-arming the timer is a
  // timerfd_settime system call, and a run of delayed tasks due microseconds apart moved the
  // deadline at nearly every spawn (each input fires what is due), so the timer is re-armed only
  // when the deadline came earlier or the timer is not armed: a deadline that moved later leaves
  // the timer to fire early, once, and that fire arms the new deadline. A deadline already due is a
  // post to the strand, not the timer. No wait outlives the need for one: a wait still pending
  // when the deadline went away or was posted is cancelled, or it would keep run() from returning
  // until it expired. (A fire for a deadline no longer wanted does nothing: its generation is stale.)
  void arm(std::optional<Time> at) {
    if (!at) {
      if (armed) {
        armed.reset();
        ++timer_generation;
      }
      if (timer_waits > 0) timer.cancel();
      return;
    }
    if (at == armed) return;
    if (armed && *at > *armed) return;
    armed = at;
    const std::uint64_t generation = ++timer_generation;
    const auto delay = *at - clock_now();
    if (delay <= Duration{0}) {
      if (timer_waits > 0) timer.cancel();
      net::post(strand, [weak = weak_from_this(), generation] {
        if (auto self = weak.lock()) self->guarded([&] { self->fire(generation); });
      });
      return;
    }
    ++timer_waits;
    timer.expires_after(delay);  // a wait still pending ends with operation_aborted
    timer.async_wait([weak = weak_from_this(), generation](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!self) return;
      self->guarded([&] {
        --self->timer_waits;
        if (!ec) self->fire(generation);
      });
    });
  }
  // On the strand under the mutex, with a core: the deadline armed as `generation` is here.
  void fire(std::uint64_t generation) {
    if (generation != timer_generation) return;
    armed.reset();
    core->on_timer();
  }

  // On the strand: the calls other threads made since the last batch, in order, as one handler.
  // A call that throws propagates out of the io_context's run(), as a throwing handler does; the
  // calls behind it stay first in line and run in the next handler.
  void run_inbox() {
    auto batch = inbox.take();
    guarded([&] {
      drivers::RuntimeCore::Batch inputs(*core);  // a batch of spawns drains once
      if (!unrun_calls.empty()) {
        unrun_calls.insert(unrun_calls.end(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
        batch.swap(unrun_calls);
        unrun_calls.clear();
      }
      drivers::run_call_batch(
          batch, [this] { return core != nullptr; },
          [this](auto first, auto last) {
            unrun_calls.assign(first, last);
            net::post(strand, [self = shared_from_this()] { self->run_inbox(); });
          },
          [this](StrandCall& call) { run(call); });
      inputs.end();
    });
    inbox.recycle(std::move(batch));
  }
  // On the strand under the mutex, with a core.
  void run(drivers::UniqueFunction<void()>& call) { call(); }
  void run(TaskSpec& detached_spawn) { core->admit(std::move(detached_spawn), nullptr); }
  void run(StrandCall& call) {
    std::visit([this](auto& c) { run(c); }, call);
  }
  // Runs `call` (a UniqueFunction or a detached spawn's TaskSpec) now when on the strand, else
  // queues it, made in place in the inbox, for the strand's next batch (the first call after a
  // take wakes the strand).
  template <class Call>
  static void hand_in(const std::shared_ptr<impl>& i, Call&& call) {
    if (i->strand.running_in_this_thread()) {
      // What dispatch would do, without its allocation. `i` may be the runtime's own member, and
      // code the call runs (a log sink, the queued-work answer) may destroy the runtime: a share
      // keeps the impl, and the mutex guarded() holds, alive to the end.
      const std::shared_ptr<impl> keep = i;
      keep->guarded([&] { keep->run(call); });
      return;
    }
    if (i->inbox.add(std::forward<Call>(call)) == drivers::HandoffBatch<StrandCall>::Added::Wake) {
      net::post(i->strand, [i] { i->run_inbox(); });
    }
  }

  net::strand<net::any_io_executor> strand;
  // Calls from threads other than the strand's: one post to the strand carries a whole batch.
  drivers::HandoffBatch<StrandCall> inbox;
  std::vector<StrandCall> unrun_calls;  // behind a call that threw; under `mutex`
  net::steady_timer timer;
  std::optional<net::thread_pool> own_pool;
  net::any_io_executor work;
  std::recursive_mutex mutex;  // recursive: a user callback on the strand may call back in, or destroy the runtime
  std::unique_ptr<drivers::RuntimeCore> core;
  std::shared_ptr<const drivers::Metrics> metrics;  // the core's; outlives it for late readers
  std::optional<net::any_io_executor> busy;  // tracked executor: outstanding work while the core is not idle
  std::optional<Time> armed;
  std::uint64_t timer_generation = 0;
  std::size_t timer_waits = 0;  // async_waits whose handler has not run yet (cancelled ones included)
};

runtime::runtime(executor_type executor, runtime_options options, drivers::HandlerRegistry handlers)
    : impl_(std::make_shared<impl>(executor, options)) {
  std::weak_ptr<impl> weak = impl_;
  auto strand = impl_->strand;
  auto work = impl_->work;
  drivers::RuntimeHooks hooks;
  hooks.run_work = [work](std::function<void()> f) { net::post(work, std::move(f)); };
  hooks.to_owner = [weak, strand](std::function<void()> f) {
    net::post(strand, [weak, f = std::move(f)]() {
      if (auto self = weak.lock()) self->guarded(f);
    });
  };
  // Called by the core only, on the strand under the mutex: the impl owns the core and outlives it
  // (no weak_ptr lock, an atomic read-modify-write pair, on every drain).
  hooks.arm_timer = [self = impl_.get()](std::optional<Time> at) { self->arm(at); };
  hooks.now = &impl::clock_now;
  if (impl_->own_pool) hooks.work_threads = options.worker_threads;  // a user's executor: size unknown
  impl_->core = std::make_unique<drivers::RuntimeCore>(std::move(options.runtime), std::move(handlers), std::move(hooks));
  impl_->metrics = impl_->core->metrics();
}

runtime::~runtime() {
  // Calls queued for a strand handler that may never run (a stopped io_context) hold the impl:
  // drop them here, or they and the impl keep each other alive. Destroyed outside every lock.
  auto queued_calls = impl_->inbox.close();
  {
    std::lock_guard lock(impl_->mutex);
    auto unrun = std::exchange(impl_->unrun_calls, {});
    queued_calls.insert(queued_calls.end(), std::make_move_iterator(unrun.begin()), std::make_move_iterator(unrun.end()));
    impl_->core.reset();  // fires every running attempt's cancellation token
    impl_->busy.reset();
    impl_->armed.reset();
    ++impl_->timer_generation;
    impl_->timer.cancel();
  }
  queued_calls.clear();
  // Outside the lock: the workers' last reports are posted to the strand, where they find no core.
  if (impl_->own_pool) impl_->own_pool->join();
}

runtime::executor_type runtime::get_executor() const { return impl_->strand; }

void runtime::run_on_strand(const std::shared_ptr<impl>& i, drivers::UniqueFunction<void()> f) {
  impl::hand_in(i, std::move(f));
}

const net::strand<net::any_io_executor>& runtime::strand_of(const std::shared_ptr<impl>& i) { return i->strand; }

drivers::RuntimeCore& runtime::core_of(const std::shared_ptr<impl>& i) { return *i->core; }

void runtime::publish_metrics_of(const std::shared_ptr<impl>& i) {
  if (i->core) i->core->publish_metrics();
}

drivers::MetricsSnapshot runtime::metrics() const { return impl_->metrics->snapshot(); }

void runtime::spawn_detached(const std::shared_ptr<impl>& i, TaskSpec&& spec) {
  impl::hand_in(i, std::move(spec));  // no closure: see StrandCall
}

void runtime::cancel(TaskId id) {
  run_on_strand(impl_, [i = impl_, id]() { (void)i->core->cancel(id); });
}

void runtime::poke(std::optional<std::string> session, std::string reason) {
  run_on_strand(impl_, [i = impl_, session = std::move(session), reason = std::move(reason)]() mutable {
    i->core->poke(std::move(session), std::move(reason));
  });
}

void runtime::complete_session(std::string session, std::string reason) {
  run_on_strand(impl_, [i = impl_, session = std::move(session), reason = std::move(reason)]() mutable {
    i->core->complete_session(std::move(session), std::move(reason));
  });
}

std::uint64_t runtime::subscribe(std::optional<std::string> owner, std::function<void(const drivers::TaskEvent&)> listener) {
  // Ids are handed out here so the caller has one at once; the registration follows on the strand.
  static std::atomic<std::uint64_t> next{1};
  const std::uint64_t id = next++;
  run_on_strand(impl_, [i = impl_, id, owner = std::move(owner), listener = std::move(listener)]() mutable {
    i->core->subscribe_as(id, std::move(owner), std::move(listener));
  });
  return id;
}

void runtime::unsubscribe(std::uint64_t subscription) {
  run_on_strand(impl_, [i = impl_, subscription]() { i->core->unsubscribe(subscription); });
}

}  // namespace tasklane::asio
