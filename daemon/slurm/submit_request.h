#pragma once

// The translation of a drocc job into what sbatch would send to slurmctld, as plain C++
// values: SlurmBackend copies it field by field into libslurm's job_desc_msg_t. Kept apart
// (and free of slurm.h) so every rule is unit-tested without a cluster. Pure; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/queue/job.h"

namespace drocc::slurm {

// time_limit_min for "UNLIMITED" (JobSpec::time_limit_s == -1): Slurm's INFINITE.
inline constexpr uint32_t kTimeLimitUnlimited = 0xffffffff;

// sbatch --open-mode, for job_desc_msg_t::open_mode (OPEN_MODE_APPEND, OPEN_MODE_TRUNCATE).
enum class OpenMode {
  kSlurmDefault,  // leave open_mode 0: slurm.conf JobFileAppend decides
  kAppend,
  kTruncate,
};

// Zero / empty means "not set: Slurm's default".
struct SubmitRequest {
  std::string script;
  std::vector<std::string> argv;         // argv[0] is the script's name, as with sbatch
  std::vector<std::string> environment;  // never empty (slurmctld refuses that)
  std::string work_dir;
  std::string name;
  uint32_t user_id = 0;
  uint32_t group_id = 0;
  std::string comment;  // DroccComment(job.id, instance)
  std::string std_out;  // always set: the user's -o or kDefaultOutputPattern
  std::string std_err;  // empty: into std_out
  OpenMode open_mode = OpenMode::kSlurmDefault;
  uint32_t min_nodes = 0;
  uint32_t max_nodes = 0;
  uint32_t num_tasks = 0;
  uint32_t min_cpus = 0;
  uint16_t ntasks_per_node = 0;
  uint16_t cpus_per_task = 0;
  std::string tres_per_node;  // "gres:gpu:4", comma-separated entries
  uint64_t mem_per_node_mb = 0;
  uint32_t time_limit_min = 0;  // or kTimeLimitUnlimited
  std::string partition;
  uint16_t warn_signal = 0;  // --signal: 0 = none
  uint16_t warn_time_s = 0;
  bool warn_batch_only = false;  // "B:": KILL_JOB_BATCH
  std::string alloc_node;        // the submitting host
  std::string submit_line;       // shown by sacct as SubmitLine
};

// Builds the request for `job` submitted from `submit_host`. INVALID_ARGUMENT with an
// actionable message when the spec cannot be sent as is (no "#!" line, relative work dir,
// malformed environment entry, values out of Slurm's range, GPUs asked twice
// inconsistently); FAILED_PRECONDITION for a job that would run as root (uid or gid 0).
//
// Sizes are derived as sbatch derives them (-N N is N-N; min_cpus = tasks x cpus per
// task). The time limit is sent in whole minutes, rounded up; -1 s is UNLIMITED (whether
// that is allowed is the caller's decision; the partition's MaxTime still applies). GPUs:
// the --gres entries, each sent "gres:"-prefixed as sbatch does; gpus_per_node is sent as
// "gres:gpu:N" only when --gres has no gpu entry, and must agree with it otherwise.
// Output: the user's -o, else kDefaultOutputPattern, sent as given (slurmstepd expands it
// and resolves it against the work dir; see filename_pattern.h); no -e means into -o.
// job.spec.open_mode "append" / "truncate" set open_mode (anything else but "" is
// INVALID_ARGUMENT), and SLURM_OPEN_MODE=a / =t in the environment, as sbatch exports it so
// that srun steps inside the job open their files the same way.
//
// The environment follows sbatch --export (job.spec.export_mode):
//   "ALL" or ""  job.spec.environment as the client captured it;
//   "NONE"       only its SLURM_* entries and droccd's DROCC_JOB_ID, DROCC_JOB_TOKEN and
//                DROCC_SERVER (common/job_env.h), plus SLURM_GET_USER_ENV=1;
//   a list       the captured entries, plus SLURM_GET_USER_ENV=1.
// SLURM_GET_USER_ENV=1 makes slurmd load the user's login environment (`su - user`) on the
// node before the script starts, which is what sbatch sends for NONE and for lists; we also
// send it when the captured environment is empty, because slurmctld refuses a batch job
// with no environment ("Environment is missing in job"). SLURM_JOB_NAME is always the
// job's name, as sbatch sets it (slurmstepd expands %x from it: without it, "(null)").
// SLURM_SUBMIT_DIR (the work dir), SLURM_SUBMIT_HOST and SLURM_UMASK (0022), which sbatch
// takes from its own process, are added unless the captured environment has them.
// `instance` tags the comment (DroccComment).
absl::StatusOr<SubmitRequest> BuildSubmitRequest(const queue::Job& job,
                                                 std::string_view submit_host,
                                                 std::string_view instance = {});

}  // namespace drocc::slurm
