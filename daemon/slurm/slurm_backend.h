#pragma once

// SlurmBackend: the SchedulerBackend that talks to slurmctld through libslurm (never by
// running sbatch/squeue/scancel). droccd runs it as root, so Submit hands each job over
// as its owner (job.uid/job.gid) and Slurm runs it as that user.
//
// Thread-safe: libslurm calls are serialized by an internal mutex (they come from the job
// manager's worker in practice). libslurm is initialised once per process, by Create.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/slurm/scheduler_backend.h"

namespace drocc::slurm {

struct SlurmBackendOptions {
  // slurm.conf to read; empty: libslurm's default ($SLURM_CONF, else /etc/slurm/slurm.conf).
  std::string slurm_conf;
  // The host jobs are submitted from (Slurm's alloc_node, SLURM_SUBMIT_HOST); empty: this
  // machine's short host name.
  std::string submit_host;
  // The job database's instance id (scheduler_backend.h, DroccTag): written into each job's
  // comment; jobs of other instances are not listed. Empty: untagged comments.
  std::string instance;
};

class SlurmBackend final : public SchedulerBackend {
 public:
  // Initialises libslurm with options.slurm_conf. FAILED_PRECONDITION when that file
  // cannot be read (libslurm would otherwise end the process), or when libslurm was
  // already initialised in this process with another file.
  static absl::StatusOr<std::unique_ptr<SlurmBackend>> Create(const SlurmBackendOptions& options);

  // One slurm_submit_batch_job() with the fields sbatch would set (see submit_request.h).
  absl::StatusOr<uint64_t> Submit(const queue::Job& job) override;
  // One slurm_load_jobs(SHOW_ALL); jobs without a drocc comment, or with another instance's,
  // are skipped.
  absl::StatusOr<std::vector<BackendJob>> ListJobs() override;
  // slurm_kill_job(SIGKILL): the job ends CANCELLED. OK when Slurm says the job already
  // completed or does not exist (purged).
  absl::Status Cancel(uint64_t slurm_job_id) override;
  absl::Status Requeue(uint64_t slurm_job_id) override;

  const std::string& submit_host() const { return submit_host_; }

 private:
  SlurmBackend(std::string submit_host, std::string instance);
  absl::StatusOr<uint64_t> SubmitLocked(const queue::Job& job);
  absl::StatusOr<std::vector<BackendJob>> ListJobsLocked();
  absl::Status CancelLocked(uint32_t slurm_job_id);
  absl::Status RequeueLocked(uint32_t slurm_job_id);
  // libslurm retries a refused connection to slurmctld for MessageTimeout (10 s by default)
  // before it gives up, and droccd's worker would wait that long for each call. So while the
  // last call found slurmctld unreachable, a quick connect() to it (250 ms at most) comes
  // first, and UNAVAILABLE at once when nothing accepts. Requires mu_.
  absl::Status FailFastWhileDown();
  // Records whether `result` says slurmctld is unreachable; returns it. Requires mu_.
  template <typename T>
  T Noting(T result);

  const std::string submit_host_;
  const std::string instance_;
  std::mutex mu_;                 // serializes libslurm calls (its errno is read right after each)
  bool controller_down_ = false;  // GUARDED_BY(mu_)
};

}  // namespace drocc::slurm
