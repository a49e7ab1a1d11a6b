// apply(): one event into the kernel, exactly as the matching method. A trace replays as a loop.
#include <type_traits>

#include "tasklane/kernel.hpp"

namespace tasklane {

void apply(Kernel& kernel, const TimedEvent& e) {
  const Time now = e.at;
  std::visit(
      [&](const auto& ev) {
        using E = std::decay_t<decltype(ev)>;
        if constexpr (std::is_same_v<E, event::Spawn>) {
          (void)kernel.spawn(ev.spec, now);
        } else if constexpr (std::is_same_v<E, event::Complete>) {
          kernel.complete(ev.id, ev.attempt, ev.outcome, now);
        } else if constexpr (std::is_same_v<E, event::Tick>) {
          kernel.tick(now);
        } else if constexpr (std::is_same_v<E, event::Poke>) {
          kernel.poke(ev.session, ev.reason, now);
        } else if constexpr (std::is_same_v<E, event::QueuedWorkAnswer>) {
          kernel.answer_queued_work(ev.request, ev.submitted, now);
        } else if constexpr (std::is_same_v<E, event::SessionComplete>) {
          kernel.complete_session(ev.session, ev.reason, now);
        } else if constexpr (std::is_same_v<E, event::Abort>) {
          (void)kernel.abort(ev.which, now);
        } else if constexpr (std::is_same_v<E, event::Flush>) {
          (void)kernel.flush(ev.which, now);
        } else if constexpr (std::is_same_v<E, event::Send>) {
          (void)kernel.send(ev.to, ev.from, ev.message, now);
        } else if constexpr (std::is_same_v<E, event::Shutdown>) {
          kernel.shutdown(ev.mode, now);
        } else if constexpr (std::is_same_v<E, event::Restore>) {
          kernel.restore(ev.snapshot, now);
        } else {
          static_assert(std::is_same_v<E, event::Heartbeat>, "every event has its kernel input");
          kernel.heartbeat(ev.id, ev.attempt, now);
        }
      },
      e.event);
}

}  // namespace tasklane
