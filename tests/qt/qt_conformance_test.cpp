// The driver conformance suite (tests/conformance/conformance_suite.hpp), the features suite
// (conformance_features.hpp) and record/replay (conformance_trace.hpp) run against the Qt driver.
#include "conformance/conformance_features.hpp"
#include "conformance/conformance_suite.hpp"
#include "conformance/conformance_trace.hpp"
#include "qt/qt_harness.hpp"

namespace tasklane::conformance {

INSTANTIATE_TYPED_TEST_SUITE_P(qt, DriverConformance, ::testing::Types<QtHarness>, HarnessName);
INSTANTIATE_TYPED_TEST_SUITE_P(qt, DriverFeatures, ::testing::Types<QtHarness>, HarnessName);
INSTANTIATE_TYPED_TEST_SUITE_P(qt, DriverTrace, ::testing::Types<QtHarness>, HarnessName);

}  // namespace tasklane::conformance
