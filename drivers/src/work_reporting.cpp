#include "tasklane/drivers/work_reporting.hpp"

#include "work_reports.hpp"

namespace tasklane::drivers {

void WorkProgress::operator()(double fraction, std::string message) const {
  if (reports_) reports_->add(WorkReport{id_, attempt_, std::nullopt, fraction, std::move(message), nullptr, std::nullopt});
}

void WorkHeartbeat::operator()() const {
  if (!reports_ || in_flight_->exchange(true, std::memory_order_acq_rel)) return;
  reports_->add(WorkReport{id_, attempt_, std::nullopt, 0, {}, in_flight_, std::nullopt});
}

}  // namespace tasklane::drivers
