// run_call_batch: runs a batch of calls taken from a HandoffBatch (or any queue) in order, on the
// consumer's thread. A call that throws propagates to the caller's loop (Asio's rule for handlers),
// and the calls behind it are handed to `keep_rest(first, last)` (move iterators) so that they run
// first on the next turn instead of being lost. `alive()` is asked before each call: a call may
// destroy the consumer, and then nothing after it runs and nothing is handed back.
//
// Used by RuntimeCore for user callbacks and by the Asio runtime for calls reaching its strand.
#pragma once

#include <cstddef>
#include <iterator>
#include <vector>

namespace tasklane::drivers {

// `run(call)` runs one call; by default, call().
template <class Call, class Alive, class KeepRest, class Run>
void run_call_batch(std::vector<Call>& batch, Alive&& alive, KeepRest&& keep_rest, Run&& run) {
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!alive()) return;
    try {
      run(batch[i]);
    } catch (...) {
      const auto rest = batch.begin() + static_cast<std::ptrdiff_t>(i) + 1;
      if (rest != batch.end() && alive()) keep_rest(std::make_move_iterator(rest), std::make_move_iterator(batch.end()));
      throw;
    }
  }
}

template <class Call, class Alive, class KeepRest>
void run_call_batch(std::vector<Call>& batch, Alive&& alive, KeepRest&& keep_rest) {
  run_call_batch(batch, alive, keep_rest, [](Call& call) { call(); });
}

}  // namespace tasklane::drivers
