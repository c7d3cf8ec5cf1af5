#pragma once

// InMemoryStore: a Store in a few maps, for fast tests of the components above the store.
// Same semantics as SqliteStore (ids from 1, idempotency per (uid, key), compare-and-set
// updates through queue::ApplyUpdate, events, filters, newest-first paging, no script in
// listings), nothing durable.
//
// Thread-safe. Callbacks run inline, on the caller's thread, before the write call returns
// and with no lock held (so a callback may call the store again).

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "daemon/store/store.h"

namespace drocc::store {

class InMemoryStore final : public Store {
 public:
  InMemoryStore() = default;
  InMemoryStore(const InMemoryStore&) = delete;
  InMemoryStore& operator=(const InMemoryStore&) = delete;

  void InsertJob(queue::Job job, InsertCallback done) override;
  void UpdateJob(queue::JobUpdate u, DoneCallback done) override;
  void PutSetting(std::string key, std::string value, DoneCallback done) override;

  absl::StatusOr<queue::Job> GetJob(queue::JobId id, bool with_events) override;
  absl::StatusOr<std::vector<queue::Job>> ListJobs(const JobFilter& filter) override;
  absl::StatusOr<std::vector<queue::Job>> ListActiveJobs() override;
  absl::StatusOr<std::optional<std::string>> GetSetting(const std::string& key) override;

 private:
  absl::StatusOr<InsertResult> Insert(queue::Job job);
  absl::Status Update(const queue::JobUpdate& u);

  std::mutex mu_;
  queue::JobId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<queue::JobId, queue::Job> jobs_ ABSL_GUARDED_BY(mu_);  // with their events
  std::map<std::pair<uint32_t, std::string>, queue::JobId> by_key_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> settings_ ABSL_GUARDED_BY(mu_);
};

}  // namespace drocc::store
