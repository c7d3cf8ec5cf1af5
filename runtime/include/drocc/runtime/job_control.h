#pragma once

// Job control for a training program (SPEC §7, docs/runtime.md "Job control"): stop signals
// and the agreement of all ranks to stop, reports to droccd, and requeue.
//
//   drocc::runtime::MpiCommunicator comm(MPI_COMM_WORLD);
//   auto jc = drocc::runtime::JobControl::Create({}, &comm);   // collective
//   ckpt_options.on_commit = [&](const CommitInfo& c) { (*jc)->ReportCheckpoint(c); };
//   for (step = first; step < steps; ++step) {
//     Train(step);
//     const bool stop = (*jc)->AgreeStop();    // collective, once per step
//     if (stop || step % 100 == 0) ckpt->Save(step);   // stop: the final checkpoint
//     if (stop) {                              // on every rank at the same step
//       (*jc)->RequestRequeue(step, "stop signal");   // collective, once Save returned OK
//       break;
//     }
//   }
//
// Signals. The handler is installed by Create and the previous one restored by the destructor.
// By default only SIGUSR1 is caught: Slurm sends it to the job steps before the time limit
// with `sbatch --signal=USR1@90` (`B:USR1@90` reaches only the batch shell), and by hand with
// `scancel --signal=USR1`. SIGTERM is NOT caught by default, because `drocc cancel` and
// `scancel` send SIGTERM to mean "end now"; name it in DROCC_CHECKPOINT_SIGNAL (e.g.
// "USR1,TERM") to checkpoint on it as well.
//
// Reports and requeue talk to droccd when droccd started the job (DROCC_JOB_TOKEN is set),
// from rank 0 only; requeue falls back to Slurm's own (libslurm) for a Slurm job.
//
// Threads: StopRequested, StopSignal, ReportCheckpoint, ReportProgress and report_stats may
// be called from any thread; Create, AgreeStop and RequestRequeue are collective and are
// called from one thread per rank, in the same order on every rank. The Communicator is not
// owned and must outlive the JobControl.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "drocc/runtime/commit_info.h"
#include "drocc/runtime/communicator.h"

namespace drocc::runtime {

namespace job_control {
class StopSignalHandlers;
class ReportSender;
}  // namespace job_control

// Set by droccd in the environment of a job it started.
inline constexpr char kJobIdEnv[] = "DROCC_JOB_ID";        // the drocc job id, decimal
inline constexpr char kJobTokenEnv[] = "DROCC_JOB_TOKEN";  // per-job secret for RuntimeService
inline constexpr char kServerEnv[] = "DROCC_SERVER";       // "unix:/path", "/path", "host:port"
// Set by the user (job script): which signals ask the job to stop, e.g. "USR1" or "USR1,TERM".
inline constexpr char kCheckpointSignalEnv[] = "DROCC_CHECKPOINT_SIGNAL";
// Where droccd listens when DROCC_SERVER is not set (the same default as the drocc CLI).
inline constexpr char kDefaultServer[] = "unix:/run/drocc/droccd.sock";
// The gRPC metadata key that carries DROCC_JOB_TOKEN on every RuntimeService call.
inline constexpr char kJobTokenMetadataKey[] = "x-drocc-job-token";

// One committed checkpoint, as reported to droccd (RuntimeService.ReportCheckpoint).
struct CheckpointReport {
  CommitInfo commit;
  absl::Time time;  // when it committed
};

// Progress of a phase of the job (RuntimeService.ReportProgress).
struct ProgressReport {
  std::string phase;  // "stage-in", "train", "stage-out" ...
  int64_t step = -1;
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
  std::string message;
};

// droccd's answer to RequestRequeue.
struct RequeueAnswer {
  bool accepted = false;
  std::string message;  // why not, when refused
};

// The seam to droccd's RuntimeService for this job (job id and token included). The real one
// speaks gRPC; tests pass their own through JobControlOptions::daemon. Must be thread-safe:
// reports come from JobControl's sender thread while RequestRequeue comes from the caller's.
// Every call returns within about `timeout`.
class DaemonClient {
 public:
  virtual ~DaemonClient() = default;
  // Where the calls go, for messages: "unix:/run/drocc/droccd.sock".
  virtual std::string Target() const = 0;
  virtual absl::Status ReportCheckpoint(const CheckpointReport& report, absl::Duration timeout) = 0;
  virtual absl::Status ReportProgress(const ProgressReport& report, absl::Duration timeout) = 0;
  // An error status means droccd did not answer (unreachable, timed out, rejected the call).
  virtual absl::StatusOr<RequeueAnswer> RequestRequeue(int64_t checkpoint_step,
                                                       const std::string& reason,
                                                       absl::Duration timeout) = 0;
};

// The seam to Slurm's own requeue of a running job (libslurm's slurm_requeue).
class SlurmRequeuer {
 public:
  virtual ~SlurmRequeuer() = default;
  // Asks slurmctld to requeue `slurm_job_id`. Success means Slurm accepted: it will kill the
  // running job shortly and queue it again.
  virtual absl::Status Requeue(uint32_t slurm_job_id) = 0;
};

struct JobControlOptions {
  // Catch the stop signals. False: no handler is installed and StopRequested stays false
  // (reports and requeue still work).
  bool handle_signals = true;
  // The stop signals. $DROCC_CHECKPOINT_SIGNAL, when set and not empty, wins (the job script
  // knows what its --signal sends); then this list when not empty; then SIGUSR1 alone.
  std::vector<int> stop_signals;

  // Reports waiting to be sent to droccd; when full the oldest is dropped (and counted).
  size_t report_queue_capacity = 64;
  // Deadline of each report call.
  absl::Duration report_timeout = absl::Seconds(2);
  // How long the destructor (and RequestRequeue, before asking) waits for queued reports.
  absl::Duration flush_timeout = absl::Seconds(3);
  // Deadline of the RequestRequeue call to droccd.
  absl::Duration requeue_timeout = absl::Seconds(5);

  // Test seams; null means the real ones. `daemon`: used on rank 0 instead of the gRPC client
  // that DROCC_SERVER/DROCC_JOB_ID/DROCC_JOB_TOKEN describe (and even without them).
  // `slurm`: used instead of libslurm; the job id still comes from SLURM_JOB_ID.
  std::shared_ptr<DaemonClient> daemon;
  std::shared_ptr<SlurmRequeuer> slurm;
};

// What became of the reports so far (rank 0; all zero elsewhere or without droccd).
struct ReportStats {
  uint64_t sent = 0;     // droccd answered OK
  uint64_t failed = 0;   // the call failed (droccd down, slow, or refused it)
  uint64_t dropped = 0;  // pushed out of a full queue, or left unsent by the destructor
  uint64_t pending = 0;  // queued or being sent now
};

class JobControl {
 public:
  // Collective. Installs the signal handlers (options.handle_signals) and, on rank 0 of a job
  // droccd started (DROCC_JOB_TOKEN set) or with options.daemon, starts the report sender.
  // INVALID_ARGUMENT for a bad DROCC_CHECKPOINT_SIGNAL, stop signal, DROCC_SERVER or
  // DROCC_JOB_ID; FAILED_PRECONDITION if another JobControl of this process handles signals.
  // Fails on every rank if it fails on any.
  static absl::StatusOr<std::unique_ptr<JobControl>> Create(JobControlOptions options,
                                                            Communicator* comm);
  // Restores the previous signal handlers, then sends the queued reports, waiting at most
  // options.flush_timeout; what is left is dropped (one line on stderr says how many).
  ~JobControl();
  JobControl(const JobControl&) = delete;
  JobControl& operator=(const JobControl&) = delete;

  // Local: whether this process has received a stop signal since Create.
  bool StopRequested() const;
  // Local: the last stop signal received (SIGUSR1...), 0 if none.
  int StopSignal() const;
  // Collective, one small allreduce: true on every rank if any rank has received a stop signal
  // (StopRequested), false on every rank otherwise. Call it at the step boundary, once per
  // step, on every rank. Once it has returned true it returns true without communicating.
  bool AgreeStop();

  // Rank 0 (elsewhere, or without droccd, a no-op). Queues a report of a committed checkpoint
  // and returns at once; a background thread sends it. Never blocks training: if droccd is down
  // or slow, reports fail or are dropped and the job goes on (one line on stderr, prefixed
  // "drocc-runtime:", the first time a report fails). Made to be CheckpointOptions::on_commit.
  void ReportCheckpoint(const CommitInfo& commit);
  // Rank 0, same queue and rules as ReportCheckpoint.
  void ReportProgress(ProgressReport report);
  ReportStats report_stats() const;
  // Whether reports go anywhere (rank 0 with droccd or options.daemon).
  bool reporting() const { return sender_ != nullptr; }

  // Collective: every rank calls it, with the same arguments; rank 0 asks and every rank returns
  // rank 0's status. Call it only after the final checkpoint (`checkpoint_step`, -1 if none)
  // has committed (Save returned OK; with asynchronous saves, after Wait): Slurm's requeue
  // kills the running job, and droccd's may too. In order:
  //   1. queued reports are sent first (at most options.flush_timeout), so droccd knows the
  //      checkpoint the next run resumes from;
  //   2. with droccd (DROCC_JOB_TOKEN): RuntimeService.RequestRequeue; accepted -> OK;
  //   3. otherwise (no droccd, droccd unreachable or refusing) under Slurm (SLURM_JOB_ID):
  //      libslurm's slurm_requeue of that job; accepted -> OK;
  //   4. otherwise an error saying why each way failed and that the job must be resubmitted
  //      (it resumes from the checkpoint).
  // After OK, finish (exit) promptly: the job is about to be ended and queued again.
  absl::Status RequestRequeue(int64_t checkpoint_step, std::string reason);

  // The signals handled (empty with handle_signals = false).
  const std::vector<int>& stop_signals() const { return stop_signals_; }

 private:
  JobControl(JobControlOptions options, Communicator* comm);
  absl::Status Init();  // this rank's part of Create
  absl::Status RequeueOnRank0(int64_t checkpoint_step, const std::string& reason);

  JobControlOptions options_;
  Communicator* comm_;
  std::vector<int> stop_signals_;
  std::unique_ptr<job_control::StopSignalHandlers> handlers_;  // null: handle_signals = false
  std::unique_ptr<job_control::ReportSender> sender_;          // null: no reporting
  bool agreed_stop_ = false;
};

}  // namespace drocc::runtime
