#include "daemon/manager/job_manager.h"

#include <malloc.h>
#include <algorithm>

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/job_env.h"
#include "common/logging.h"
#include "common/status.h"
#include "nlohmann/json.hpp"

namespace drocc::manager {
namespace {

using queue::Job;
using queue::JobId;
using queue::JobState;
using queue::JobUpdate;

constexpr char kDrainSetting[] = "admission.drain";

// Keeps the fields the worker needs and drops the bulky ones.
Job Slim(Job job) {
  job.spec.script.clear();
  job.spec.script.shrink_to_fit();
  job.spec.environment.clear();
  job.spec.environment.shrink_to_fit();
  job.events.clear();
  return job;
}

std::string SlurmReason(const slurm::BackendJob& b, JobState to) {
  switch (to) {
    case JobState::kAdmitted:
      return b.reason.empty() ? "waiting in Slurm's queue"
                              : absl::StrCat("waiting in Slurm's queue: ", b.reason);
    case JobState::kRunning:
      return absl::StrCat("running on ", b.nodes);
    case JobState::kRequeued:
      return b.reason.empty() ? "requeued by Slurm" : absl::StrCat("requeued by Slurm: ", b.reason);
    default:
      return b.reason;
  }
}

// Whether `stored` shows the transition `u` (from != to) as done. Only the worker moves a
// job between states, so a job in u.to whose last event is u's got there by u.
bool HoldsTransition(const Job& stored, const JobUpdate& u) {
  if (u.from == u.to || stored.state != u.to || stored.events.empty()) return false;
  const queue::JobEvent& last = stored.events.back();
  // The store keeps microseconds.
  return last.state == u.to && absl::ToUnixMicros(last.time) == absl::ToUnixMicros(u.at);
}

}  // namespace

std::string SlurmOutageText(const AdmissionStatus& status) {
  if (status.slurm_reachable) return "";
  return absl::StrCat(
      "Slurm cannot be reached since ",
      absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", status.slurm_down_since, absl::UTCTimeZone()), " (",
      status.slurm_error, "); drocc keeps the job and hands it to Slurm once Slurm answers");
}

JobManager::JobManager(store::Store* store, slurm::SchedulerBackend* backend, const Clock* clock,
                       JobManagerOptions options)
    : store_(store),
      backend_(backend),
      clock_(clock),
      options_(std::move(options)),
      quota_(options_.quota) {
  admission_.max_jobs_in_slurm = options_.max_jobs_in_slurm;
}

JobManager::~JobManager() { Stop(); }

absl::Status JobManager::Start() {
  auto drain = store_->GetSetting(kDrainSetting);
  if (!drain.ok()) return drain.status();
  if (drain->has_value()) {
    auto j = nlohmann::json::parse(**drain, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) {
      admission_.drained = j.value("drained", false);
      admission_.reason = j.value("reason", "");
      admission_.changed_by = j.value("by", "");
      admission_.change_time = absl::FromUnixSeconds(j.value("time", int64_t{0}));
    }
  }
  auto jobs = store_->ListActiveJobs();
  if (!jobs.ok()) return jobs.status();
  if (absl::Status s = quota_.Load(*store_, *jobs, clock_->Now()); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("loading the quota state: ", s.message()));
  }
  // Pending jobs live on in QuotaBook's compact form only (Load took them); the rest here.
  size_t loaded = jobs->size();
  for (Job& job : *jobs) {
    if (job.state != JobState::kPending) active_.emplace(job.id, Slim(std::move(job)));
  }
  jobs->clear();
  jobs->shrink_to_fit();
  // Loading read every live job whole (scripts, environments): give that memory back.
  malloc_trim(0);
  spdlog::info("loaded {} live jobs ({} pending); admission {}", loaded, quota_.pending_count(),
               admission_.drained ? "drained" : "open");
  PublishStatus();
  if (options_.run_worker) worker_ = std::thread([this] { WorkerLoop(); });
  return absl::OkStatus();
}

void JobManager::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  RunTasks();  // answer whatever was posted meanwhile
}

void JobManager::Post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void JobManager::WorkerLoop() {
  using SteadyClock = std::chrono::steady_clock;
  const auto poll_every = absl::ToChronoMilliseconds(options_.poll_interval);
  const auto admit_every = absl::ToChronoMilliseconds(options_.min_admission_interval);
  const auto refresh_every = absl::ToChronoMilliseconds(options_.max_admission_interval);
  auto next_poll = SteadyClock::now();
  auto next_admit = SteadyClock::now();
  auto next_refresh = SteadyClock::now() + refresh_every;
  bool admission_due = true;  // something changed since the last admission pass
  while (true) {
    {
      std::unique_lock lock(mu_);
      auto until = admission_due ? std::min(next_poll, next_admit) : next_poll;
      cv_.wait_until(lock, until, [this] { return stopping_ || !tasks_.empty(); });
      if (stopping_) return;
    }
    admission_due |= RunTasks() > 0;
    auto now = SteadyClock::now();
    if (now >= next_poll) {
      next_poll = now + poll_every;
      const uint64_t before = changes_;
      const bool slurm_was_ok = slurm_ok_;
      Poll();
      admission_due |= changes_ != before || slurm_ok_ != slurm_was_ok;
    }
    // Budgets and fair share also change with time alone (grants start and end, usage
    // decays): a pass now and then even when nothing happened.
    if (now >= next_refresh) {
      next_refresh = now + refresh_every;
      admission_due = true;
    }
    // A pass looks at every pending job: during a burst of submissions run it at most every
    // min_admission_interval, not once per request.
    if (admission_due && now >= next_admit) {
      next_admit = now + admit_every;
      admission_due = false;
      Admit();
      PublishStatus();
    }
  }
}

void JobManager::RunOnce() {
  RunTasks();
  Poll();
  Admit();
  PublishStatus();
}

size_t JobManager::RunTasks() {
  std::deque<std::function<void()>> tasks;
  {
    std::lock_guard lock(mu_);
    tasks.swap(tasks_);
  }
  for (auto& task : tasks) task();
  return tasks.size();
}

void JobManager::Submit(Job job, store::Store::InsertCallback done) {
  // A job submitted from inside a job carries that job's runtime variables: they are not
  // this job's, and a token is never stored (SubmitToSlurm gives the job its own).
  std::erase_if(job.spec.environment, [](const std::string& e) { return IsRuntimeVariable(e); });
  Post([this, job = std::move(job), done = std::move(done)]() mutable {
    DoSubmit(std::move(job), std::move(done));
  });
}

void JobManager::DoSubmit(Job job, store::Store::InsertCallback done) {
  // A retry of a submission droccd already stored gets that job, whatever the checks below
  // would say now (the first one may be what fills the pending-job limit).
  if (!job.idempotency_key.empty()) {
    absl::StatusOr<std::optional<Job>> earlier = store_->FindJobByKey(job.uid, job.idempotency_key);
    if (!earlier.ok()) return done(earlier.status());
    if (earlier->has_value()) {
      return done(store::InsertResult{.job = **std::move(earlier), .created = false});
    }
  }
  if (absl::Status s = quota_.ResolveSubmission(job); !s.ok()) return done(s);
  absl::StatusOr<std::optional<std::string>> reject = quota_.CheckSubmission(job, clock_->Now());
  if (!reject.ok()) return done(reject.status());
  if (*reject) {
    job.state = JobState::kRejected;
    job.reason = **reject;
    job.end_time = job.submit_time;
    spdlog::info("rejecting a job of {} in project {}: {}", job.user, job.project, job.reason);
    return store_->InsertJob(std::move(job), std::move(done));
  }
  // Counted against the pending-job limit from now on, not only once stored.
  quota_.AddInFlight(job.project, job.user);
  std::pair<std::string, std::string> counted(job.project, job.user);
  std::pair<uint32_t, std::string> key(job.uid, job.idempotency_key);
  store_->InsertJob(
      std::move(job), [this, counted = std::move(counted), key = std::move(key),
                       done = std::move(done)](absl::StatusOr<store::InsertResult> result) {
        std::optional<Job> stored;
        if (result.ok() && result->created) stored = Slim(result->job);
        // An error may come with the job stored all the same (the commit reached the disk, its
        // answer did not): with a key it can be found, and it is queued whether the client
        // retries or not (a retry gets it, created=false).
        const bool look_up = !result.ok() && !key.second.empty();
        Post([this, counted, stored, look_up, key] {
          quota_.ForgetInFlight(counted.first, counted.second);
          if (stored) OnSubmitted(*stored);
          if (!look_up) return;
          absl::StatusOr<std::optional<Job>> found = store_->FindJobByKey(key.first, key.second);
          if (found.ok() && found->has_value()) {
            spdlog::warn("job {}: stored though the store answered an error; queued", (*found)->id);
            OnSubmitted(Slim(**std::move(found)));
          }
        });
        done(std::move(result));
      });
}

void JobManager::OnSubmitted(const Job& job) {
  if (job.state != JobState::kPending) return;
  quota_.AddPending(job);
}

std::vector<const Job*> JobManager::InSlurm() const {
  std::vector<const Job*> out;
  for (const auto& [id, job] : active_) {
    if (queue::IsInSlurm(job.state)) out.push_back(&job);
  }
  return out;
}

void JobManager::Estimate(Job job, EstimateCallback done) {
  Post([this, job = std::move(job), done = std::move(done)]() mutable {
    if (absl::Status s = quota_.ResolveSubmission(job); !s.ok()) return done(s);
    std::optional<std::string> blocked;
    if (admission_.drained) {
      blocked = admission_.reason.empty()
                    ? std::string("admission drained by an admin")
                    : absl::StrCat("admission drained by an admin: ", admission_.reason);
    } else if (options_.max_jobs_in_slurm != 0 && JobsInSlurm() >= options_.max_jobs_in_slurm) {
      blocked = absl::StrCat("cluster full: ", JobsInSlurm(), " of ", options_.max_jobs_in_slurm,
                             " drocc jobs in Slurm");
    }
    done(quota_.Estimate(job, InSlurm(), clock_->Now(), std::move(blocked)));
  });
}

void JobManager::ReadQuota(QuotaReader read) {
  Post([this, read = std::move(read)] { read(quota_, clock_->Now()); });
}

void JobManager::ChangeQuota(QuotaRequest request, QuotaCallback done) {
  Post([this, request = std::move(request), done = std::move(done)] {
    DoChangeQuota(request, done);
  });
}

void JobManager::DoChangeQuota(const QuotaRequest& request, const QuotaCallback& done) {
  store::AuditRecord audit = request.audit;
  if (audit.time == absl::InfinitePast()) audit.time = clock_->Now();
  absl::StatusOr<std::vector<store::QuotaChange>> changes = quota_.Prepare(request);
  absl::StatusOr<uint64_t> id = changes.ok()
                                    ? store::ApplyQuotaChangesAndWait(*store_, *changes, audit)
                                    : absl::StatusOr<uint64_t>(changes.status());
  if (!id.ok()) {
    audit.ok = false;
    absl::StrAppend(&audit.details, " -> ", id.status().ToString());
    store_->AppendAudit(std::move(audit), [](absl::Status s) {
      if (!s.ok()) spdlog::error("cannot write the audit log: {}", s.ToString());
    });
    return done(id.status());
  }
  QuotaRecord record = quota_.Commit(*changes, *id);
  spdlog::info("{} by {}: {}", audit.action, audit.user, audit.target);
  // Grants and limits change what fits: run an admission pass.
  Admit();
  PublishStatus();
  done(std::move(record));
}

void JobManager::Cancel(JobId id, std::string by, JobCallback done) {
  Post([this, id, by = std::move(by), done = std::move(done)] { DoCancel(id, by, done); });
}

void JobManager::DoCancel(JobId id, const std::string& by, const JobCallback& done) {
  absl::Time now = clock_->Now();
  if (quota_.IsPending(id)) {
    JobUpdate u{.id = id,
                .from = JobState::kPending,
                .to = JobState::kCancelled,
                .at = now,
                .reason = absl::StrCat("cancelled by ", by, " before it was admitted"),
                .end_time = now};
    if (absl::Status s = Apply(u); !s.ok()) return done(s);
    return done(store_->GetJob(id, /*with_events=*/false));
  }
  auto it = active_.find(id);
  if (it == active_.end()) {
    auto job = store_->GetJob(id, /*with_events=*/false);
    if (!job.ok()) return done(job.status());
    return done(absl::FailedPreconditionError(
        absl::StrCat("job ", id, " has already ended (", queue::JobStateName(job->state), ")")));
  }
  Job& job = it->second;
  if (job.slurm_job_id == 0) {
    return done(absl::UnavailableError(absl::StrCat(
        "job ", id, " is being handed to Slurm right now; try again in a few seconds")));
  }
  if (absl::Status s = backend_->Cancel(job.slurm_job_id); !s.ok()) return done(s);
  cancel_requested_by_[id] = by;  // names the canceller once Slurm reports CANCELLED
  JobUpdate u{.id = id,
              .from = job.state,
              .to = job.state,
              .at = now,
              .reason = absl::StrCat("cancel requested by ", by)};
  if (absl::Status s = Apply(u); !s.ok()) return done(s);
  spdlog::info("job {}: cancel requested by {} (Slurm job {})", id, by, job.slurm_job_id);
  done(store_->GetJob(id, /*with_events=*/false));
}

void JobManager::SetDrained(bool drained, std::string reason, std::string by,
                            AdmissionCallback done) {
  Post([this, drained, reason = std::move(reason), by = std::move(by), done = std::move(done)] {
    DoSetDrained(drained, reason, by, done);
  });
}

void JobManager::DoSetDrained(bool drained, const std::string& reason, const std::string& by,
                              const AdmissionCallback& done) {
  absl::Time now = clock_->Now();
  nlohmann::json j = {
      {"drained", drained}, {"reason", reason}, {"by", by}, {"time", absl::ToUnixSeconds(now)}};
  absl::Status s = store::PutSettingAndWait(*store_, kDrainSetting, j.dump());
  if (!s.ok()) return done(s);
  admission_.drained = drained;
  admission_.reason = reason;
  admission_.changed_by = by;
  admission_.change_time = now;
  spdlog::info("admission {} by {}{}", drained ? "drained" : "resumed", by,
               reason.empty() ? "" : absl::StrCat(": ", reason));
  Admit();  // resuming admits at once; draining refreshes the pending reasons
  PublishStatus();
  done(admission_status());
}

absl::Status JobManager::Apply(const JobUpdate& u) {
  absl::Status s = store::UpdateJobAndWait(*store_, u);
  auto it = active_.find(u.id);
  if (!s.ok()) {
    // The store is the truth. It may hold the transition though it answered an error (the
    // commit reached the disk, its answer did not): then it is done, and memory follows.
    auto stored = store_->GetJob(u.id, /*with_events=*/true);
    if (stored.ok() && HoldsTransition(*stored, u)) {
      spdlog::warn("job {}: the store answered {} recording {} -> {}, but holds it; going on", u.id,
                   s.ToString(), queue::JobStateName(u.from), queue::JobStateName(u.to));
      s = absl::OkStatus();
    }
  }
  if (!s.ok()) {
    spdlog::error("job {}: cannot record {} -> {}: {}", u.id, queue::JobStateName(u.from),
                  queue::JobStateName(u.to), s.ToString());
    // The ledger goes back to what the store holds (a settlement it did not record is
    // undone, and made again by the next attempt); so does the job.
    quota_.RollBack(u.id);
    auto stored = store_->GetJob(u.id, false);
    if (stored.ok() && it != active_.end()) {
      if (queue::IsTerminal(stored->state)) {
        active_.erase(it);
      } else {
        it->second = Slim(*std::move(stored));
      }
    }
    return s;
  }
  ++changes_;
  if (u.from != u.to) {
    spdlog::info("job {}: {} -> {}{}", u.id, queue::JobStateName(u.from), queue::JobStateName(u.to),
                 u.reason.empty() ? "" : absl::StrCat(" (", u.reason, ")"));
  }
  if (u.from == JobState::kPending && u.to != JobState::kPending) {
    pending_reason_.erase(u.id);
    quota_.RemovePending(u.id);
  }
  quota_.Commit(u.id);
  if (it == active_.end()) return absl::OkStatus();
  queue::Job& job = it->second;
  if (absl::Status a = queue::ApplyUpdate(u, job); !a.ok()) return a;
  if (queue::IsTerminal(u.to)) active_.erase(it);
  return absl::OkStatus();
}

uint32_t JobManager::JobsInSlurm() const {
  uint32_t n = 0;
  for (const auto& [id, job] : active_) n += queue::IsInSlurm(job.state) ? 1 : 0;
  return n;
}

bool JobManager::Ours(const slurm::BackendJob& b) const {
  return b.instance == options_.instance || (b.instance.empty() && options_.adopt_untagged);
}

void JobManager::SlurmDown(const absl::Status& error, absl::Time now) {
  if (slurm_ok_) {
    spdlog::warn("cannot reach Slurm: {}; jobs wait in drocc's queue until it answers again",
                 error.message());
    slurm_down_since_ = now;
    retry_after_ = options_.poll_interval;
  } else {
    retry_after_ = std::min(retry_after_ * 2, options_.max_retry_interval);
    spdlog::debug("Slurm still unreachable: {}; asking again in {}", error.message(),
                  absl::FormatDuration(retry_after_));
  }
  slurm_ok_ = false;
  slurm_error_ = std::string(error.message());
  next_try_ = now + retry_after_;
  reconcile_due_ = true;  // whatever happened meanwhile, compare everything once it is back
}

void JobManager::SlurmUp() {
  if (slurm_ok_) return;
  spdlog::info("Slurm answers again (unreachable since {})",
               absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", slurm_down_since_, absl::UTCTimeZone()));
  slurm_ok_ = true;
  slurm_error_.clear();
  slurm_down_since_ = absl::InfinitePast();
}

void JobManager::Poll() {
  absl::Time now = clock_->Now();
  if (!slurm_ok_ && now < next_try_) return;  // backing off while Slurm is down
  const bool reconcile = reconcile_due_ || now >= last_reconcile_ + options_.reconcile_interval;
  const bool any_in_slurm = std::any_of(active_.begin(), active_.end(), [](const auto& entry) {
    return queue::IsInSlurm(entry.second.state);
  });
  if (!any_in_slurm && !reconcile && slurm_ok_) return;
  auto listed = backend_->ListJobs();
  if (!listed.ok()) {
    SlurmDown(listed.status(), now);
    return;
  }
  SlurmUp();
  if (reconcile) Reconcile(*listed, now);

  // Copy the ids: Apply() erases ended jobs from active_.
  std::vector<JobId> ids;
  for (const auto& [id, job] : active_) {
    if (queue::IsInSlurm(job.state)) ids.push_back(id);
  }
  std::multimap<JobId, const slurm::BackendJob*> by_drocc_id;
  for (const slurm::BackendJob& b : *listed) by_drocc_id.emplace(b.drocc_id, &b);

  for (JobId id : ids) {
    Job& job = active_.at(id);
    auto [lo, hi] = by_drocc_id.equal_range(id);
    const slurm::BackendJob* found = nullptr;
    for (auto i = lo; i != hi; ++i) {
      // Followed: by its Slurm id. Not yet (droccd died before recording it): by the drocc id
      // in an instance tag that says it is ours; a live record before an ended one.
      const slurm::BackendJob& b = *i->second;
      if (job.slurm_job_id != 0
              ? b.slurm_job_id == job.slurm_job_id
              : Ours(b) && (found == nullptr ||
                            (queue::IsTerminal(found->state) && !queue::IsTerminal(b.state)))) {
        found = &b;
      }
    }
    if (job.slurm_job_id == 0) {
      if (found != nullptr) {
        spdlog::info("job {}: adopting Slurm job {} (handed over before droccd stopped)", id,
                     found->slurm_job_id);
        Apply({.id = id,
               .from = job.state,
               .to = job.state,
               .at = now,
               .reason = "adopted after a restart",
               .slurm_job_id = found->slurm_job_id})
            .IgnoreError();
      } else {
        SubmitToSlurm(job);
        continue;
      }
    }
    if (found == nullptr) {
      JobUpdate lost{.id = id,
                     .from = job.state,
                     .to = JobState::kLost,
                     .at = now,
                     .reason = absl::StrCat("Slurm no longer knows job ", job.slurm_job_id,
                                            ": it ended while droccd was not watching, or "
                                            "slurmctld lost its state"),
                     .end_time = now};
      quota_.Settle(job, nullptr, lost, now);
      Apply(lost).IgnoreError();
      continue;
    }
    const slurm::BackendJob& b = *found;
    JobState to = b.state;
    if (job.state == JobState::kRunning && to != JobState::kRequeued &&
        job.start_time != absl::InfinitePast() && b.start_time != absl::InfinitePast() &&
        b.start_time != job.start_time) {
      // Slurm requeued the job and ran it again between two polls (or while droccd was
      // down): the run droccd saw ended at the latest when the new one started.
      if (!ApplyRequeue(job, b, b.start_time, "requeued by Slurm (seen once it ran again)", now)
               .ok()) {
        continue;
      }
    }
    bool changed = to != job.state || b.nodes != job.nodes ||
                   (b.start_time != absl::InfinitePast() && b.start_time != job.start_time);
    if (!changed && to == JobState::kAdmitted) {
      std::string reason = SlurmReason(b, to);
      changed = reason != job.reason;
    }
    if (!changed) continue;
    if (to == JobState::kRequeued && job.state == JobState::kRunning) {
      ApplyRequeue(job, b, b.end_time != absl::InfinitePast() ? b.end_time : now,
                   SlurmReason(b, to), now)
          .IgnoreError();
      continue;
    }
    JobUpdate u{.id = id, .from = job.state, .to = to, .at = now, .reason = SlurmReason(b, to)};
    if (!b.nodes.empty()) u.nodes = b.nodes;
    if (b.start_time != absl::InfinitePast() && to != JobState::kRequeued) {
      u.start_time = b.start_time;
    }
    if (queue::IsTerminal(to)) {
      u.end_time = b.end_time != absl::InfinitePast() ? b.end_time : now;
      u.exit_code = b.exit_code;
      if (u.reason.empty()) {
        u.reason =
            to == JobState::kCompleted ? "" : absl::StrCat("Slurm: ", queue::JobStateName(to));
      }
      auto by = cancel_requested_by_.find(id);
      if (by != cancel_requested_by_.end()) {
        if (to == JobState::kCancelled) u.reason = absl::StrCat("cancelled by ", by->second);
        cancel_requested_by_.erase(by);
      }
    }
    if (to == JobState::kRequeued && job.state != JobState::kRequeued)
      u.increment_requeue_count = true;
    if (absl::Status s = queue::CheckTransition(job.state, to); !s.ok()) {
      spdlog::error("job {}: Slurm reports {} while drocc has {}; ignored", id,
                    queue::JobStateName(to), queue::JobStateName(job.state));
      continue;
    }
    if (queue::IsTerminal(to)) quota_.Settle(job, &b, u, now);
    Apply(u).IgnoreError();
  }
}

void JobManager::Reconcile(const std::vector<slurm::BackendJob>& listed, absl::Time now) {
  reconcile_due_ = false;
  last_reconcile_ = now;
  std::set<uint64_t> followed;
  for (const auto& [id, job] : active_) {
    if (job.slurm_job_id != 0) followed.insert(job.slurm_job_id);
  }
  // Slurm's records of our jobs that droccd does not follow, by drocc id.
  std::map<JobId, std::vector<const slurm::BackendJob*>> strays;
  std::set<uint64_t> still_listed;
  for (const slurm::BackendJob& b : listed) {
    still_listed.insert(b.slurm_job_id);
    if (!followed.contains(b.slurm_job_id) && Ours(b)) strays[b.drocc_id].push_back(&b);
  }
  std::erase_if(reported_strays_, [&](uint64_t id) { return !still_listed.contains(id); });
  auto live = [](const slurm::BackendJob* b) { return !queue::IsTerminal(b->state); };
  size_t adopted = 0;
  for (const auto& [id, records] : strays) {
    if (auto it = active_.find(id); it != active_.end()) {
      if (it->second.slurm_job_id == 0) continue;  // the poll adopts one of them
      // A second live Slurm job for a job droccd follows (never made by droccd itself: it
      // records each hand-over before the next): it must not run twice.
      for (const slurm::BackendJob* b : records) {
        if (!live(b) || !reported_strays_.insert(b->slurm_job_id).second) continue;
        spdlog::error(
            "job {}: Slurm also has job {} for it, besides job {} that droccd follows; "
            "cancelling job {} so that it does not run twice",
            id, b->slurm_job_id, it->second.slurm_job_id, b->slurm_job_id);
        if (absl::Status s = backend_->Cancel(b->slurm_job_id); !s.ok()) {
          spdlog::error("cannot cancel Slurm job {}: {}", b->slurm_job_id, s.message());
          reported_strays_.erase(b->slurm_job_id);  // try again next time
        }
      }
      continue;
    }
    if (quota_.IsPending(id)) {
      // Handed to Slurm by a droccd whose record of it was lost (a database restored from a
      // backup): adopt it, the newest live record first, and never submit it again.
      const slurm::BackendJob* pick = nullptr;
      for (const slurm::BackendJob* b : records) {
        if (pick == nullptr || live(b) > live(pick) ||
            (live(b) == live(pick) && b->slurm_job_id > pick->slurm_job_id)) {
          pick = b;
        }
      }
      absl::StatusOr<Job> full = store_->GetJob(id, /*with_events=*/false);
      if (!full.ok() || full->state != JobState::kPending) {
        spdlog::error("job {}: found in Slurm as job {} but cannot be read as PENDING: {}", id,
                      pick->slurm_job_id,
                      full.ok() ? queue::JobStateName(full->state) : full.status().ToString());
        continue;
      }
      JobUpdate u{
          .id = id,
          .from = JobState::kPending,
          .to = JobState::kAdmitted,
          .at = now,
          .reason = absl::StrCat("adopted: Slurm already had it as job ", pick->slurm_job_id,
                                 " (droccd had lost its record of the hand-over)"),
          .slurm_job_id = pick->slurm_job_id,
          .admit_time = now,
          .reserved = quota_.ReserveAdopted(*full, now)};
      if (RecordAdmitted(*full, u) != nullptr) ++adopted;
      continue;
    }
    // Ended in droccd's record, or unknown to it: droccd neither follows nor charges it.
    for (const slurm::BackendJob* b : records) {
      if (!live(b) || !reported_strays_.insert(b->slurm_job_id).second) continue;
      absl::StatusOr<Job> stored = store_->GetJob(id, /*with_events=*/false);
      spdlog::error(
          "Slurm job {} carries drocc job {}, which droccd has {}; droccd neither follows nor "
          "charges it: cancel it (scancel {}) unless it should run",
          b->slurm_job_id, id,
          stored.ok() ? absl::StrCat("as ", queue::JobStateName(stored->state)) : "no record of",
          b->slurm_job_id);
    }
  }
  if (adopted > 0) spdlog::info("reconciliation adopted {} jobs Slurm already had", adopted);
}

absl::Status JobManager::ApplyRequeue(Job& job, const slurm::BackendJob& b, absl::Time run_end,
                                      std::string reason, absl::Time now) {
  if (auto asked = requeue_requested_.find(job.id); asked != requeue_requested_.end()) {
    reason = absl::StrCat("requeued at the job's request: ", asked->second);
    requeue_requested_.erase(asked);
  }
  JobUpdate u{.id = job.id,
              .from = job.state,
              .to = JobState::kRequeued,
              .at = now,
              .reason = std::move(reason),
              .increment_requeue_count = true};
  u.nodes = "";
  quota_.SettleRequeued(job, &b, run_end, u, now);
  return Apply(u);
}

void JobManager::RequestRequeue(JobId id, std::string why, std::function<void(absl::Status)> done) {
  Post([this, id, why = std::move(why), done = std::move(done)] {
    done(DoRequestRequeue(id, why));
  });
}

absl::Status JobManager::DoRequestRequeue(JobId id, const std::string& why) {
  auto it = active_.find(id);
  if (it == active_.end() || it->second.state != JobState::kRunning ||
      it->second.slurm_job_id == 0) {
    absl::StatusOr<Job> stored = store_->GetJob(id, false);
    const std::string state = it != active_.end()
                                  ? std::string(queue::JobStateName(it->second.state))
                              : stored.ok() ? std::string(queue::JobStateName(stored->state))
                                            : "unknown";
    return absl::FailedPreconditionError(absl::StrCat("job ", id, " is ", state,
                                                      ", not RUNNING: only a running job can be "
                                                      "requeued"));
  }
  RETURN_IF_ERROR(backend_->Requeue(it->second.slurm_job_id));
  spdlog::info("job {}: Slurm job {} requeued at the job's request ({})", id,
               it->second.slurm_job_id, why);
  requeue_requested_[id] = why;
  return absl::OkStatus();
}

void JobManager::SubmitToSlurm(Job& slim, const Job* loaded) {
  JobId id = slim.id;
  absl::StatusOr<Job> full =
      loaded != nullptr ? absl::StatusOr<Job>(*loaded) : store_->GetJob(id, /*with_events=*/false);
  if (!full.ok()) {
    spdlog::error("job {}: cannot load it to hand it to Slurm: {}", id, full.status().ToString());
    return;
  }
  absl::Time now = clock_->Now();
  if (options_.job_tokens != nullptr) {
    // What libdrocc-runtime needs to report to droccd; never inherited from the submitter
    // (a job may submit jobs).
    std::vector<std::string>& env = full->spec.environment;
    std::erase_if(env, [](const std::string& e) { return IsRuntimeVariable(e); });
    env.push_back(absl::StrCat(kJobIdVar, "=", id));
    env.push_back(absl::StrCat(kJobTokenVar, "=", options_.job_tokens->TokenFor(id)));
    if (!options_.runtime_server.empty()) {
      env.push_back(absl::StrCat(kServerVar, "=", options_.runtime_server));
    }
  }
  auto slurm_id = backend_->Submit(*full);
  if (slurm_id.ok()) {
    spdlog::info("job {}: submitted to Slurm as job {} for {}", id, *slurm_id, full->user);
    Apply({.id = id,
           .from = slim.state,
           .to = slim.state,
           .at = now,
           .reason = "waiting in Slurm's queue",
           .slurm_job_id = *slurm_id})
        .IgnoreError();
    return;
  }
  if (absl::IsUnavailable(slurm_id.status()) || absl::IsDeadlineExceeded(slurm_id.status())) {
    // Slurm may or may not have the job: the next poll looks it up by its comment.
    SlurmDown(slurm_id.status(), now);
    spdlog::warn("job {}: Slurm unreachable, will look again: {}", id, slurm_error_);
    Apply({.id = id,
           .from = slim.state,
           .to = slim.state,
           .at = now,
           .reason = absl::StrCat("Slurm unreachable, retrying: ", slurm_error_)})
        .IgnoreError();
    return;
  }
  JobUpdate u{.id = id,
              .from = slim.state,
              .to = JobState::kRejected,
              .at = now,
              .reason = absl::StrCat("Slurm refused the job: ", slurm_id.status().message()),
              .end_time = now};
  quota_.Settle(slim, nullptr, u, now);  // never ran: releases the reservation
  Apply(u).IgnoreError();
}

Job* JobManager::RecordAdmitted(Job& full, const JobUpdate& u) {
  if (!Apply(u).ok()) {
    quota_.Release(u.id);
    return nullptr;
  }
  if (!queue::ApplyUpdate(u, full).ok()) return nullptr;
  return &active_.emplace(u.id, Slim(full)).first->second;
}

void JobManager::Admit() {
  // Nothing goes to Slurm before droccd compared its store with Slurm (at start-up, after an
  // outage): a pending job Slurm already has is adopted then, not submitted again.
  if (reconcile_due_ && slurm_ok_) return;
  absl::Time now = clock_->Now();
  queue::AdmissionPlan plan =
      quota_.Plan(InSlurm(), options_.max_jobs_in_slurm, admission_.drained, admission_.reason, now,
                  SlurmOutageText({.slurm_reachable = slurm_ok_,
                                   .slurm_error = slurm_error_,
                                   .slurm_down_since = slurm_down_since_}));
  for (JobId id : plan.admit) {
    if (!slurm_ok_) break;  // wait for the next successful poll
    // Pending jobs are kept compact; the admitted one is read whole (Slurm needs it).
    absl::StatusOr<Job> full = store_->GetJob(id, /*with_events=*/false);
    if (!full.ok() || full->state != JobState::kPending) {
      spdlog::error("job {}: admitted but cannot be read as PENDING: {}", id,
                    full.ok() ? queue::JobStateName(full->state) : full.status().ToString());
      quota_.RemovePending(id);
      continue;
    }
    // Escrow first, durably with the transition: a restart finds the reservation.
    absl::StatusOr<queue::AmountMap> reserved = quota_.Reserve(*full, now);
    if (!reserved.ok()) {
      spdlog::error("job {}: admitted but cannot reserve: {}", id, reserved.status().message());
      continue;
    }
    JobUpdate u{.id = id,
                .from = JobState::kPending,
                .to = JobState::kAdmitted,
                .at = now,
                .reason = "handing to Slurm",
                .admit_time = now,
                .reserved = *reserved};
    if (Job* admitted = RecordAdmitted(*full, u)) SubmitToSlurm(*admitted, &*full);
  }
  // Reasons of waiting jobs go to the store without waiting for each commit: after a burst
  // of submissions they share group commits, and the store's single writer keeps them in
  // order with any later update of the same job.
  for (const auto& [id, reason] : plan.wait) {
    if (!quota_.IsPending(id)) continue;
    // Only a hash of the last stored reason is kept: 100,000 waiting jobs share few texts.
    const size_t hash = std::hash<std::string>()(reason);
    auto [last, inserted] = pending_reason_.try_emplace(id, hash);
    if (!inserted && last->second == hash) continue;
    last->second = hash;
    JobUpdate u{.id = id,
                .from = JobState::kPending,
                .to = JobState::kPending,
                .at = now,
                .reason = reason};
    store_->UpdateJob(std::move(u), [this, id](absl::Status s) {
      if (s.ok()) return;
      spdlog::warn("job {}: cannot store its pending reason: {}", id, s.message());
      // Not stored: the next pass writes it again.
      Post([this, id] { pending_reason_.erase(id); });
    });
  }
}

void JobManager::PublishStatus() {
  AdmissionStatus s = admission_;
  s.jobs_in_slurm = JobsInSlurm();
  s.max_jobs_in_slurm = options_.max_jobs_in_slurm;
  s.pending_jobs = static_cast<uint32_t>(quota_.pending_count());
  s.slurm_reachable = slurm_ok_;
  s.slurm_error = slurm_error_;
  s.slurm_down_since = slurm_down_since_;
  s.last_reconcile = last_reconcile_;
  slurm_reachable_.store(slurm_ok_, std::memory_order_relaxed);
  std::lock_guard lock(status_mu_);
  published_ = std::move(s);
}

AdmissionStatus JobManager::admission_status() const {
  std::lock_guard lock(status_mu_);
  return published_;
}

}  // namespace drocc::manager
