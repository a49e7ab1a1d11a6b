// Config: the kernel's limits and defaults.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tasklane/time.hpp"

namespace tasklane {

struct Config {
  std::size_t capacity = 1024;         // unfinished tasks at most; spawn answers QueueFull beyond
  std::size_t max_running = 4;         // attempts running at once
  std::size_t max_payload_bytes = 1 << 20;  // serialized payload size at most
  std::uint64_t seed = 0x7a5c1a9e;     // the retry-jitter generator's seed
  std::size_t retained_terminal = 4096;  // finished tasks kept for get/list; older ones are forgotten
  std::size_t max_dependencies = 64;   // distinct ids in TaskSpec::after at most; spawn answers TooManyDependencies beyond

  // The queued-work runner (seed 001). Off unless the host drives queued turns through it; while
  // off, poke, complete_session and answer_queued_work change nothing.
  bool queued_work_runner = false;
  Duration queued_work_poll = milliseconds(400);
};

}  // namespace tasklane
