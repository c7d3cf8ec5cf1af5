#pragma once

// The fixture of the Store contract tests, run against every implementation: InMemoryStore
// and SqliteStore (on a real file). Each conformance file derives from StoreTest and runs its
// cases over StoreImpls.

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "daemon/store/in_memory_store.h"
#include "daemon/store/sqlite_store.h"
#include "daemon/store/store.h"
#include "gtest/gtest.h"
#include "tests/unit/store/test_util.h"

namespace drocc::store {

struct InMemoryImpl {
  static std::unique_ptr<Store> Make(const TempDir&) { return std::make_unique<InMemoryStore>(); }
};

struct SqliteImpl {
  static std::unique_ptr<Store> Make(const TempDir& dir) {
    auto store = SqliteStore::Open({.path = dir.File("droccd.db")});
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }
};

using StoreImpls = ::testing::Types<InMemoryImpl, SqliteImpl>;

struct StoreImplName {
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, InMemoryImpl> ? "InMemory" : "Sqlite";
  }
};

template <typename Impl>
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = Impl::Make(dir_);
    ASSERT_NE(store_, nullptr);
  }

  queue::Job Insert(queue::Job job) {
    absl::StatusOr<InsertResult> r = InsertJobAndWait(*store_, std::move(job));
    EXPECT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r.ok() && r->created);
    return r.ok() ? r->job : queue::Job{};
  }

  queue::Job Get(queue::JobId id) {
    absl::StatusOr<queue::Job> job = store_->GetJob(id, /*with_events=*/true);
    EXPECT_TRUE(job.ok()) << job.status();
    return job.ok() ? *job : queue::Job{};
  }

  std::vector<queue::JobId> Ids(const JobFilter& filter) {
    absl::StatusOr<std::vector<queue::Job>> jobs = store_->ListJobs(filter);
    EXPECT_TRUE(jobs.ok()) << jobs.status();
    std::vector<queue::JobId> ids;
    if (jobs.ok()) {
      for (const queue::Job& j : *jobs) ids.push_back(j.id);
    }
    return ids;
  }

  static queue::JobUpdate Update(queue::JobId id, queue::JobState from, queue::JobState to,
                                 int64_t at_s, std::string reason = "") {
    return queue::JobUpdate{.id = id, .from = from, .to = to, .at = T(at_s), .reason = reason};
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace drocc::store
