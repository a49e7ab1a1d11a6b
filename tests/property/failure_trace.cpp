// write_failure_trace (see failure_trace.hpp): drivers::write_trace recomputes the commands with a
// fresh kernel rather than copying the harness's, so the file also covers an input that failed
// before it was drained.
#include "failure_trace.hpp"

#include <cstdlib>
#include <string>
#include <system_error>

#include <unistd.h>

#include "tasklane/drivers/trace.hpp"

namespace tasklane::property {

std::filesystem::path failure_trace_path() {
  const char* dir = std::getenv("TASKLANE_FAILURE_TRACE_DIR");
  std::error_code ec;
  const std::filesystem::path base = dir && *dir ? std::filesystem::path(dir) : std::filesystem::temp_directory_path(ec);
  return base / ("tasklane-property-failure-" + std::to_string(getpid()) + ".trace");
}

std::filesystem::path write_failure_trace(const Config& config, const std::vector<TimedEvent>& events) {
  const std::filesystem::path file = failure_trace_path();
  return drivers::write_trace(file, config, events) ? file : std::filesystem::path();
}

}  // namespace tasklane::property
