// CancellationPool: the owner's spare cancellation states, so that an attempt's token costs no
// allocation. Each attempt needs a state of its own (the owner cancels it, the work reads it), and
// making one (a shared_ptr's block with a mutex and a vector) and freeing it cost ~230
// instructions of the Asio strand's ~4450 a no-op task (callgrind, asio_noop, 2026-11-29). The
// token comes back to the owner with the attempt's outcome (WorkReport::context); when nobody
// else holds its state (no copy kept by the work), the state is reset and serves a later attempt.
// Owner thread only.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "tasklane/drivers/cancellation.hpp"

namespace tasklane::drivers {

class CancellationPool {
 public:
  static constexpr std::size_t max_spare = 256;  // more than the attempts a runtime runs at once

  CancellationPool() { spare_.reserve(max_spare); }  // give_back() then never allocates

  // A token for a new attempt: not cancelled, no callbacks.
  CancellationToken take() {
    if (spare_.empty()) return CancellationToken();
    CancellationToken token(std::move(spare_.back()));
    spare_.pop_back();
    return token;
  }

  // The token of an attempt that is over (`token` is left empty). Kept when this is its state's
  // last holder: a holder elsewhere (work that copied the token) could still cancel or read it.
  void give_back(CancellationToken&& token) {
    std::shared_ptr<CancellationState> state = std::move(token.state_);
    if (!state || state.use_count() != 1 || spare_.size() >= max_spare) return;  // freed here, or by the last holder
    state->reset();
    spare_.push_back(std::move(state));  // within the room reserved: no allocation, no throw
  }

  std::size_t spare() const { return spare_.size(); }

 private:
  std::vector<std::shared_ptr<CancellationState>> spare_;
};

}  // namespace tasklane::drivers
