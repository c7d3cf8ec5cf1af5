#include "daemon/store/in_memory_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace drocc::store {
namespace {

absl::Status NotFound(queue::JobId id) {
  return absl::NotFoundError(absl::StrCat("job ", id, " does not exist"));
}

// What a listing or an insert answers: events, checkpoints and progress only come from
// GetJob.
queue::Job WithoutEvents(const queue::Job& stored) {
  queue::Job job = stored;
  job.events.clear();
  job.checkpoints.clear();
  job.progress.clear();
  return job;
}

// Store::PutProgress on a job's list, in place.
void PutProgressRecord(std::vector<queue::ProgressRecord>& list, queue::ProgressRecord p) {
  auto same = std::find_if(list.begin(), list.end(),
                           [&](const queue::ProgressRecord& r) { return r.phase == p.phase; });
  if (same != list.end()) {
    *same = std::move(p);
    return;
  }
  list.push_back(std::move(p));
  while (list.size() > queue::kMaxProgressPhases) {
    // The oldest report other than the new one; min_element keeps the first of equal times.
    list.erase(std::min_element(list.begin(), list.end() - 1,
                                [](const queue::ProgressRecord& a, const queue::ProgressRecord& b) {
                                  return a.time < b.time;
                                }));
  }
}

}  // namespace

absl::StatusOr<InsertResult> InMemoryStore::Insert(queue::Job job) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!job.idempotency_key.empty()) {
    auto it = by_key_.find({job.uid, job.idempotency_key});
    if (it != by_key_.end()) return InsertResult{WithoutEvents(jobs_.at(it->second)), false};
    by_key_[{job.uid, job.idempotency_key}] = next_id_;
  }
  job.id = next_id_++;
  job.events = {{job.state, job.submit_time, job.reason}};
  InsertResult result{WithoutEvents(job), true};
  jobs_[job.id] = std::move(job);
  return result;
}

void InMemoryStore::InsertJob(queue::Job job, InsertCallback done) { done(Insert(std::move(job))); }

absl::Status InMemoryStore::Update(const queue::JobUpdate& u) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(u.id);
  if (it == jobs_.end()) return NotFound(u.id);
  // On a copy, so that a refused update changes nothing.
  queue::Job job = it->second;
  if (absl::Status s = queue::ApplyUpdate(u, job); !s.ok()) return s;
  // ApplyUpdate allowed charges only with the transition (to an end state or REQUEUED) this
  // update won.
  for (const queue::ChargeRecord& c : u.charges) {
    charges_.push_back({job.id, c, job.project, job.user, u.end_time.value_or(u.at)});
  }
  it->second = std::move(job);
  return absl::OkStatus();
}

void InMemoryStore::UpdateJob(queue::JobUpdate u, DoneCallback done) { done(Update(u)); }

void InMemoryStore::PutSetting(std::string key, std::string value, DoneCallback done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    settings_[std::move(key)] = std::move(value);
  }
  done(absl::OkStatus());
}

absl::Status InMemoryStore::ChangeJob(queue::JobId id,
                                      const std::function<void(queue::Job&)>& change) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return NotFound(id);
  change(it->second);
  return absl::OkStatus();
}

void InMemoryStore::AppendCheckpoint(queue::JobId id, queue::CheckpointRecord checkpoint,
                                     DoneCallback done) {
  done(ChangeJob(id, [&](queue::Job& job) {
    std::vector<queue::CheckpointRecord>& list = job.checkpoints;
    list.push_back(std::move(checkpoint));
    if (list.size() > queue::kMaxCheckpointsKept) {
      list.erase(list.begin(), list.end() - queue::kMaxCheckpointsKept);
    }
  }));
}

void InMemoryStore::PutProgress(queue::JobId id, queue::ProgressRecord progress,
                                DoneCallback done) {
  done(ChangeJob(id,
                 [&](queue::Job& job) { PutProgressRecord(job.progress, std::move(progress)); }));
}

absl::StatusOr<queue::Job> InMemoryStore::GetJob(queue::JobId id, bool with_events) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return NotFound(id);
  return with_events ? it->second : WithoutEvents(it->second);
}

absl::StatusOr<std::optional<queue::Job>> InMemoryStore::FindJobByKey(uint32_t uid,
                                                                      const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (key.empty()) return std::nullopt;
  auto it = by_key_.find({uid, key});
  if (it == by_key_.end()) return std::nullopt;
  return WithoutEvents(jobs_.at(it->second));
}

absl::StatusOr<std::vector<queue::Job>> InMemoryStore::ListJobs(const JobFilter& filter) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<queue::Job> jobs;
  auto end = filter.before_id == 0 ? jobs_.end() : jobs_.lower_bound(filter.before_id);
  for (auto it = std::make_reverse_iterator(end); it != jobs_.rend(); ++it) {
    if (filter.limit != 0 && jobs.size() >= filter.limit) break;
    const queue::Job& job = it->second;
    if (filter.uid && job.uid != *filter.uid) continue;
    if (!filter.project.empty() && job.project != filter.project) continue;
    if (!filter.states.empty() &&
        std::find(filter.states.begin(), filter.states.end(), job.state) == filter.states.end()) {
      continue;
    }
    jobs.push_back(WithoutEvents(job));
    jobs.back().spec.script.clear();
  }
  return jobs;
}

absl::StatusOr<std::vector<queue::Job>> InMemoryStore::ListActiveJobs() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<queue::Job> jobs;
  for (const auto& [id, job] : jobs_) {
    if (!queue::IsTerminal(job.state)) jobs.push_back(WithoutEvents(job));
  }
  return jobs;
}

absl::StatusOr<std::optional<std::string>> InMemoryStore::GetSetting(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = settings_.find(key);
  if (it == settings_.end()) return std::nullopt;
  return it->second;
}

}  // namespace drocc::store
