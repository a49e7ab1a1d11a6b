#include "attempt_job.hpp"

#include <exception>
#include <optional>
#include <string>
#include <utility>

namespace tasklane::drivers {
namespace {

void report_outcome(WorkReports& reports, TaskId id, std::uint32_t attempt, Outcome outcome,
                    std::optional<WorkContext> context = std::nullopt) {
  reports.add(WorkReport{id, attempt, std::move(outcome), 0, {}, nullptr, std::move(context)});
}

}  // namespace

void AttemptJob::operator()(const std::shared_ptr<WorkReports>& reports) {
  const TaskId id = context.id;
  const std::uint32_t attempt = context.attempt;
  if (work) {
    Outcome outcome = run_work(*work, context);
    if (!context.payload.is_null()) context.payload = nullptr;  // freed here, off the owner's thread
    report_outcome(*reports, id, attempt, std::move(outcome), std::move(context));
    return;
  }
  // Work that finishes later may call `done` after this returns: it holds a share of the reports.
  auto report = [reports, id, attempt](Outcome outcome) { report_outcome(*reports, id, attempt, std::move(outcome)); };
  try {
    (*async_work)(std::move(context), report);
  } catch (const std::exception& e) {
    report(Outcome::failure(std::string("handler threw: ") + e.what()));
  } catch (...) {
    report(Outcome::failure("handler threw an exception that is not a std::exception"));
  }
}

}  // namespace tasklane::drivers
