#include "attempt_job.hpp"

#include <exception>
#include <string>
#include <utility>

namespace tasklane::drivers {

void AttemptJob::operator()(const std::shared_ptr<WorkReports>& reports) {
  const TaskId id = context.id;
  const std::uint32_t attempt = context.attempt;
  if (work) {
    Outcome outcome = run_work(*work, context);
    reports->add(WorkReport{id, attempt, std::move(outcome), 0, {}, nullptr});
    return;
  }
  // Work that finishes later may call `done` after this returns: it holds a share of the reports.
  auto report = [reports, id, attempt](Outcome outcome) {
    reports->add(WorkReport{id, attempt, std::move(outcome), 0, {}, nullptr});
  };
  try {
    (*async_work)(std::move(context), report);
  } catch (const std::exception& e) {
    report(Outcome::failure(std::string("handler threw: ") + e.what()));
  } catch (...) {
    report(Outcome::failure("handler threw an exception that is not a std::exception"));
  }
}

}  // namespace tasklane::drivers
