#pragma once

// The job model of SPEC §3 and its state machine. Plain values: no gRPC, SQLite or Slurm.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace drocc::queue {

using JobId = uint64_t;

// Numbered like drocc.v1.JobState, so the API maps one to the other by value.
enum class JobState : int {
  kPending = 1,
  kAdmitted = 2,
  kRunning = 3,
  kCompleted = 4,
  kFailed = 5,
  kCancelled = 6,
  kTimeout = 7,
  kRequeued = 8,
  kRejected = 9,
  kLost = 10,
};

// "PENDING", "RUNNING" ...
const char* JobStateName(JobState s);
// Accepts the names above in any case; nullopt for anything else.
std::optional<JobState> ParseJobState(std::string_view name);
// COMPLETED, FAILED, CANCELLED, TIMEOUT, REJECTED, LOST: the job will never change again.
bool IsTerminal(JobState s);
// ADMITTED, RUNNING, REQUEUED: Slurm holds a job for it.
bool IsInSlurm(JobState s);
// OK if a job may go from `from` to `to` (or stay in `from`, to update its fields);
// FAILED_PRECONDITION naming both states otherwise.
absl::Status CheckTransition(JobState from, JobState to);

// Slurm's --signal.
struct SignalSpec {
  int signal = 0;  // 0: none
  uint32_t seconds_before = 0;
  bool batch_only = false;
  bool operator==(const SignalSpec&) const = default;
};

// JobSpec::open_mode besides "" (not given: Slurm's default, slurm.conf JobFileAppend).
inline constexpr char kOpenModeAppend[] = "append";
inline constexpr char kOpenModeTruncate[] = "truncate";

// What the user asked for (mirrors drocc.v1.JobSpec). Zero means "not given".
struct JobSpec {
  std::string name;
  std::string project;
  std::string partition;
  std::string script;
  std::string script_path;
  std::vector<std::string> args;
  std::string workdir;
  std::vector<std::string> environment;  // "NAME=value"
  std::string export_mode;
  std::string output;
  std::string error;
  std::string open_mode;  // kOpenModeAppend, kOpenModeTruncate or ""
  uint32_t nodes = 0;
  uint32_t max_nodes = 0;
  uint32_t ntasks = 0;
  uint32_t ntasks_per_node = 0;
  uint32_t cpus_per_task = 0;
  uint32_t gpus_per_node = 0;
  std::string gres;
  uint64_t mem_mb = 0;
  int64_t time_limit_s = 0;
  SignalSpec signal;
  int32_t priority = 0;
  std::map<std::string, std::string> labels;
  bool operator==(const JobSpec&) const = default;
};

// One stored transition.
struct JobEvent {
  JobState state = JobState::kPending;
  absl::Time time = absl::InfinitePast();
  std::string reason;
  bool operator==(const JobEvent&) const = default;
};

// Amounts per resource, by the resource's name ("gpu-hours" -> milli-units). The quota code
// converts them to its own types; the job model only carries them.
using AmountMap = std::map<std::string, int64_t>;

// One draw of a settled job's usage from a grant (grant_id 0: usage no grant could pay).
struct ChargeRecord {
  uint64_t grant_id = 0;
  std::string resource;
  int64_t milli = 0;
  bool operator==(const ChargeRecord&) const = default;
};

// One checkpoint the job's runtime library reported (RuntimeService.ReportCheckpoint).
struct CheckpointRecord {
  int64_t step = 0;
  uint64_t bytes = 0;
  absl::Duration duration;                 // how long the save took
  absl::Time time = absl::InfinitePast();  // when droccd received the report
  std::string path;                        // the checkpoint's directory, as the job named it
  uint32_t ranks = 0;
  bool operator==(const CheckpointRecord&) const = default;
};

// The latest progress the job's runtime library reported for one phase
// (RuntimeService.ReportProgress); a new report of the same phase replaces it.
struct ProgressRecord {
  std::string phase;  // "stage-in", "train", "stage-out" ...
  int64_t step = -1;  // -1: the phase has no step
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;  // 0: unknown or no data
  std::string message;
  absl::Time time = absl::InfinitePast();  // when droccd received the report
  bool operator==(const ProgressRecord&) const = default;
};

// A job as droccd stores it. Unset times are absl::InfinitePast().
struct Job {
  JobId id = 0;
  JobSpec spec;
  std::string user;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string project;
  JobState state = JobState::kPending;
  std::string reason;
  std::optional<int> exit_code;
  uint64_t slurm_job_id = 0;
  std::string nodes;
  absl::Time submit_time = absl::InfinitePast();
  absl::Time admit_time = absl::InfinitePast();
  absl::Time start_time = absl::InfinitePast();
  absl::Time end_time = absl::InfinitePast();
  std::string idempotency_key;  // empty: none
  uint32_t requeue_count = 0;
  AmountMap reserved;            // escrow held while admitted (empty once settled or released)
  AmountMap charged;             // actual usage once settled, overdraft included
  std::vector<JobEvent> events;  // filled by Store::GetJob only
  // Filled by Store::GetJob(with_events) only: the newest kMaxCheckpointsKept, oldest first.
  std::vector<CheckpointRecord> checkpoints;
  // Filled by Store::GetJob(with_events) only: the latest report of each phase (at most
  // kMaxProgressPhases), in the order the phases first reported.
  std::vector<ProgressRecord> progress;
};

// A change to one job, applied atomically by the Store and only while the job is still in
// `from` (compare-and-set), so two writers never both win. When `to != from` an event is
// stored with `at` and `reason`. Optional fields are written only when set.
struct JobUpdate {
  JobId id = 0;
  JobState from = JobState::kPending;
  JobState to = JobState::kPending;
  absl::Time at = absl::InfinitePast();
  std::string reason;
  std::optional<uint64_t> slurm_job_id;
  std::optional<int> exit_code;
  std::optional<std::string> nodes;
  std::optional<absl::Time> admit_time;
  std::optional<absl::Time> start_time;
  std::optional<absl::Time> end_time;
  bool increment_requeue_count = false;
  // Quota bookkeeping, written in the same transaction as the transition:
  std::optional<AmountMap> reserved;  // replaces Job::reserved (an empty map clears it)
  std::optional<AmountMap> charged;   // replaces Job::charged
  // Rows appended to the charges table (the settlement's draws), stamped with the job's
  // project and user and with `end_time` (else `at`). Only with a transition to a terminal
  // state, or to REQUEUED (the run that ended is charged, the next one reserved again): a
  // settlement is written exactly once, by the update that wins the compare-and-set.
  std::vector<ChargeRecord> charges;
};

// How many checkpoint reports a job keeps (the oldest are dropped beyond).
inline constexpr size_t kMaxCheckpointsKept = 1000;
// How many phases' progress a job keeps: a new phase beyond drops the one reported least
// recently.
inline constexpr size_t kMaxProgressPhases = 16;

// Applies `u` to `job` in memory, with the same rules as the Store (CheckTransition, the
// compare-and-set on `from`, the event). Stores and tests share it.
absl::Status ApplyUpdate(const JobUpdate& u, Job& job);

}  // namespace drocc::queue
