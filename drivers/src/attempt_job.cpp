#include "attempt_job.hpp"

#include <exception>
#include <string>
#include <utility>

namespace tasklane::drivers {

void AttemptJob::operator()() {
  auto report = [reports = reports, id = context.id, attempt = context.attempt](Outcome outcome) {
    reports->add(WorkReport{id, attempt, std::move(outcome), 0, {}, nullptr});
  };
  if (work) {
    report(run_work(*work, context));
    return;
  }
  try {
    (*async_work)(std::move(context), report);
  } catch (const std::exception& e) {
    report(Outcome::failure(std::string("handler threw: ") + e.what()));
  } catch (...) {
    report(Outcome::failure("handler threw an exception that is not a std::exception"));
  }
}

}  // namespace tasklane::drivers
