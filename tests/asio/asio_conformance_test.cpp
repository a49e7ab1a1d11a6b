// The driver conformance suite (tests/conformance/conformance_suite.hpp), the features suite
// (conformance_features.hpp) and record/replay (conformance_trace.hpp) run against the Asio driver.
#include "asio/asio_harness.hpp"
#include "conformance/conformance_features.hpp"
#include "conformance/conformance_suite.hpp"
#include "conformance/conformance_trace.hpp"

namespace tasklane::conformance {

INSTANTIATE_TYPED_TEST_SUITE_P(asio, DriverConformance, ::testing::Types<AsioHarness>, HarnessName);
INSTANTIATE_TYPED_TEST_SUITE_P(asio, DriverFeatures, ::testing::Types<AsioHarness>, HarnessName);
INSTANTIATE_TYPED_TEST_SUITE_P(asio, DriverTrace, ::testing::Types<AsioHarness>, HarnessName);

}  // namespace tasklane::conformance
