#pragma once

// The durable store of droccd. Writes are asynchronous so that a group of concurrent writes
// shares one commit (and one fsync); a write's callback runs only once it is durable.
// Reads are synchronous and see every write whose callback has run.
// Implementations: SqliteStore (production), InMemoryStore (tests); thread-safe.
//
// Callbacks run exactly once: on a store thread once durable (SqliteStore, in the order the
// writes were made), or inline before the call returns (InMemoryStore). Either way a callback
// must not block, and may not wait on this store (the *AndWait helpers).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/queue/job.h"

namespace drocc::store {

struct InsertResult {
  queue::Job job;
  bool created = true;  // false: an earlier job with the same (uid, idempotency key)
};

struct JobFilter {
  std::optional<uint32_t> uid;          // only this user's jobs
  std::vector<queue::JobState> states;  // empty: any
  std::string project;                  // empty: any
  queue::JobId before_id = 0;           // paging: only ids below this; 0: from the newest
  uint32_t limit = 100;                 // 0: no limit
};

class Store {
 public:
  using InsertCallback = std::function<void(absl::StatusOr<InsertResult>)>;
  using DoneCallback = std::function<void(absl::Status)>;

  virtual ~Store() = default;

  // Stores a new job as given (normally PENDING): assigns job.id (from 1, never reused) and
  // records its first event (job.state, job.submit_time, job.reason). If job.idempotency_key
  // is not empty and this uid already has a job with that key, stores nothing and answers
  // that job with created=false. Answers the stored job without events. `done` runs once
  // durable, on a store thread: it must not block.
  virtual void InsertJob(queue::Job job, InsertCallback done) = 0;

  // Applies `u` atomically if the job is still in u.from (see queue::JobUpdate):
  // NOT_FOUND for an unknown id, FAILED_PRECONDITION if the state moved on or the
  // transition is not allowed.
  virtual void UpdateJob(queue::JobUpdate u, DoneCallback done) = 0;

  // Stores a daemon setting (e.g. whether admission is drained).
  virtual void PutSetting(std::string key, std::string value, DoneCallback done) = 0;

  // NOT_FOUND for an unknown id. Events are filled in when with_events.
  virtual absl::StatusOr<queue::Job> GetJob(queue::JobId id, bool with_events) = 0;
  // Newest first; spec.script left empty to keep listings small.
  virtual absl::StatusOr<std::vector<queue::Job>> ListJobs(const JobFilter& filter) = 0;
  // Every job not in a terminal state, oldest first, with its spec.
  virtual absl::StatusOr<std::vector<queue::Job>> ListActiveJobs() = 0;
  // nullopt when never set.
  virtual absl::StatusOr<std::optional<std::string>> GetSetting(const std::string& key) = 0;
};

// Blocking forms of the writes, for callers that may wait (start-up, the manager's worker,
// tests). Never call them from a gRPC handler, nor from a store callback (it would wait for
// its own thread).
absl::StatusOr<InsertResult> InsertJobAndWait(Store& store, queue::Job job);
absl::Status UpdateJobAndWait(Store& store, queue::JobUpdate u);
absl::Status PutSettingAndWait(Store& store, std::string key, std::string value);

}  // namespace drocc::store
