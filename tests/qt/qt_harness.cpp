// QtHarness's context object (its header holds a Q_OBJECT class, which AUTOMOC finds through
// this file of the same name).
#include "qt/qt_harness.hpp"

namespace tasklane::conformance {

void HarnessContext::runPosted() {
  const std::shared_ptr<qt::OwnerMailbox> keep = mailbox_;
  keep->run_posted();
}

}  // namespace tasklane::conformance
