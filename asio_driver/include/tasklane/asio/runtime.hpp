// tasklane::asio::runtime: tasklane inside a Boost.Asio program.
//
// The kernel lives on a strand of the executor you give (so it embeds in your io_context); one
// steady_timer follows next_deadline(); work runs on a thread pool of the runtime's own (or on an
// executor you give). Asynchronous operations take completion tokens: a callback, use_future, or
// use_awaitable.
//
//   boost::asio::io_context io;
//   tasklane::drivers::HandlerRegistry handlers;
//   handlers.add("summarize", [](tasklane::drivers::WorkContext& ctx) { return tasklane::Outcome::success(); });
//   tasklane::asio::runtime rt(io.get_executor(), {.config = {}, .data_dir = "tasklane-data"}, std::move(handlers));
//   rt.async_start([](std::error_code ec, std::string message) { ... });
//   rt.async_spawn(spec, [](std::error_code ec, tasklane::TaskId id) { ... });
//   io.run();
//
// Boost 1.74 has no per-operation cancellation slots: cancel tasks with async_abort/cancel.
// Every member function is thread-safe; completion handlers run on their associated executor
// (for a plain callback: on the runtime's strand).
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange under gcc 12

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>

#include "tasklane/drivers/error_code.hpp"
#include "tasklane/drivers/runtime_core.hpp"

#if defined(BOOST_ASIO_HAS_CO_AWAIT)
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#endif

namespace tasklane::asio {

namespace net = boost::asio;

struct runtime_options {
  drivers::RuntimeOptions runtime;
  std::size_t worker_threads = 2;  // the runtime's own pool, unless work_executor is given
  std::optional<net::any_io_executor> work_executor;
};

class runtime {
 public:
  using executor_type = net::any_io_executor;

  runtime(executor_type executor, runtime_options options, drivers::HandlerRegistry handlers);
  ~runtime();  // cancels running work and waits for the runtime's own workers to return
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  executor_type get_executor() const;

  // Opens the data directory and restores it. Signature: void(std::error_code, std::string message).
  template <class Token>
  auto async_start(Token&& token) {
    return net::async_initiate<Token, void(std::error_code, std::string)>(
        [impl = impl_](auto handler) {
          run_on_strand(impl, [impl, h = share(std::move(handler))]() {
            auto recovered = core_of(impl).start();
            if (recovered) {
              complete(impl, h, std::error_code{}, std::string());
            } else {
              complete(impl, h, make_error_code(drivers::errc::stopped), recovered.error().message);
            }
          });
        },
        token);
  }

  // Accepts a task; durable tasks complete only once their record is synced. void(error_code, TaskId).
  // With boost::asio::detached no answer is made at all (fire and forget: the cheapest spawn; a
  // refusal then shows in the metrics and the log: "unanswered_spawn_refused").
  template <class Token>
  auto async_spawn(TaskSpec spec, Token&& token) {
    return initiate_admit<TaskId>(std::move(spec), std::forward<Token>(token));
  }

  // async_spawn that also says how the spawn was taken: void(error_code, Admission), where
  // Admission::deduplicated means a live task held the spec's dedup key and no task was made.
  // With boost::asio::detached: as async_spawn.
  template <class Token>
  auto async_admit(TaskSpec spec, Token&& token) {
    return initiate_admit<Admission>(std::move(spec), std::forward<Token>(token));
  }

  // Completes when the task is terminal: void(error_code, TaskInfo); unknown_task if it is unknown;
  // stopped (with the task as it was) when the runtime stopped before the task could end.
  template <class Token>
  auto async_wait(TaskId id, Token&& token) {
    return net::async_initiate<Token, void(std::error_code, TaskInfo)>(
        [impl = impl_](auto handler, TaskId task) {
          run_on_strand(impl, [impl, h = share(std::move(handler)), task]() {
            core_of(impl).wait(task, [impl, h](std::optional<TaskInfo> info) {
              if (info && !is_terminal(info->status)) {
                answer(impl, h, make_error_code(drivers::errc::stopped), std::move(*info));
              } else if (info) {
                answer(impl, h, std::error_code{}, std::move(*info));
              } else {
                answer(impl, h, make_error_code(drivers::errc::unknown_task), TaskInfo{});
              }
            });
          });
        },
        token, id);
  }

  // Completes when every selected task is terminal: void(error_code, std::string first_error);
  // errc::task_failed when one of them failed, or when the runtime stopped before they all ended.
  template <class Token>
  auto async_flush(FlushSelector which, Token&& token) {
    return net::async_initiate<Token, void(std::error_code, std::string)>(
        [impl = impl_](auto handler, FlushSelector w) {
          run_on_strand(impl, [impl, h = share(std::move(handler)), w = std::move(w)]() {
            core_of(impl).flush(w, [impl, h](std::optional<std::string> first_error) {
              if (first_error) {
                answer(impl, h, make_error_code(drivers::errc::task_failed), std::move(*first_error));
              } else {
                answer(impl, h, std::error_code{}, std::string());
              }
            });
          });
        },
        token, std::move(which));
  }

  // Cancels the selected tasks: void(error_code, std::size_t how_many_newly_cancelled).
  template <class Token>
  auto async_abort(AbortSelector which, Token&& token) {
    return net::async_initiate<Token, void(std::error_code, std::size_t)>(
        [impl = impl_](auto handler, AbortSelector w) {
          run_on_strand(impl, [impl, h = share(std::move(handler)), w = std::move(w)]() {
            const std::size_t n = core_of(impl).abort(w);
            complete(impl, h, std::error_code{}, n);
          });
        },
        token, std::move(which));
  }

  // Pauses the selected queued work (Kernel::pause): void(error_code, std::size_t how_many_newly_paused).
  // errc::not_persisted: the rule holds but could not be made durable (see RuntimeCore::pause).
  template <class Token>
  auto async_pause(PauseSelector which, Token&& token) {
    return net::async_initiate<Token, void(std::error_code, std::size_t)>(
        [impl = impl_](auto handler, PauseSelector w) {
          run_on_strand(impl, [impl, h = share(std::move(handler)), w = std::move(w)]() {
            const drivers::PauseAnswer a = core_of(impl).pause(w);
            complete(impl, h, a.error, a.tasks);
          });
        },
        token, std::move(which));
  }

  // Lifts a pause rule (Kernel::resume): void(error_code, std::size_t how_many_resumed).
  template <class Token>
  auto async_resume(PauseSelector which, Token&& token) {
    return net::async_initiate<Token, void(std::error_code, std::size_t)>(
        [impl = impl_](auto handler, PauseSelector w) {
          run_on_strand(impl, [impl, h = share(std::move(handler)), w = std::move(w)]() {
            const drivers::PauseAnswer a = core_of(impl).resume(w);
            complete(impl, h, a.error, a.tasks);
          });
        },
        token, std::move(which));
  }

  // Sends a message to a sub-agent's inbox: void(error_code).
  template <class Token>
  auto async_send(TaskId to, std::string from, Json message, Token&& token) {
    return net::async_initiate<Token, void(std::error_code)>(
        [impl = impl_](auto handler, TaskId t, std::string f, Json m) {
          run_on_strand(impl, [impl, h = share(std::move(handler)), t, f = std::move(f), m = std::move(m)]() mutable {
            auto r = core_of(impl).send(t, std::move(f), std::move(m));
            complete(impl, h, r ? std::error_code{} : drivers::make_error_code(r.error().code));
          });
        },
        token, to, std::move(from), std::move(message));
  }

  // Stops starting work, drains (or cancels) what runs, persists what is pending: void(error_code).
  template <class Token>
  auto async_shutdown(ShutdownMode mode, Token&& token) {
    return net::async_initiate<Token, void(std::error_code)>(
        [impl = impl_](auto handler, ShutdownMode m) {
          run_on_strand(impl, [impl, h = share(std::move(handler)), m]() {
            core_of(impl).shutdown(m, [impl, h]() { answer(impl, h, std::error_code{}); });
          });
        },
        token, mode);
  }

  // Fire-and-forget forms of the calls above, and reads; safe from any thread.
  void cancel(TaskId id);
  void poke(std::optional<std::string> session, std::string reason);
  void complete_session(std::string session, std::string reason);

  // Counters, gauges and the start-lag histogram (see drivers/metrics.hpp); safe from any thread,
  // also after the runtime stopped.
  drivers::MetricsSnapshot metrics() const;

  // Task events of one owner (or all). The listener runs on the strand. Returns a subscription id.
  std::uint64_t subscribe(std::optional<std::string> owner, std::function<void(const drivers::TaskEvent&)> listener);
  void unsubscribe(std::uint64_t subscription);

  // Runs `f(kernel)` on the strand, for reads: void(R) via the token.
  template <class F, class Token>
  auto async_read(F f, Token&& token) {
    using R = decltype(f(std::declval<const Kernel&>()));
    return net::async_initiate<Token, void(R)>(
        [impl = impl_](auto handler, F fn) {
          run_on_strand(impl, [impl, h = share(std::move(handler)), fn = std::move(fn)]() {
            complete(impl, h, fn(core_of(impl).kernel()));
          });
        },
        token, std::move(f));
  }

  struct impl;

 private:
  template <class Handler>
  static std::shared_ptr<Handler> share(Handler&& h) {
    return std::make_shared<Handler>(std::forward<Handler>(h));
  }
  static void run_on_strand(const std::shared_ptr<impl>& i, drivers::UniqueFunction<void()> f);
  static void spawn_detached(const std::shared_ptr<impl>& i, TaskSpec&& spec);  // admitted with no answer

  // async_spawn and async_admit: the admission answered as `Answer` (its TaskId, or all of it).
  template <class Answer, class Token>
  auto initiate_admit(TaskSpec&& spec, Token&& token) {  // by reference: a spec moves once on its way in
    if constexpr (std::is_same_v<std::decay_t<Token>, net::detached_t>) {
      return spawn_detached(impl_, std::move(spec));
    } else {
      return net::async_initiate<Token, void(std::error_code, Answer)>(
          [impl = impl_](auto handler, TaskSpec s) {
            // The handler moves along (the calls are move-only): no shared copy, and the answer's
            // closure fits in place (drivers::UniqueFunction), so a spawn allocates for its call only.
            run_on_strand(impl, [impl, h = std::move(handler), s = std::move(s)]() mutable {
              core_of(impl).admit(std::move(s), [impl, h = std::move(h)](Result<Admission, SpawnError> r) mutable {
                if (!r) return hand_over(impl, h, drivers::make_error_code(r.error().code), Answer{});
                if constexpr (std::is_same_v<Answer, TaskId>) {
                  hand_over(impl, h, std::error_code{}, r.value().id);
                } else {
                  hand_over(impl, h, std::error_code{}, r.value());
                }
              });
            });
          },
          token, std::move(spec));
    }
  }
  static const net::strand<net::any_io_executor>& strand_of(const std::shared_ptr<impl>& i);
  static drivers::RuntimeCore& core_of(const std::shared_ptr<impl>& i);
  static void publish_metrics_of(const std::shared_ptr<impl>& i);  // unless the runtime is gone

  // Completes `handler` on its associated executor (the strand by default), never inline. Called on
  // the strand: metrics are published first, for a handler bound to an executor that may run it
  // before the strand's turn ends (unless what answers, a read, destroyed the runtime).
  template <class Handler, class... Args>
  static void complete(const std::shared_ptr<impl>& i, const std::shared_ptr<Handler>& handler, Args... args) {
    publish_metrics_of(i);
    auto ex = net::get_associated_executor(*handler, strand_of(i));
    net::post(ex, [handler, args...]() mutable { std::move (*handler)(std::move(args)...); });
  }

  // Completes `handler` (moved from) from one of the core's callbacks. Those run in a batch that is
  // a strand handler of its own, never inside the initiating function, so dispatch is allowed: the
  // handler runs at once when its executor is the strand (or runs on this thread), which saves a
  // post per answer; a handler bound to another executor is posted there. A handler on the strand
  // itself, while on it, is called directly: what dispatch would do, without Boost 1.74's
  // allocating property query (any_io_executor's blocking) on every answer.
  template <class Handler, class... Args>
  static void hand_over(const std::shared_ptr<impl>& i, Handler& handler, Args... args) {
    const auto& strand = strand_of(i);
    auto ex = net::get_associated_executor(handler, strand);
    if constexpr (std::is_same_v<decltype(ex), std::decay_t<decltype(strand)>>) {
      if (ex == strand && strand.running_in_this_thread()) {
        std::move(handler)(std::move(args)...);
        return;
      }
    }
    net::dispatch(ex, [handler = std::move(handler), args...]() mutable { std::move(handler)(std::move(args)...); });
  }
  // The same for a handler shared to fit in a std::function (the core's other callbacks); each is
  // answered once, so it is moved out of the shared box.
  template <class Handler, class... Args>
  static void answer(const std::shared_ptr<impl>& i, const std::shared_ptr<Handler>& handler, Args... args) {
    hand_over(i, *handler, std::move(args)...);
  }

  std::shared_ptr<impl> impl_;
};

#if defined(BOOST_ASIO_HAS_CO_AWAIT)
// Registers a C++20 coroutine as the handler of `kind`; it runs on `executor`.
template <class Executor, class Coroutine>
void add_coroutine_handler(drivers::HandlerRegistry& registry, std::string kind, Executor executor, Coroutine coroutine) {
  registry.add_async(std::move(kind), [executor, coroutine](drivers::WorkContext context, std::function<void(Outcome)> done) {
    auto shared_context = std::make_shared<drivers::WorkContext>(std::move(context));
    net::co_spawn(
        executor,
        [coroutine, shared_context]() -> net::awaitable<Outcome> { co_return co_await coroutine(*shared_context); },
        [done](std::exception_ptr error, Outcome outcome) {
          if (!error) {
            done(std::move(outcome));
            return;
          }
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            done(Outcome::failure(std::string("handler threw: ") + e.what()));
          } catch (...) {
            done(Outcome::failure("handler threw an exception that is not a std::exception"));
          }
        });
  });
}
#endif

}  // namespace tasklane::asio
