#include "tasklane/drivers/handler_registry.hpp"

#include <exception>

namespace tasklane::drivers {

Outcome run_work(const WorkFunction& work, WorkContext& context) noexcept {
  try {
    return work(context);
  } catch (const std::exception& e) {
    return Outcome::failure(std::string("handler threw: ") + e.what());
  } catch (...) {
    return Outcome::failure("handler threw an exception that is not a std::exception");
  }
}

}  // namespace tasklane::drivers
