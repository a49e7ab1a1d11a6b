// The driver conformance suite (tests/conformance/conformance_suite.hpp), the features suite
// (conformance_features.hpp) and record/replay (conformance_trace.hpp) run against the virtual-time
// driver: the same scenarios as the Asio and Qt drivers, on a simulated clock.
#include "conformance/conformance_features.hpp"
#include "conformance/conformance_suite.hpp"
#include "conformance/conformance_trace.hpp"
#include "virtual_time/virtual_time_harness.hpp"

namespace tasklane::conformance {

INSTANTIATE_TYPED_TEST_SUITE_P(virtual_time, DriverConformance, ::testing::Types<VirtualTimeHarness>, HarnessName);
INSTANTIATE_TYPED_TEST_SUITE_P(virtual_time, DriverFeatures, ::testing::Types<VirtualTimeHarness>, HarnessName);
INSTANTIATE_TYPED_TEST_SUITE_P(virtual_time, DriverTrace, ::testing::Types<VirtualTimeHarness>, HarnessName);

}  // namespace tasklane::conformance
