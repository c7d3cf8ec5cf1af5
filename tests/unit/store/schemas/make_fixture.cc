// Writes a job database as the droccd of one schema version left it, through that version's
// own store code. Not built with the tree: make_fixture.sh compiles it against the source of
// the release (git archive) with -DDROCC_SCHEMA=<version>, runs it, and dumps the database as
// vN.sql. Each #if below is what a version added; a new version adds its own.
//
//   make_fixture <database file>
//
// Jobs in every state with their events, idempotency keys, Slurm ids, exit codes and nodes;
// from version 2 the drain setting; from 3 the quota model, reservations, charges (grants and
// overdraft) and the audit log; from 4 checkpoints and the charge of a requeued run; from 5
// progress. Times are 2026-01-01 plus whole seconds. migrations_fixture_test.cc reads it all
// back through the current code.

#include <cstdio>
#include <cstdlib>
#include <future>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "daemon/queue/job.h"

#ifndef DROCC_SCHEMA
#error "build with -DDROCC_SCHEMA=<the version of the tree>"
#endif

#if DROCC_SCHEMA == 1
// Version 1 never shipped alone (the first droccd migrated straight to 2): its database is
// what migration 1 and that droccd's job table code make of an empty file.
#include "daemon/store/job_table.h"
#include "daemon/store/migrations.h"
#include "daemon/store/spec_json.h"
#include "daemon/store/sqlite_connection.h"
#else
#include "daemon/store/sqlite_store.h"
#endif

namespace drocc::store {
namespace {

using queue::Job;
using queue::JobState;
using queue::JobUpdate;

absl::Time T(int64_t s) { return absl::FromUnixSeconds(1'767'225'600 + s); }

void Check(const absl::Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "make_fixture: %s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

#if DROCC_SCHEMA == 1
class Writer {
 public:
  explicit Writer(const std::string& path) {
    auto conn = Connection::Open(path, {});
    Check(conn.status(), "open");
    conn_ = *std::move(conn);
    Check(Migrate(*conn_, 1), "migrate to 1");
  }
  queue::JobId Insert(const Job& job) {
    auto spec = JobSpecToJson(job.spec);
    Check(spec.status(), "spec");
    auto r = InsertJobRow(*conn_, job, *spec);
    Check(r.status(), "insert");
    return r->job.id;
  }
  void Update(const JobUpdate& u) { Check(UpdateJobRow(*conn_, u), "update"); }
  Connection& conn() { return *conn_; }

 private:
  std::unique_ptr<Connection> conn_;
};
#else
class Writer {
 public:
  explicit Writer(const std::string& path) {
    auto store = SqliteStore::Open({.path = path});
    Check(store.status(), "open");
    store_ = *std::move(store);
  }
  queue::JobId Insert(const Job& job) {
    auto r = InsertJobAndWait(*store_, job);
    Check(r.status(), "insert");
    return r->job.id;
  }
  void Update(const JobUpdate& u) { Check(UpdateJobAndWait(*store_, u), "update"); }
  Store& store() { return *store_; }

 private:
  std::unique_ptr<SqliteStore> store_;
};
#endif

// A job of `user` in `project` submitted at T(submit_s).
Job NewJob(uint32_t uid, const std::string& user, const std::string& project, int64_t submit_s,
           const std::string& key, uint32_t gpus) {
  Job job;
  job.uid = uid;
  job.gid = uid;
  job.user = user;
  job.project = project;
  job.submit_time = T(submit_s);
  job.reason = "queued";
  job.idempotency_key = key;
  job.spec.name = "job-" + std::to_string(submit_s);
  job.spec.project = project;
  job.spec.partition = gpus > 0 ? "gpu" : "cpu";
  job.spec.script = "#!/bin/bash\nsrun ./run --step " + std::to_string(submit_s) + "\n";
  job.spec.args = {"--seed", "7"};
  job.spec.workdir = "/home/" + user;
  job.spec.environment = {"OMP_NUM_THREADS=8"};
  job.spec.nodes = 1;
  job.spec.ntasks_per_node = 4;
  job.spec.gpus_per_node = gpus;
  job.spec.mem_mb = 16'000;
  job.spec.time_limit_s = 3600;
  job.spec.labels = {{"team", project}};
  return job;
}

JobUpdate Move(queue::JobId id, JobState from, JobState to, int64_t at_s, std::string reason) {
  return JobUpdate{.id = id, .from = from, .to = to, .at = T(at_s), .reason = std::move(reason)};
}

// Admits job `id` at T(t+1), handing it to Slurm as `slurm_id` with `milli` of `resource`
// reserved, and records it running on `nodes` from T(t+2), seen at T(t+3).
void AdmitAndRun(Writer& w, queue::JobId id, int64_t t, uint64_t slurm_id, const std::string& nodes,
                 [[maybe_unused]] const std::string& resource, [[maybe_unused]] int64_t milli) {
  JobUpdate u = Move(id, JobState::kPending, JobState::kAdmitted, t + 1, "handing to Slurm");
  u.admit_time = T(t + 1);
  u.slurm_job_id = slurm_id;
#if DROCC_SCHEMA >= 3
  u.reserved = queue::AmountMap{{resource, milli}};
#endif
  w.Update(u);
  u = Move(id, JobState::kAdmitted, JobState::kRunning, t + 3, "running on " + nodes);
  u.nodes = nodes;
  u.start_time = T(t + 2);
  w.Update(u);
}

#if DROCC_SCHEMA >= 3
void Quota(Store& store) {
  using quota::MilliUnits;
  std::vector<QuotaChange> model = {
      {.value = quota::Account{.name = "uni", .kind = quota::AccountKind::kLab}},
      {.value = quota::Account{.name = "acme", .kind = quota::AccountKind::kSme}},
      {.value = quota::Account{.name = "ops", .kind = quota::AccountKind::kInternal}},
      {.value = quota::Project{.name = "ml-lab", .account = "uni", .share = 2}},
      {.value = quota::Project{.name = "physics", .account = "uni"}},
      {.value = quota::Project{.name = "sme-ai", .account = "acme"}},
      {.value = quota::Member{.project = "ml-lab",
                              .user = "alice",
                              .role = quota::ProjectRole::kManager,
                              .is_default = true}},
      {.value = quota::Member{.project = "physics", .user = "alice"}},
      {.value = quota::Member{.project = "physics", .user = "bob", .is_default = true}},
      {.value = quota::Member{.project = "sme-ai", .user = "carol", .is_default = true}},
      {.value = StoredGrant{.grant = {.project = "ml-lab",
                                      .amount = MilliUnits::FromUnits(100),
                                      .valid_from = T(-30 * 86400),
                                      .valid_until = T(365 * 86400),
                                      .reference = "ERC-1"},
                            .resource = "gpu-hours"}},
      {.value = StoredGrant{.grant = {.project = "physics", .amount = MilliUnits::FromUnits(5000)},
                            .resource = "cpu-hours"}},
      {.value = StoredGrant{.grant = {.project = "ml-lab",
                                      .amount = MilliUnits::FromUnits(10),
                                      .valid_from = T(-60 * 86400),
                                      .valid_until = T(-86400),
                                      .reference = "pilot"},
                            .resource = "gpu-hours"}},
      {.value = quota::Limit{.project = "ml-lab", .max_gpus = 16, .max_pending_jobs = 100}},
      {.value =
           quota::Limit{.project = "ml-lab", .user = "alice", .max_walltime = absl::Hours(24)}},
  };
  auto id = ApplyQuotaChangesAndWait(store, model,
                                     {.time = T(-3600),
                                      .user = "dana",
                                      .peer = "unix:uid=1004",
                                      .action = "Setup",
                                      .target = "uni, acme, ops",
                                      .details = "{}"});
  Check(id.status(), "quota model");
  Check(AppendAuditAndWait(store, {.time = T(-1800),
                                   .user = "bob",
                                   .peer = "unix:uid=1002",
                                   .action = "CreateGrant",
                                   .target = "project physics",
                                   .details = "{} -> PERMISSION_DENIED: not an admin",
                                   .ok = false}),
        "refused audit");
}
#endif

void Write(Writer& w) {
#if DROCC_SCHEMA >= 3
  Quota(w.store());
#endif
  // 1 PENDING, waiting.
  queue::JobId id = w.Insert(NewJob(1001, "alice", "ml-lab", 0, "k-pending", 2));
  w.Update(Move(id, JobState::kPending, JobState::kPending, 5, "waiting for budget"));

  // 2 ADMITTED, waiting in Slurm.
  id = w.Insert(NewJob(1001, "alice", "ml-lab", 10, "k-admitted", 2));
  JobUpdate u = Move(id, JobState::kPending, JobState::kAdmitted, 11, "handing to Slurm");
  u.admit_time = T(11);
#if DROCC_SCHEMA >= 3
  u.reserved = queue::AmountMap{{"gpu-hours", 2000}};
#endif
  w.Update(u);
  u = Move(id, JobState::kAdmitted, JobState::kAdmitted, 12, "waiting in Slurm's queue");
  u.slurm_job_id = 4001;
  w.Update(u);

  // 3 RUNNING, with checkpoints and progress where the version has them.
  id = w.Insert(NewJob(1001, "alice", "ml-lab", 20, "", 4));
  u = Move(id, JobState::kPending, JobState::kAdmitted, 21, "handing to Slurm");
  u.admit_time = T(21);
  u.slurm_job_id = 4002;
#if DROCC_SCHEMA >= 3
  u.reserved = queue::AmountMap{{"gpu-hours", 4000}};
#endif
  w.Update(u);
  u = Move(id, JobState::kAdmitted, JobState::kRunning, 25, "running on gpu[01-02]");
  u.nodes = "gpu[01-02]";
  u.start_time = T(24);
  w.Update(u);
#if DROCC_SCHEMA >= 4
  for (int64_t step : {100, 200}) {
    std::promise<absl::Status> done;
    w.store().AppendCheckpoint(id,
                               {.step = step,
                                .bytes = 1 << 20,
                                .duration = absl::Milliseconds(250),
                                .time = T(30 + step),
                                .path = "/scratch/alice/ckpt-" + std::to_string(step),
                                .ranks = 8},
                               [&](absl::Status s) { done.set_value(s); });
    Check(done.get_future().get(), "checkpoint");
  }
#endif
#if DROCC_SCHEMA >= 5
  for (const queue::ProgressRecord& p :
       {queue::ProgressRecord{.phase = "stage-in",
       .bytes_done = 4096,
       .bytes_total = 4096,
       .message = "done",
       .time = T(26)},
        queue::ProgressRecord{
            .phase = "train", .step = 120, .message = "loss 0.31", .time = T(300)}}) {
    std::promise<absl::Status> done;
    w.store().PutProgress(id, p, [&](absl::Status s) { done.set_value(s); });
    Check(done.get_future().get(), "progress");
  }
#endif

  // 4-7: ran and ended: COMPLETED, FAILED, CANCELLED (by Slurm), TIMEOUT.
  struct Ended {
    uint32_t uid;
    const char* user;
    const char* project;
    JobState end;
    int exit_code;
    const char* reason;
    uint64_t grant;
    const char* resource;
    int64_t milli;
  };
  const Ended ended[] = {
      {1002, "bob", "physics", JobState::kCompleted, 0, "", 2, "cpu-hours", 1500},
      {1001, "alice", "ml-lab", JobState::kFailed, 3, "Slurm: FAILED", 1, "gpu-hours", 250},
      {1002, "bob", "physics", JobState::kCancelled, 0, "cancelled by bob", 2, "cpu-hours", 40},
      {1001, "alice", "ml-lab", JobState::kTimeout, 0, "Slurm: TIMEOUT", 1, "gpu-hours", 2000},
  };
  for (size_t i = 0; i < std::size(ended); ++i) {
    const Ended& e = ended[i];
    const int64_t t = 100 * static_cast<int64_t>(i + 1);
    const uint32_t gpus = std::string(e.resource) == "gpu-hours" ? 1 : 0;
    id = w.Insert(NewJob(e.uid, e.user, e.project, t, "k-ended-" + std::to_string(i), gpus));
    AdmitAndRun(w, id, t, 4010 + i, "n1", e.resource, 4 * e.milli);
    u = Move(id, JobState::kRunning, e.end, t + 60, e.reason);
    u.exit_code = e.exit_code;
    u.end_time = T(t + 59);
#if DROCC_SCHEMA >= 3
    u.reserved = queue::AmountMap{};
    u.charged = queue::AmountMap{{e.resource, e.milli}};
    u.charges = {{.grant_id = e.grant, .resource = e.resource, .milli = e.milli}};
#endif
    w.Update(u);
  }

  // 8 CANCELLED while pending.
  id = w.Insert(NewJob(1002, "bob", "physics", 500, "k-cancelled", 0));
  u = Move(id, JobState::kPending, JobState::kCancelled, 510,
           "cancelled by bob before it was admitted");
  u.end_time = T(510);
  w.Update(u);

  // 9 REQUEUED: its first run charged where the version can (4), its cost held again.
  id = w.Insert(NewJob(1001, "alice", "ml-lab", 600, "k-requeued", 1));
  AdmitAndRun(w, id, 600, 4020, "n2", "gpu-hours", 1000);
  u = Move(id, JobState::kRunning, JobState::kRequeued, 1502, "requeued by Slurm: BeginTime");
  u.nodes = "";
  u.increment_requeue_count = true;
#if DROCC_SCHEMA >= 4
  u.start_time = absl::InfinitePast();
  u.charged = queue::AmountMap{{"gpu-hours", 250}};
  u.charges = {{.grant_id = 1, .resource = "gpu-hours", .milli = 250}};
  u.reserved = queue::AmountMap{{"gpu-hours", 1000}};
#endif
  w.Update(u);

  // 10 REJECTED at submission.
  Job rejected = NewJob(1002, "bob", "physics", 700, "k-rejected", 8);
  rejected.state = JobState::kRejected;
  rejected.reason = "needs 8 GPUs per node; project physics may use at most 0";
  rejected.end_time = T(700);
  w.Insert(rejected);

  // 11 LOST while running; its usage beyond any grant recorded as overdraft.
  id = w.Insert(NewJob(1003, "carol", "sme-ai", 800, "k-lost", 1));
  AdmitAndRun(w, id, 800, 4030, "n3", "gpu-hours", 1000);
  u = Move(id, JobState::kRunning, JobState::kLost, 2600,
           "Slurm no longer knows job 4030: it ended while droccd was not watching, or "
           "slurmctld lost its state");
  u.end_time = T(2600);
#if DROCC_SCHEMA >= 3
  u.reserved = queue::AmountMap{};
  u.charged = queue::AmountMap{{"gpu-hours", 500}};
  u.charges = {{.grant_id = 0, .resource = "gpu-hours", .milli = 500}};
#endif
  w.Update(u);

#if DROCC_SCHEMA >= 2
  Check(PutSettingAndWait(w.store(), "admission.drain",
                          R"({"by":"dana","drained":true,"reason":"upgrade","time":1767229200})"),
        "drain setting");
#endif
}

}  // namespace
}  // namespace drocc::store

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_fixture <database file>\n");
    return 2;
  }
  drocc::store::Writer w(argv[1]);
  drocc::store::Write(w);
  return 0;
}
