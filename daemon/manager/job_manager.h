#pragma once

// JobManager owns droccd's live jobs: the queue of PENDING jobs, the jobs handed to Slurm,
// and the admission switch. All of that state is touched by one worker thread only (the
// domain's single owner); callers post requests and get an answer through a callback, so
// gRPC handlers never wait on Slurm or on the disk.
//
// The worker runs posted requests as they come, follows Slurm every poll interval, and runs an
// admission pass when something changed (at most every min_admission_interval).
// Admission order, caps, budgets and limits come from QuotaBook (quota::PlanAdmission): a job
// is admitted only once its cost is reserved against its project's grants, and it is charged
// what it used when it ends, in the same store transaction as its end state (so a settlement
// is written exactly once, however often droccd restarts in between).
//
// Crash safety: a job is marked ADMITTED durably *before* it is handed to Slurm, and Slurm
// jobs carry "drocc:<id>" in their comment. After a restart, an ADMITTED job without a
// recorded Slurm id is looked up in Slurm by that comment and adopted if found, submitted
// only if not, so Slurm never holds two jobs for one drocc job.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "daemon/auth/job_token.h"
#include "daemon/manager/quota_book.h"
#include "daemon/queue/job.h"
#include "daemon/slurm/scheduler_backend.h"
#include "daemon/store/store.h"

namespace drocc::manager {

struct JobManagerOptions {
  uint32_t max_jobs_in_slurm = 64;  // 0: no cap
  absl::Duration poll_interval = absl::Seconds(1);
  // Admission passes run when something changed, but at most this often.
  absl::Duration min_admission_interval = absl::Milliseconds(50);
  // ... and at least this often, for what changes with time alone (grant validity, decay).
  absl::Duration max_admission_interval = absl::Seconds(10);
  // false: no worker thread; the owner drives rounds with RunOnce() (tests).
  bool run_worker = true;
  QuotaOptions quota;
  // Per-job tokens for libdrocc-runtime: when set, each job handed to Slurm gets
  // DROCC_JOB_ID, DROCC_JOB_TOKEN and DROCC_SERVER (= runtime_server) in its environment.
  const auth::JobTokens* job_tokens = nullptr;
  std::string runtime_server;
  // Reconciliation with Slurm. `instance` is this job database's id (slurm::DroccTag), the
  // one the backend writes into comments: a Slurm job is matched to a drocc job by its drocc
  // id alone (adopted) only when its tag carries this instance, or carries none and
  // adopt_untagged is set (a database older than instance ids: its jobs in Slurm are
  // untagged). A job droccd follows is matched by its Slurm id, whatever its tag.
  std::string instance;
  bool adopt_untagged = false;
  // How often all of Slurm's drocc jobs are compared with the store; also done at start-up
  // and when Slurm answers again after an outage.
  absl::Duration reconcile_interval = absl::Seconds(60);
  // While Slurm cannot be reached it is asked again after poll_interval, then twice as long
  // each time, up to this.
  absl::Duration max_retry_interval = absl::Seconds(10);
};

struct AdmissionStatus {
  bool drained = false;
  std::string reason;
  std::string changed_by;
  absl::Time change_time = absl::InfinitePast();
  uint32_t jobs_in_slurm = 0;
  uint32_t max_jobs_in_slurm = 0;
  uint32_t pending_jobs = 0;
  bool slurm_reachable = true;
  std::string slurm_error;  // the last error talking to Slurm, if unreachable
  absl::Time slurm_down_since = absl::InfinitePast();  // if unreachable
  absl::Time last_reconcile = absl::InfinitePast();    // the last full comparison with Slurm
};

// While Slurm cannot be reached: what pending jobs wait for and what a submitter is told.
// Empty when Slurm is reachable.
std::string SlurmOutageText(const AdmissionStatus& status);

class JobManager {
 public:
  using JobCallback = std::function<void(absl::StatusOr<queue::Job>)>;
  using AdmissionCallback = std::function<void(absl::StatusOr<AdmissionStatus>)>;
  using EstimateCallback = std::function<void(absl::StatusOr<JobEstimate>)>;
  using QuotaCallback = std::function<void(absl::StatusOr<QuotaRecord>)>;
  // Runs on the worker with the quota state; must be quick and must not block.
  using QuotaReader = std::function<void(const QuotaBook& book, absl::Time now)>;

  // The collaborators must outlive the manager.
  JobManager(store::Store* store, slurm::SchedulerBackend* backend, const Clock* clock,
             JobManagerOptions options);
  ~JobManager();
  JobManager(const JobManager&) = delete;
  JobManager& operator=(const JobManager&) = delete;

  // Loads the live jobs and the admission switch from the store, then starts the worker.
  absl::Status Start();
  // Finishes the requests already posted and stops the worker. Idempotent.
  void Stop();

  // Resolves the job's project (the user's default one if it names none) and time limit,
  // checks it against the project's grants and limits, and stores it durably: as PENDING,
  // queued for admission, or as REJECTED with the numbers when it could never run (see
  // QuotaBook::CheckSubmission). Errors store nothing: PERMISSION_DENIED / FAILED_PRECONDITION
  // for a project the user may not use, RESOURCE_EXHAUSTED at the pending-job limit. `done`
  // runs on a store thread once the job is durable (created=false: an earlier job with the
  // same key), or on the worker for an error. A store error may still leave the job stored
  // (its acknowledgement was lost): a job with an idempotency key is then found and queued
  // all the same, and a retry with that key gets it.
  void Submit(queue::Job job, store::Store::InsertCallback done);

  // What the job would cost and whether it could be admitted now; stores nothing.
  void Estimate(queue::Job job, EstimateCallback done);

  // An admin's change of the quota model: checked, written with its audit record in one
  // transaction, then applied. A refused change is audited as refused.
  void ChangeQuota(QuotaRequest request, QuotaCallback done);

  // Reads the quota state on the worker (balances, grants, memberships).
  void ReadQuota(QuotaReader read);

  // The site's resources (immutable; any thread).
  const quota::ResourceCatalog& catalog() const { return options_.quota.catalog; }

  // Cancels a job: a PENDING one at once; one in Slurm by asking Slurm (its state becomes
  // CANCELLED when Slurm reports it). Answers the job as it then is. `by` is recorded.
  void Cancel(queue::JobId id, std::string by, JobCallback done);

  // At the request of the job itself (libdrocc-runtime, after its final checkpoint): asks
  // Slurm to requeue a RUNNING job. Slurm stops it and runs it again under the same id; the
  // job shows REQUEUED, then RUNNING; the run that ended is charged then, once.
  // FAILED_PRECONDITION unless the job is RUNNING in Slurm; UNAVAILABLE when Slurm cannot be
  // reached. `why` is recorded in the REQUEUED transition's reason.
  void RequestRequeue(queue::JobId id, std::string why, std::function<void(absl::Status)> done);

  // Stops or restarts admission of new jobs to Slurm; durable across restarts.
  void SetDrained(bool drained, std::string reason, std::string by, AdmissionCallback done);

  // A snapshot as of the worker's last round. Thread-safe.
  AdmissionStatus admission_status() const;
  // admission_status().slurm_reachable, without a copy or a lock (for every submission).
  bool slurm_reachable() const { return slurm_reachable_.load(std::memory_order_relaxed); }

  // One round on the caller's thread: posted requests, a Slurm poll, admission. For tests
  // (options.run_worker = false); never call it while the worker runs.
  void RunOnce();
  // Only the posted requests, on the caller's thread (tests, with run_worker = false).
  void RunPosted() { RunTasks(); }

 private:
  void Post(std::function<void()> task);
  void WorkerLoop();
  // Runs the posted requests; returns how many.
  size_t RunTasks();
  void Poll();
  // Compares all of Slurm's drocc jobs (`listed`) with the store: adopts the pending jobs
  // Slurm already has, cancels a second live Slurm job of a job droccd follows, and reports
  // (once) the Slurm jobs of jobs droccd has ended or does not know.
  void Reconcile(const std::vector<slurm::BackendJob>& listed, absl::Time now);
  // Whether `b` is this droccd's job by its tag (see JobManagerOptions::instance).
  bool Ours(const slurm::BackendJob& b) const;
  // Records that Slurm could not be reached (`error`) / can again.
  void SlurmDown(const absl::Status& error, absl::Time now);
  void SlurmUp();
  void Admit();
  // Stores `u` (PENDING -> ADMITTED, with its reservation) and starts following the job, also
  // applying `u` to `full`. nullptr, with the reservation released, when the store refused it.
  queue::Job* RecordAdmitted(queue::Job& full, const queue::JobUpdate& u);
  // Hands an ADMITTED job to Slurm and records the Slurm id. `loaded`: the whole job, if the
  // caller has it (else it is read from the store).
  void SubmitToSlurm(queue::Job& job, const queue::Job* loaded = nullptr);
  void DoSubmit(queue::Job job, store::Store::InsertCallback done);
  void OnSubmitted(const queue::Job& job);
  void DoChangeQuota(const QuotaRequest& request, const QuotaCallback& done);
  std::vector<const queue::Job*> InSlurm() const;
  void DoCancel(queue::JobId id, const std::string& by, const JobCallback& done);
  absl::Status DoRequestRequeue(queue::JobId id, const std::string& why);
  // Settles the run of a RUNNING job that Slurm requeued and stores its REQUEUED transition.
  absl::Status ApplyRequeue(queue::Job& job, const slurm::BackendJob& b, absl::Time run_end,
                            std::string reason, absl::Time now);
  void DoSetDrained(bool drained, const std::string& reason, const std::string& by,
                    const AdmissionCallback& done);
  // Writes `u` durably and mirrors it in active_; drops the job from active_ if it ended.
  // A transition the store reports failed but holds (a lost acknowledgement) counts as done.
  absl::Status Apply(const queue::JobUpdate& u);
  uint32_t JobsInSlurm() const;
  void PublishStatus();

  store::Store* const store_;
  slurm::SchedulerBackend* const backend_;
  const Clock* const clock_;
  const JobManagerOptions options_;

  // Posted requests; guarded by mu_.
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread worker_;

  // Domain state: worker thread only. Jobs in Slurm (ADMITTED, RUNNING, REQUEUED) without
  // their script and environment (reloaded from the store when handed to Slurm). PENDING
  // jobs are only in quota_, in a compact form: 100,000 of them fit in a few tens of MB.
  std::map<queue::JobId, queue::Job> active_;
  // A hash of each pending job's last stored reason, to store only changes.
  std::unordered_map<queue::JobId, size_t> pending_reason_;
  std::map<queue::JobId, std::string> cancel_requested_by_;  // until Slurm reports the end
  std::map<queue::JobId, std::string> requeue_requested_;    // until Slurm reports REQUEUED
  QuotaBook quota_;
  AdmissionStatus admission_;  // drained/reason/by/time are the source of truth
  bool slurm_ok_ = true;
  uint64_t changes_ = 0;  // job updates stored: a poll that stored none needs no pass
  std::string slurm_error_;
  absl::Time slurm_down_since_ = absl::InfinitePast();
  absl::Duration retry_after_ = absl::ZeroDuration();  // the backoff while Slurm is down
  absl::Time next_try_ = absl::InfinitePast();
  bool reconcile_due_ = true;  // at start-up, and once Slurm answers again
  absl::Time last_reconcile_ = absl::InfinitePast();
  std::set<uint64_t> reported_strays_;  // Slurm ids already reported by Reconcile

  mutable std::mutex status_mu_;
  AdmissionStatus published_;  // GUARDED_BY(status_mu_)
  std::atomic<bool> slurm_reachable_{true};
};

}  // namespace drocc::manager
