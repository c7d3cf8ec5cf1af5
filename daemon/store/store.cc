#include "daemon/store/store.h"

#include <future>
#include <utility>

namespace drocc::store {
namespace {

// Blocks until `start` hands its result to the callback it is given.
template <typename T, typename Start>
T Wait(Start start) {
  std::promise<T> promise;
  std::future<T> future = promise.get_future();
  start([&promise](T result) { promise.set_value(std::move(result)); });
  return future.get();
}

}  // namespace

absl::StatusOr<InsertResult> InsertJobAndWait(Store& store, queue::Job job) {
  return Wait<absl::StatusOr<InsertResult>>(
      [&](Store::InsertCallback done) { store.InsertJob(std::move(job), std::move(done)); });
}

absl::Status UpdateJobAndWait(Store& store, queue::JobUpdate u) {
  return Wait<absl::Status>(
      [&](Store::DoneCallback done) { store.UpdateJob(std::move(u), std::move(done)); });
}

absl::Status PutSettingAndWait(Store& store, std::string key, std::string value) {
  return Wait<absl::Status>([&](Store::DoneCallback done) {
    store.PutSetting(std::move(key), std::move(value), std::move(done));
  });
}

absl::StatusOr<uint64_t> ApplyQuotaChangesAndWait(Store& store, std::vector<QuotaChange> changes,
                                                  AuditRecord audit) {
  return Wait<absl::StatusOr<uint64_t>>([&](Store::IdCallback done) {
    store.ApplyQuotaChanges(std::move(changes), std::move(audit), std::move(done));
  });
}

absl::Status AppendAuditAndWait(Store& store, AuditRecord audit) {
  return Wait<absl::Status>(
      [&](Store::DoneCallback done) { store.AppendAudit(std::move(audit), std::move(done)); });
}

}  // namespace drocc::store
