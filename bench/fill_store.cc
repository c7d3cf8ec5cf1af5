// fill_store: writes a droccd database holding a large backlog, through the real SqliteStore,
// for bench/admission_rss.sh: N projects (one account, one member and a small gpu-hours
// grant each, so most jobs wait for budget) and M pending jobs spread over them, with
// admission drained so a droccd started on it hands nothing to Slurm.
//
// Usage: fill_store --db PATH [--projects 1000] [--jobs 100000] [--user alice --uid 1001]

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <random>

#include "absl/strings/str_cat.h"
#include "daemon/store/sqlite_store.h"
#include "nlohmann/json.hpp"

int main(int argc, char** argv) {
  using namespace drocc;
  CLI::App app{"fill_store: a droccd database with a large pending backlog"};
  std::string db;
  uint32_t projects = 1000;
  uint32_t jobs = 100000;
  std::string user = "alice";
  uint32_t uid = 1001;
  app.add_option("--db", db, "database file to create (its directory must exist)")->required();
  app.add_option("--projects", projects, "projects")->check(CLI::Range(1u, 100000u));
  app.add_option("--jobs", jobs, "pending jobs")->check(CLI::Range(1u, 10000000u));
  app.add_option("--user", user, "the member and owner of every job");
  app.add_option("--uid", uid, "its uid");
  CLI11_PARSE(app, argc, argv);

  auto store = store::SqliteStore::Open({.path = db});
  if (!store.ok()) {
    std::fprintf(stderr, "fill_store: %s\n", std::string(store.status().message()).c_str());
    return 1;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const absl::Time now = absl::Now();
  std::vector<store::QuotaChange> model = {
      {.value = quota::Account{.name = "bench", .kind = quota::AccountKind::kLab}}};
  for (uint32_t p = 0; p < projects; ++p) {
    const std::string name = absl::StrCat("p", p);
    model.push_back(
        {.value = quota::Project{.name = name, .account = "bench", .share = 1 + p % 4}});
    model.push_back({.value = quota::Member{.project = name, .user = user, .is_default = p == 0}});
    model.push_back(
        {.value = store::StoredGrant{.grant = {.project = name,
                                               .amount = quota::MilliUnits::FromUnits(5 + p % 20),
                                               .valid_from = now - absl::Hours(24)},
                                     .resource = "gpu-hours"}});
  }
  if (auto s = store::ApplyQuotaChangesAndWait(**store, model, {.user = "fill_store"}); !s.ok()) {
    std::fprintf(stderr, "fill_store: %s\n", std::string(s.status().message()).c_str());
    return 1;
  }
  nlohmann::json drain = {
      {"drained", true}, {"reason", "benchmark"}, {"by", "fill_store"}, {"time", 0}};
  (void)store::PutSettingAndWait(**store, "admission.drain", drain.dump());

  std::mt19937 rng(42);
  std::atomic<uint32_t> done{0};
  std::atomic<uint32_t> failed{0};
  for (uint32_t i = 0; i < jobs; ++i) {
    queue::Job job;
    job.user = user;
    job.uid = uid;
    job.gid = uid;
    job.project = absl::StrCat("p", rng() % projects);
    job.state = queue::JobState::kPending;
    job.reason = "queued";
    job.submit_time = now - absl::Seconds(jobs - i);
    job.spec.name = absl::StrCat("train-", i);
    job.spec.project = job.project;
    job.spec.script = "#!/bin/bash\nsrun python train.py --epochs 10\n";
    job.spec.workdir = "/home/alice/experiments";
    job.spec.environment = {"PATH=/usr/bin:/bin", "HOME=/home/alice", "OMP_NUM_THREADS=8"};
    job.spec.nodes = 1 + rng() % 2;
    job.spec.gpus_per_node = rng() % 5;
    job.spec.ntasks_per_node = 4;
    job.spec.time_limit_s = 600 * (1 + rng() % 36);
    job.spec.priority = static_cast<int32_t>(rng() % 3);
    (*store)->InsertJob(std::move(job), [&](absl::StatusOr<store::InsertResult> r) {
      if (!r.ok()) failed.fetch_add(1);
      done.fetch_add(1);
    });
  }
  (*store)->Close();  // commits everything queued
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("fill_store: %u projects, %u pending jobs (%u failed) in %.1f s -> %s\n", projects,
              done.load(), failed.load(), s, db.c_str());
  return failed.load() == 0 ? 0 : 1;
}
