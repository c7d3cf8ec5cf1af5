#pragma once

// FakeBackend: an in-memory SchedulerBackend for tests, with SlurmBackend's semantics and
// knobs to play Slurm's part. Submit assigns increasing Slurm ids and records the job as
// waiting (ADMITTED); the test then moves it with Start / Finish / Requeue, or makes the
// "controller" fail. Unlike SlurmBackend it does not validate the job spec (script, work
// dir, uid): tests of other components may submit bare queue::Job values.
//
// Thread-safe: every method may be called from any thread (a test thread poking it while
// the job manager's worker calls the SchedulerBackend methods).

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "daemon/queue/job.h"
#include "daemon/slurm/scheduler_backend.h"

namespace drocc::slurm {

class FakeBackend final : public SchedulerBackend {
 public:
  // `clock` (not owned, must outlive this) stamps start and end times.
  explicit FakeBackend(const Clock* clock = SystemClock::Get(), uint64_t first_slurm_id = 1);

  // SchedulerBackend. Each returns UNAVAILABLE while SetUnavailable(true) (Requeue too).
  absl::StatusOr<uint64_t> Submit(const queue::Job& job) override;
  absl::StatusOr<std::vector<BackendJob>> ListJobs() override;  // ordered by Slurm id
  // A waiting or running job becomes CANCELLED with exit code 0 (what Slurm 22.05 reports,
  // "0:0", for a batch job it killed); an ended, forgotten or unknown id is OK, as with
  // Slurm ("already completed", "invalid job id").
  absl::Status Cancel(uint64_t slurm_job_id) override;

  // --- Playing Slurm. Each returns NOT_FOUND for an unknown (or forgotten) id and
  // FAILED_PRECONDITION when the job is not in a state the move can start from.
  // A waiting (ADMITTED or REQUEUED) job starts running on `nodes` (e.g. "n[1-2]") with that
  // allocation (0s: not reported, as for a record without TRES).
  absl::Status Start(uint64_t slurm_id, std::string nodes, uint32_t alloc_nodes = 0,
                     uint32_t alloc_cpus = 0, uint32_t alloc_gpus = 0);
  // A waiting or running job ends in `end` (COMPLETED, FAILED, CANCELLED or TIMEOUT;
  // anything else is INVALID_ARGUMENT) with `exit_code`; `reason` as Slurm would give it.
  absl::Status Finish(uint64_t slurm_id, queue::JobState end, int exit_code,
                      std::string reason = "");
  // A running job is requeued by Slurm (preemption, `scontrol requeue`): it waits again,
  // reported as REQUEUED until it starts.
  absl::Status Requeue(uint64_t slurm_id) override;
  // The next Submit fails with `status` (once) and records nothing.
  void FailNextSubmit(absl::Status status);
  // The instance Submit writes into each job's tag (SlurmBackendOptions::instance); ListJobs
  // leaves out jobs tagged with another instance, as SlurmBackend does. Default: none.
  void SetInstance(std::string instance);
  // A job someone else put in Slurm (another droccd, or this one before a crash): recorded as
  // given, with the next Slurm id, which is returned. Not in submitted().
  uint64_t Inject(BackendJob job);
  // While true every SchedulerBackend call fails with UNAVAILABLE, as if slurmctld were
  // down; nothing changes.
  void SetUnavailable(bool unavailable);
  // Slurm no longer reports the job (purged after MinJobAge). False if it was unknown.
  bool Forget(uint64_t slurm_id);

  // --- Inspecting.
  // Every job accepted by Submit, in order, as it was handed over.
  std::vector<queue::Job> submitted() const;
  // What ListJobs would report for this id (also while unavailable), or nullopt.
  std::optional<BackendJob> Get(uint64_t slurm_id) const;
  // The Slurm id given to the drocc job, if it was submitted and not forgotten.
  std::optional<uint64_t> SlurmIdOf(queue::JobId drocc_id) const;
  // Ids passed to Cancel while available, in order (unknown ids included).
  std::vector<uint64_t> cancel_requests() const;
  size_t submit_calls() const;  // every call, failed ones included
  size_t list_calls() const;
  size_t cancel_calls() const;
  size_t live_jobs() const;  // waiting or running

 private:
  BackendJob* FindLocked(uint64_t slurm_id);  // nullptr if unknown; requires mu_

  const Clock* const clock_;
  mutable std::mutex mu_;
  uint64_t next_id_;                              // GUARDED_BY(mu_)
  std::map<uint64_t, BackendJob> jobs_;           // GUARDED_BY(mu_)
  std::vector<queue::Job> submitted_;             // GUARDED_BY(mu_)
  std::vector<uint64_t> cancel_requests_;         // GUARDED_BY(mu_)
  std::optional<absl::Status> fail_next_submit_;  // GUARDED_BY(mu_)
  bool unavailable_ = false;                      // GUARDED_BY(mu_)
  std::string instance_;                          // GUARDED_BY(mu_)
  size_t submit_calls_ = 0;                       // GUARDED_BY(mu_)
  size_t list_calls_ = 0;                         // GUARDED_BY(mu_)
  size_t cancel_calls_ = 0;                       // GUARDED_BY(mu_)
};

}  // namespace drocc::slurm
