#include "daemon/queue/job.h"

#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace drocc::queue {
namespace {

constexpr std::array<std::pair<JobState, const char*>, 10> kNames = {{
    {JobState::kPending, "PENDING"},
    {JobState::kAdmitted, "ADMITTED"},
    {JobState::kRunning, "RUNNING"},
    {JobState::kCompleted, "COMPLETED"},
    {JobState::kFailed, "FAILED"},
    {JobState::kCancelled, "CANCELLED"},
    {JobState::kTimeout, "TIMEOUT"},
    {JobState::kRequeued, "REQUEUED"},
    {JobState::kRejected, "REJECTED"},
    {JobState::kLost, "LOST"},
}};

bool IsEnd(JobState s) {
  return s == JobState::kCompleted || s == JobState::kFailed || s == JobState::kCancelled ||
         s == JobState::kTimeout;
}

}  // namespace

const char* JobStateName(JobState s) {
  for (const auto& [state, name] : kNames) {
    if (state == s) return name;
  }
  return "UNKNOWN";
}

std::optional<JobState> ParseJobState(std::string_view name) {
  std::string upper(name);
  absl::AsciiStrToUpper(&upper);
  for (const auto& [state, n] : kNames) {
    if (n == upper) return state;
  }
  return std::nullopt;
}

bool IsTerminal(JobState s) { return IsEnd(s) || s == JobState::kRejected || s == JobState::kLost; }

bool IsInSlurm(JobState s) {
  return s == JobState::kAdmitted || s == JobState::kRunning || s == JobState::kRequeued;
}

absl::Status CheckTransition(JobState from, JobState to) {
  bool ok = false;
  if (from == to) {
    ok = !IsTerminal(from);  // field updates while the job is alive
  } else {
    switch (from) {
      case JobState::kPending:
        // Admitted, cancelled or rejected while waiting in drocc's queue.
        ok = to == JobState::kAdmitted || to == JobState::kCancelled || to == JobState::kRejected;
        break;
      case JobState::kAdmitted:
        // Slurm may start it, or it may end (cancelled, failed to launch) before we saw it
        // run; Slurm may refuse it for good (REJECTED); a submission that has to wait for a
        // passing reason goes back to PENDING.
        ok = to == JobState::kRunning || IsEnd(to) || to == JobState::kPending ||
             to == JobState::kRequeued || to == JobState::kLost || to == JobState::kRejected;
        break;
      case JobState::kRunning:
        ok = IsEnd(to) || to == JobState::kRequeued || to == JobState::kLost;
        break;
      case JobState::kRequeued:
        // Slurm runs it again, or drocc queues it again.
        ok = to == JobState::kRunning || to == JobState::kPending || to == JobState::kAdmitted ||
             IsEnd(to) || to == JobState::kLost;
        break;
      default:
        ok = false;  // terminal
    }
  }
  if (ok) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("a job cannot go from ", JobStateName(from), " to ", JobStateName(to)));
}

absl::Status ApplyUpdate(const JobUpdate& u, Job& job) {
  if (job.state != u.from) {
    return absl::FailedPreconditionError(absl::StrCat(
        "job ", job.id, " is ", JobStateName(job.state), ", not ", JobStateName(u.from)));
  }
  if (absl::Status s = CheckTransition(u.from, u.to); !s.ok()) return s;
  if (!u.charges.empty() &&
      (u.to == u.from || !(IsTerminal(u.to) || u.to == JobState::kRequeued))) {
    return absl::InvalidArgumentError(
        absl::StrCat("job ", job.id,
                     ": charges may only be written with the transition to an end state or "
                     "to REQUEUED"));
  }
  if (u.to != u.from) {
    job.state = u.to;
    job.events.push_back({u.to, u.at, u.reason});
  }
  job.reason = u.reason;
  if (u.slurm_job_id) job.slurm_job_id = *u.slurm_job_id;
  if (u.exit_code) job.exit_code = *u.exit_code;
  if (u.nodes) job.nodes = *u.nodes;
  if (u.admit_time) job.admit_time = *u.admit_time;
  if (u.start_time) job.start_time = *u.start_time;
  if (u.end_time) job.end_time = *u.end_time;
  if (u.increment_requeue_count) ++job.requeue_count;
  if (u.reserved) job.reserved = *u.reserved;
  if (u.charged) job.charged = *u.charged;
  return absl::OkStatus();
}

}  // namespace drocc::queue
