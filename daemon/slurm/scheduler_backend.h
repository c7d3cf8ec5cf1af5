#pragma once

// The seam between droccd and the resource manager. droccd decides whether and when a job
// goes to Slurm; the backend hands it over and reports what became of it.
// Implementations: SlurmBackend (libslurm), FakeBackend (tests). Called from one thread at a
// time (the job manager's worker); implementations need not be thread-safe unless stated.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/queue/job.h"

namespace drocc::slurm {

// What the resource manager knows of one job droccd gave it.
struct BackendJob {
  uint64_t slurm_job_id = 0;
  queue::JobId drocc_id = 0;  // from the job's comment
  // The droccd instance (job database) that submitted it, from the comment; empty for a
  // job submitted before comments carried one.
  std::string instance;
  uint32_t uid = 0;
  // ADMITTED while it waits in Slurm, RUNNING, or an end state (COMPLETED, FAILED,
  // CANCELLED, TIMEOUT); REQUEUED when Slurm requeued it (it waits to run again; never
  // ADMITTED again) or preempted it.
  queue::JobState state = queue::JobState::kAdmitted;
  // Once ended: the exit status, or 128+signal. None for a job whose script could not be
  // started (the reason says why).
  std::optional<int> exit_code;
  std::string nodes;  // Slurm's node list ("n[1-2]"); FirstNodeName() is the batch host
  absl::Time start_time = absl::InfinitePast();
  absl::Time end_time = absl::InfinitePast();
  std::string reason;  // Slurm's state reason, human-readable, may be empty
  // What Slurm allocated, once the job started (all 0 before, or when not reported): whole
  // nodes, CPUs and GPUs in total over all nodes. What droccd charges.
  uint32_t alloc_nodes = 0;
  uint32_t alloc_cpus = 0;
  uint32_t alloc_gpus = 0;
};

// Which droccd a Slurm job belongs to. Each job database has an instance id, made once
// (lower-case hex, at most kMaxInstanceSize characters): every droccd numbers its jobs from 1,
// so on a Slurm cluster shared by several droccd (a test and a production one, or a database
// restored elsewhere) the id alone would not say whose job it is.
struct DroccTag {
  queue::JobId id = 0;
  std::string instance;  // empty: an untagged comment ("drocc:<id>", before instance ids)
  bool operator==(const DroccTag&) const = default;
};
inline constexpr size_t kMaxInstanceSize = 32;
bool IsValidInstance(std::string_view instance);

// The Slurm comment that marks a job as drocc's: "drocc:<id>@<instance>", or "drocc:<id>"
// without an instance.
std::string DroccComment(queue::JobId id, std::string_view instance = {});
// The tag in such a comment, or nullopt. Strict: exactly "drocc:" followed by the canonical
// decimal form of a non-zero JobId (digits only, no leading zero, no overflow, no sign,
// spaces or trailing text), then optionally "@" and a valid instance, so a user's own
// comment that mentions drocc is not ours.
std::optional<DroccTag> ParseDroccComment(std::string_view comment);

class SchedulerBackend {
 public:
  virtual ~SchedulerBackend() = default;

  // Hands the job to the resource manager as job.uid/job.gid, with DroccComment(job.id,
  // this backend's instance).
  // Returns the resource manager's job id. UNAVAILABLE when it cannot be reached (retry
  // later; with Slurm each such call blocks for about MessageTimeout, so back off rather
  // than retry every job); INVALID_ARGUMENT / FAILED_PRECONDITION when it refuses the job
  // (do not retry). Slurm may have created a record before refusing (see ListJobs).
  virtual absl::StatusOr<uint64_t> Submit(const queue::Job& job) = 0;

  // Every job it knows that carries a drocc comment of this backend's instance, or an
  // untagged one (instance empty); other instances' jobs are left out. A job that ended long ago
  // may be gone (Slurm purges ended jobs after MinJobAge). Several records may carry the same drocc
  // id: an earlier submission of the job, or a job Slurm refused at submission but recorded anyway
  // (FAILED, reason BadConstraints, an id Submit never returned). Match a record to a drocc job by
  // slurm_job_id, not by drocc_id alone.
  virtual absl::StatusOr<std::vector<BackendJob>> ListJobs() = 0;

  // Asks the resource manager to cancel the job. OK if it already ended.
  virtual absl::Status Cancel(uint64_t slurm_job_id) = 0;

  // Asks the resource manager to stop a running job and queue it again under the same id
  // (it is then reported REQUEUED until it runs again). FAILED_PRECONDITION if it is not
  // running or may not be requeued.
  virtual absl::Status Requeue(uint64_t slurm_job_id) = 0;
};

}  // namespace drocc::slurm
