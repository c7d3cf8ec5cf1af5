#pragma once

// What droccd reads from one libslurm job record (slurm_job_info_t), as plain values, and
// how it becomes a BackendJob. Kept free of slurm.h so the mapping is unit-tested without
// a cluster; job_record.cc checks at compile time that the constants below are libslurm's.
// Pure; thread-safe.

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/slurm/scheduler_backend.h"

namespace drocc::slurm {

// libslurm's enum job_states (job_state & JOB_STATE_BASE) and the state flags we read.
inline constexpr uint32_t kSlurmPending = 0;
inline constexpr uint32_t kSlurmRunning = 1;
inline constexpr uint32_t kSlurmSuspended = 2;
inline constexpr uint32_t kSlurmComplete = 3;
inline constexpr uint32_t kSlurmCancelled = 4;
inline constexpr uint32_t kSlurmFailed = 5;
inline constexpr uint32_t kSlurmTimeout = 6;
inline constexpr uint32_t kSlurmNodeFail = 7;
inline constexpr uint32_t kSlurmPreempted = 8;
inline constexpr uint32_t kSlurmBootFail = 9;
inline constexpr uint32_t kSlurmDeadline = 10;
inline constexpr uint32_t kSlurmOom = 11;
inline constexpr uint32_t kSlurmStateBase = 0x000000ff;
inline constexpr uint32_t kSlurmFlagRequeue = 1u << 10;      // JOB_REQUEUE
inline constexpr uint32_t kSlurmFlagRequeueHold = 1u << 11;  // JOB_REQUEUE_HOLD
inline constexpr uint32_t kSlurmFlagSpecialExit = 1u << 12;  // JOB_SPECIAL_EXIT
inline constexpr uint32_t kSlurmFlagCompleting = 1u << 15;   // JOB_COMPLETING
inline constexpr uint32_t kSlurmFlagRequeueFed = 1u << 20;   // JOB_REQUEUE_FED

struct SlurmJobRecord {
  uint32_t job_id = 0;
  uint32_t job_state = 0;    // base state | flags
  uint32_t exit_code = 0;    // a wait(2) status: `exit 3` reads 768
  uint16_t restart_cnt = 0;  // how often Slurm requeued it
  uint32_t user_id = 0;
  std::string comment;
  std::string nodes;         // empty until allocated
  std::string state_reason;  // slurm_job_reason_string(); empty for "None"
  std::string state_desc;    // optional details for the reason
  time_t start_time = 0;     // 0 = unset; for pending jobs an *expected* start
  time_t end_time = 0;       // 0 = unset; for running jobs the *expected* end
  // The batch script never started (reason JobLaunchFailure). exit_code then holds a
  // slurmd error number, not a wait status (4021 when slurmd could not open the output
  // file), and launch_error is its text.
  bool launch_failed = false;
  std::string launch_error;
  // The allocation, for jobs that ran: num_nodes, num_cpus and tres_alloc_str
  // ("cpu=4,mem=4G,node=1,billing=4,gres/gpu=2").
  uint32_t num_nodes = 0;
  uint32_t num_cpus = 0;
  std::string tres_alloc;
  // GRES in use, with names ("gpu:2", "gpu:a100:4,mps:100"): where the GPU count is when
  // Slurm does not track GPUs as TRES (that needs slurmdbd).
  std::string gres_total;
};

// The GPU count in a TRES string ("...,gres/gpu=2" -> 2; typed entries like
// "gres/gpu:a100=2" count too when no untyped total is present); 0 when none.
uint32_t GpusInTres(std::string_view tres);
// The GPU count in a GRES list ("gpu:2", "gpu:a100:2(IDX:0-1),mps:100" -> 2); nullopt when
// it names no GPU.
std::optional<uint32_t> GpusInGres(std::string_view gres);

// The BackendJob for `r`, or nullopt if its comment is not a drocc comment.
//   PENDING -> ADMITTED, or REQUEUED when Slurm requeued it (a requeue flag is set, or it
//              ran before: restart_cnt > 0 — the flags last only while it completes, and a
//              job seen RUNNING must not go back to ADMITTED);
//   RUNNING, SUSPENDED -> RUNNING;  COMPLETE -> COMPLETED;  CANCELLED -> CANCELLED;
//   FAILED, NODE_FAIL, BOOT_FAIL, DEADLINE, OOM -> FAILED, the reason naming which;
//   TIMEOUT -> TIMEOUT;  PREEMPTED -> REQUEUED (Slurm will not run it again; drocc may).
// exit_code is set once the job ended: the exit status, or 128+signal (not for a job whose
// script could not be launched: it has none, and the reason says why). start_time is set
// once it ran (not Slurm's forecast for a pending job, nor for a job cancelled before it
// got nodes), end_time once it ended.
std::optional<BackendJob> ToBackendJob(const SlurmJobRecord& r);

// A wait(2) status as a shell shows it: the exit status, or 128+signal.
int DecodeWaitStatus(uint32_t status);

}  // namespace drocc::slurm
