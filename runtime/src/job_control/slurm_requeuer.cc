#include "runtime/src/job_control/slurm_requeuer.h"

#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace drocc::runtime::job_control {
namespace {

// slurm_init() calls fatal() -- exit() -- when it finds no configuration, which would end the
// training program; so look for one first: $SLURM_CONF, the usual path, and the copy slurmd
// keeps in configless mode.
absl::StatusOr<std::string> FindSlurmConf() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("SLURM_CONF"); env != nullptr && env[0] != '\0') {
    candidates.push_back(env);
  }
  candidates.push_back("/etc/slurm/slurm.conf");
  candidates.push_back("/run/slurm/conf/slurm.conf");
  for (const std::string& path : candidates) {
    if (access(path.c_str(), R_OK) == 0) return path;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("cannot read Slurm's configuration (looked at ", absl::StrJoin(candidates, ", "),
                   "), so libslurm cannot reach slurmctld from this node"));
}

absl::Status InitLibSlurm() {
  static std::once_flag once;
  static absl::Status status;  // of the one attempt: libslurm is initialised once per process
  std::call_once(once, [] {
    auto conf = FindSlurmConf();
    if (conf.ok()) slurm_init(conf->c_str());
    status = conf.status();
  });
  return status;
}

class LibSlurmRequeuer final : public SlurmRequeuer {
 public:
  absl::Status Requeue(uint32_t slurm_job_id) override {
    if (absl::Status s = InitLibSlurm(); !s.ok()) return s;
    // Returns SLURM_SUCCESS, slurmctld's error code, or SLURM_ERROR with the code in errno
    // (cannot reach slurmctld).
    const int rc = slurm_requeue(slurm_job_id, 0);
    if (rc == SLURM_SUCCESS) return absl::OkStatus();
    const int err = rc == SLURM_ERROR ? slurm_get_errno() : rc;
    std::string hint;
    if (err == ESLURM_DISABLED) {
      hint = " (this job may not be requeued: submit it with sbatch --requeue)";
    } else if (err == ESLURM_BATCH_ONLY) {
      hint = " (only batch jobs can be requeued: submit it with sbatch)";
    }
    return absl::FailedPreconditionError(
        absl::StrCat("Slurm did not requeue job ", slurm_job_id, ": ", slurm_strerror(err), hint));
  }
};

}  // namespace

std::unique_ptr<SlurmRequeuer> NewLibSlurmRequeuer() {
  return std::make_unique<LibSlurmRequeuer>();
}

absl::StatusOr<std::optional<uint32_t>> SlurmJobIdFromEnv() {
  const char* id = std::getenv("SLURM_JOB_ID");
  if (id == nullptr || id[0] == '\0') return std::nullopt;
  uint32_t job_id = 0;
  if (!absl::SimpleAtoi(id, &job_id) || job_id == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("SLURM_JOB_ID=\"", id, "\" is not a Slurm job id (a positive number)"));
  }
  return job_id;
}

}  // namespace drocc::runtime::job_control
