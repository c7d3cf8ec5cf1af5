// SlurmBackend without a cluster: configuration errors, and an unreachable controller.
// libslurm keeps its configuration per process, so the unreachable-controller case runs in
// a child process (a gtest death test) with a slurm.conf whose slurmctld port is closed.

#include "daemon/slurm/slurm_backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace drocc::slurm {
namespace {

using ::testing::HasSubstr;

TEST(SlurmBackendTest, MissingConfigurationIsAnErrorNotAnExit) {
  absl::StatusOr<std::unique_ptr<SlurmBackend>> b =
      SlurmBackend::Create({.slurm_conf = "/nonexistent/slurm.conf"});
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(b.status().message()), HasSubstr("/nonexistent/slurm.conf"));
}

// Every call must come back UNAVAILABLE (retry later): the first once libslurm gave up (in
// about MessageTimeout), the next ones at once, since nothing accepts connections there.
int ProbeUnreachableController(const std::string& conf) {
  absl::StatusOr<std::unique_ptr<SlurmBackend>> b =
      SlurmBackend::Create({.slurm_conf = conf, .submit_host = "login1"});
  if (!b.ok()) {
    std::cerr << b.status() << "\n";
    return 10;
  }
  queue::Job job;
  job.id = 5;
  job.uid = 1001;
  job.gid = 1001;
  job.spec.script = "#!/bin/sh\ntrue\n";
  job.spec.workdir = "/tmp";
  absl::Status submit = (*b)->Submit(job).status();
  absl::Status list = (*b)->ListJobs().status();
  absl::Status cancel = (*b)->Cancel(12);
  auto unavailable = [](const absl::Status& s, const std::string& says) {
    if (s.code() == absl::StatusCode::kUnavailable &&
        std::string(s.message()).find(says) != std::string::npos) {
      return true;
    }
    std::cerr << "not UNAVAILABLE with \"" << says << "\": " << s << "\n";
    return false;
  };
  if (!unavailable(submit, "Unable to contact slurm controller")) return 11;
  for (const absl::Status& s : {list, cancel}) {
    if (!unavailable(s, "slurmctld (localhost:9) does not accept connections")) return 11;
  }
  // Refused before any RPC: never as root.
  job.uid = 0;
  if ((*b)->Submit(job).status().code() != absl::StatusCode::kFailedPrecondition) return 12;
  std::cerr << "all unavailable\n";
  return 0;
}

TEST(SlurmBackendDeathTest, UnreachableControllerIsUnavailable) {
  const std::string dir = testing::TempDir() + "/slurm_backend_test_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const std::string conf = dir + "/slurm.conf";
  std::ofstream(conf) << "ClusterName=nowhere\n"
                         "SlurmctldHost=localhost\n"
                         "SlurmctldPort=9\n"  // discard: nothing listens there
                         "MessageTimeout=2\n"
                         "AuthType=auth/munge\n"
                         "NodeName=n1 CPUs=1 State=UNKNOWN\n"
                         "PartitionName=p Nodes=n1 Default=YES\n";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(std::exit(ProbeUnreachableController(conf)), testing::ExitedWithCode(0),
              "all unavailable");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace drocc::slurm
