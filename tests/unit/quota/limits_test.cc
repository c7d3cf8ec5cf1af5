#include "daemon/quota/limits.h"

#include <gtest/gtest.h>

namespace drocc::quota {
namespace {

TEST(RunLimitTest, EveryKindWithItsNumbers) {
  struct Case {
    const char* what;
    Limit limit;
    LimitScope scope;
    InUse in_use;
    JobResources job;
    const char* reason;  // nullptr: fits
  };
  const Case cases[] = {
      {"GPUs full",
       {.max_gpus = 16},
       LimitScope::kProject,
       {.gpus = 16},
       {1, 1, 4},
       "project limit: 16 of 16 GPUs in use"},
      {"GPUs not full but too few left",
       {.max_gpus = 16},
       LimitScope::kUser,
       {.gpus = 12},
       {1, 1, 8},
       "user limit: 12 of 16 GPUs in use, the job needs 8"},
      {"GPUs exactly fill the limit",
       {.max_gpus = 16},
       LimitScope::kProject,
       {.gpus = 12},
       {1, 1, 4},
       nullptr},
      {"a CPU job passes a full GPU limit",
       {.max_gpus = 16},
       LimitScope::kProject,
       {.gpus = 16},
       {1, 4, 0},
       nullptr},
      {"CPUs",
       {.max_cpus = 128},
       LimitScope::kProject,
       {.cpus = 120},
       {1, 16, 0},
       "project limit: 120 of 128 CPUs in use, the job needs 16"},
      {"nodes",
       {.max_nodes = 4},
       LimitScope::kUser,
       {.nodes = 4},
       {1, 1, 0},
       "user limit: 4 of 4 nodes in use"},
      {"GPUs are checked first",
       {.max_gpus = 1, .max_cpus = 1},
       LimitScope::kProject,
       {.gpus = 1, .cpus = 1},
       {1, 1, 1},
       "project limit: 1 of 1 GPUs in use"},
      {"0 means unlimited",
       {},
       LimitScope::kProject,
       {.gpus = 4000, .cpus = 9000, .nodes = 99},
       {64, 4096, 512},
       nullptr},
      {"no overflow near uint32 max",
       {.max_cpus = UINT32_MAX},
       LimitScope::kProject,
       {.cpus = UINT32_MAX - 1},
       {1, 2, 0},
       "project limit: 4294967294 of 4294967295 CPUs in use, the job needs 2"},
  };
  for (const Case& c : cases) {
    std::optional<std::string> reason = RunLimitReason(c.limit, c.scope, c.in_use, c.job);
    if (c.reason == nullptr) {
      EXPECT_EQ(reason, std::nullopt) << c.what;
    } else {
      EXPECT_EQ(reason, c.reason) << c.what;
    }
  }
}

TEST(SubmitLimitTest, EveryKindWithItsNumbers) {
  struct Case {
    const char* what;
    Limit limit;
    LimitScope scope;
    InUse in_use;
    JobResources job;
    absl::Duration walltime;
    absl::StatusCode code;
    const char* message;
  };
  const Case cases[] = {
      {"walltime",
       {.max_walltime = absl::Hours(48)},
       LimitScope::kProject,
       {},
       {1, 1, 0},
       absl::Hours(72),
       absl::StatusCode::kInvalidArgument,
       "walltime 3d exceeds the project's maximum of 2d; ask for a shorter time limit"},
      {"walltime at the maximum",
       {.max_walltime = absl::Hours(48)},
       LimitScope::kProject,
       {},
       {1, 1, 0},
       absl::Hours(48),
       absl::StatusCode::kOk,
       ""},
      {"user walltime",
       {.max_walltime = absl::Hours(2)},
       LimitScope::kUser,
       {},
       {1, 1, 0},
       absl::Minutes(150),
       absl::StatusCode::kInvalidArgument,
       "walltime 2h 30m exceeds your maximum of 2h; ask for a shorter time limit"},
      {"bigger than the GPU limit",
       {.max_gpus = 16},
       LimitScope::kProject,
       {},
       {4, 4, 32},
       absl::Hours(1),
       absl::StatusCode::kInvalidArgument,
       "the job requests 32 GPUs, more than the project's limit of 16; ask for at most 16"},
      {"bigger than the CPU limit",
       {.max_cpus = 8},
       LimitScope::kUser,
       {},
       {1, 9, 0},
       absl::Hours(1),
       absl::StatusCode::kInvalidArgument,
       "the job requests 9 CPUs, more than your limit of 8; ask for at most 8"},
      {"bigger than the node limit",
       {.max_nodes = 2},
       LimitScope::kProject,
       {},
       {3, 3, 0},
       absl::Hours(1),
       absl::StatusCode::kInvalidArgument,
       "the job requests 3 nodes, more than the project's limit of 2; ask for at most 2"},
      {"pending jobs",
       {.max_pending_jobs = 2},
       LimitScope::kUser,
       {.pending_jobs = 2},
       {1, 1, 0},
       absl::Hours(1),
       absl::StatusCode::kResourceExhausted,
       "user limit: 2 of 2 pending jobs; wait until one is admitted or cancel one"},
      {"one pending slot left",
       {.max_pending_jobs = 2},
       LimitScope::kUser,
       {.pending_jobs = 1},
       {1, 1, 0},
       absl::Hours(1),
       absl::StatusCode::kOk,
       ""},
      {"in-use GPUs do not reject a submit",
       {.max_gpus = 16},
       LimitScope::kProject,
       {.gpus = 16},
       {1, 1, 16},
       absl::Hours(1),
       absl::StatusCode::kOk,
       ""},
      {"unlimited",
       {},
       LimitScope::kProject,
       {.pending_jobs = 100'000},
       {512, 65536, 4096},
       absl::Hours(24 * 365),
       absl::StatusCode::kOk,
       ""},
  };
  for (const Case& c : cases) {
    absl::Status s = CheckSubmitLimits(c.limit, c.scope, c.in_use, c.job, c.walltime);
    EXPECT_EQ(s.code(), c.code) << c.what;
    EXPECT_EQ(s.message(), c.message) << c.what;
  }
}

TEST(InUseTest, AddSaturates) {
  InUse u{.gpus = UINT32_MAX - 1, .cpus = 3, .nodes = 1};
  u.Add({2, 5, 4});
  EXPECT_EQ(u, (InUse{.gpus = UINT32_MAX, .cpus = 8, .nodes = 3}));
}

}  // namespace
}  // namespace drocc::quota
