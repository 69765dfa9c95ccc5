#include "testing/job_state_store_conformance.hpp"

namespace vpcflow {
namespace {

INSTANTIATE_TEST_SUITE_P(Memory, JobStateStoreConformanceTest,
                         ::testing::Values(JobStateStoreFactory([] {
                           return NewMemoryJobStateStore();
                         })));

}  // namespace
}  // namespace vpcflow
