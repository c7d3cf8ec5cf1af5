#include "daemon/slurm/fake_backend.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace drocc::slurm {
namespace {

using queue::JobState;

absl::Status Unavailable() {
  return absl::UnavailableError(
      "Slurm controller unreachable (fake backend set unavailable); droccd retries later");
}

bool IsWaiting(JobState s) { return s == JobState::kAdmitted || s == JobState::kRequeued; }
bool IsLive(JobState s) { return IsWaiting(s) || s == JobState::kRunning; }

absl::Status NotFound(uint64_t slurm_id) {
  return absl::NotFoundError(absl::StrCat("fake Slurm has no job ", slurm_id));
}

}  // namespace

FakeBackend::FakeBackend(const Clock* clock, uint64_t first_slurm_id)
    : clock_(clock), next_id_(first_slurm_id) {}

absl::StatusOr<uint64_t> FakeBackend::Submit(const queue::Job& job) {
  std::lock_guard<std::mutex> lock(mu_);
  ++submit_calls_;
  if (unavailable_) return Unavailable();
  if (fail_next_submit_) {
    absl::Status s = std::move(*fail_next_submit_);
    fail_next_submit_.reset();
    return s;
  }
  BackendJob b;
  b.slurm_job_id = next_id_++;
  b.drocc_id = job.id;
  b.instance = instance_;
  b.uid = job.uid;
  b.state = JobState::kAdmitted;
  b.reason = "Priority";
  jobs_[b.slurm_job_id] = b;
  submitted_.push_back(job);
  return b.slurm_job_id;
}

absl::StatusOr<std::vector<BackendJob>> FakeBackend::ListJobs() {
  std::lock_guard<std::mutex> lock(mu_);
  ++list_calls_;
  if (unavailable_) return Unavailable();
  std::vector<BackendJob> out;
  out.reserve(jobs_.size());
  for (const auto& [id, job] : jobs_) {
    if (job.instance.empty() || job.instance == instance_) out.push_back(job);
  }
  return out;
}

void FakeBackend::SetInstance(std::string instance) {
  std::lock_guard<std::mutex> lock(mu_);
  instance_ = std::move(instance);
}

uint64_t FakeBackend::Inject(BackendJob job) {
  std::lock_guard<std::mutex> lock(mu_);
  job.slurm_job_id = next_id_++;
  jobs_[job.slurm_job_id] = job;
  return job.slurm_job_id;
}

absl::Status FakeBackend::Cancel(uint64_t slurm_job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  ++cancel_calls_;
  if (unavailable_) return Unavailable();
  cancel_requests_.push_back(slurm_job_id);
  auto it = jobs_.find(slurm_job_id);
  if (it == jobs_.end() || !IsLive(it->second.state)) return absl::OkStatus();
  BackendJob& b = it->second;
  b.exit_code = 0;  // what Slurm 22.05 records for a batch job killed by slurm_kill_job
  b.state = JobState::kCancelled;
  b.end_time = clock_->Now();
  b.reason = "cancelled by droccd";
  return absl::OkStatus();
}

BackendJob* FakeBackend::FindLocked(uint64_t slurm_id) {
  auto it = jobs_.find(slurm_id);
  return it == jobs_.end() ? nullptr : &it->second;
}

absl::Status FakeBackend::Start(uint64_t slurm_id, std::string nodes, uint32_t alloc_nodes,
                                uint32_t alloc_cpus, uint32_t alloc_gpus) {
  std::lock_guard<std::mutex> lock(mu_);
  BackendJob* b = FindLocked(slurm_id);
  if (b == nullptr) return NotFound(slurm_id);
  if (!IsWaiting(b->state)) {
    return absl::FailedPreconditionError(absl::StrCat("fake Slurm job ", slurm_id, " is ",
                                                      queue::JobStateName(b->state),
                                                      ", not waiting: it cannot start"));
  }
  b->state = JobState::kRunning;
  b->nodes = std::move(nodes);
  b->alloc_nodes = alloc_nodes;
  b->alloc_cpus = alloc_cpus;
  b->alloc_gpus = alloc_gpus;
  b->start_time = clock_->Now();
  b->end_time = absl::InfinitePast();
  b->exit_code.reset();
  b->reason.clear();
  return absl::OkStatus();
}

absl::Status FakeBackend::Finish(uint64_t slurm_id, JobState end, int exit_code,
                                 std::string reason) {
  if (end != JobState::kCompleted && end != JobState::kFailed && end != JobState::kCancelled &&
      end != JobState::kTimeout) {
    return absl::InvalidArgumentError(
        absl::StrCat("a Slurm job cannot end as ", queue::JobStateName(end),
                     "; use COMPLETED, FAILED, CANCELLED or TIMEOUT"));
  }
  std::lock_guard<std::mutex> lock(mu_);
  BackendJob* b = FindLocked(slurm_id);
  if (b == nullptr) return NotFound(slurm_id);
  if (!IsLive(b->state)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "fake Slurm job ", slurm_id, " already ended as ", queue::JobStateName(b->state)));
  }
  b->state = end;
  b->exit_code = exit_code;
  b->end_time = clock_->Now();
  b->reason = std::move(reason);
  return absl::OkStatus();
}

absl::Status FakeBackend::Requeue(uint64_t slurm_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (unavailable_) return Unavailable();
  BackendJob* b = FindLocked(slurm_id);
  if (b == nullptr) return NotFound(slurm_id);
  if (b->state != JobState::kRunning) {
    return absl::FailedPreconditionError(absl::StrCat("fake Slurm job ", slurm_id, " is ",
                                                      queue::JobStateName(b->state),
                                                      ", not running: it cannot be requeued"));
  }
  b->state = JobState::kRequeued;
  b->nodes.clear();
  b->start_time = absl::InfinitePast();
  b->reason = "BeginTime";
  return absl::OkStatus();
}

void FakeBackend::FailNextSubmit(absl::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_next_submit_ = std::move(status);
}

void FakeBackend::SetUnavailable(bool unavailable) {
  std::lock_guard<std::mutex> lock(mu_);
  unavailable_ = unavailable;
}

bool FakeBackend::Forget(uint64_t slurm_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.erase(slurm_id) > 0;
}

std::vector<queue::Job> FakeBackend::submitted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return submitted_;
}

std::optional<BackendJob> FakeBackend::Get(uint64_t slurm_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(slurm_id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint64_t> FakeBackend::SlurmIdOf(queue::JobId drocc_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, job] : jobs_) {
    if (job.drocc_id == drocc_id) return id;
  }
  return std::nullopt;
}

std::vector<uint64_t> FakeBackend::cancel_requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancel_requests_;
}

size_t FakeBackend::submit_calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return submit_calls_;
}

size_t FakeBackend::list_calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return list_calls_;
}

size_t FakeBackend::cancel_calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancel_calls_;
}

size_t FakeBackend::live_jobs() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [id, job] : jobs_) n += IsLive(job.state) ? 1 : 0;
  return n;
}

}  // namespace drocc::slurm
