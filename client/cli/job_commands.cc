// drocc jobs | show | cancel | logs | watch

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/cli/commands.h"
#include "common/human.h"

namespace drocc::cli {
namespace {

struct JobsOptions {
  std::vector<std::string> states;
  bool all = false;
  std::string user;
  uint32_t limit = 100;
  Format format = Format::kTable;
};

int ListJobs(client::Connection& conn, const JobsOptions& o) {
  v1::ListJobsRequest req;
  for (const std::string& s : o.states) {
    v1::JobState st;
    if (!v1::JobState_Parse(absl::StrCat("JOB_STATE_", absl::AsciiStrToUpper(s)), &st) ||
        st == v1::JOB_STATE_UNSPECIFIED) {
      return Fail(absl::StrCat("unknown state \"", s,
                               "\"; use PENDING, ADMITTED, RUNNING, COMPLETED, FAILED, "
                               "CANCELLED, TIMEOUT, REQUEUED, REJECTED or LOST"));
    }
    req.add_states(st);
  }
  req.set_all_users(o.all);
  req.set_user(o.user);
  req.mutable_page()->set_page_size(o.limit);
  v1::ListJobsResponse resp;
  if (int rc = DROCC_CALL(conn, JobService, jobs, ListJobs, req, &resp)) return rc;
  PrintJobs({resp.jobs().begin(), resp.jobs().end()}, o.format);
  return 0;
}

int Show(client::Connection& conn, uint64_t id, Format format) {
  v1::GetJobRequest req;
  req.set_id(id);
  v1::Job job;
  if (int rc = DROCC_CALL(conn, JobService, jobs, GetJob, req, &job)) return rc;
  if (format == Format::kJson) {
    std::printf("%s\n", JobToJson(job).dump(2).c_str());
  } else {
    std::fputs(JobDetail(job, absl::Now()).c_str(), stdout);
  }
  return 0;
}

int Cancel(client::Connection& conn, const std::vector<uint64_t>& ids) {
  int rc = 0;
  for (uint64_t id : ids) {
    v1::CancelJobRequest req;
    req.set_id(id);
    v1::CancelJobResponse resp;
    if (int failed = DROCC_CALL(conn, JobService, jobs, CancelJob, req, &resp)) {
      rc = failed;
      continue;
    }
    if (resp.job().state() == v1::JOB_STATE_CANCELLED) {
      std::printf("job %lu cancelled\n", static_cast<unsigned long>(id));
    } else {
      std::printf("job %lu: cancel requested; Slurm is stopping it\n",
                  static_cast<unsigned long>(id));
    }
  }
  return rc;
}

int Logs(client::Connection& conn, uint64_t id, bool follow, bool err) {
  auto ctx = conn.NewContext("/drocc.v1.JobService/StreamLogs", absl::ZeroDuration());
  if (!ctx.ok()) return Fail(ctx.status().message());
  v1::StreamLogsRequest req;
  req.set_id(id);
  req.set_follow(follow);
  req.set_stream(err ? v1::LOG_STREAM_STDERR : v1::LOG_STREAM_STDOUT);
  auto reader = conn.jobs().StreamLogs(ctx->get(), req);
  v1::StreamLogsResponse chunk;
  while (reader->Read(&chunk)) {
    std::fwrite(chunk.data().data(), 1, chunk.data().size(), stdout);
    if (follow) std::fflush(stdout);
  }
  grpc::Status st = reader->Finish();
  if (!st.ok()) return FailCall(conn, st);
  return 0;
}

// Follows the job's events until it ends. droccd restarting (UNAVAILABLE) does not end the
// watch: the stream is opened again for up to $DROCC_RETRY_SECONDS at a time (each stream
// starts with the job's latest event, which is not printed twice).
int Watch(client::Connection& conn, uint64_t id) {
  constexpr char kMethod[] = "/drocc.v1.JobService/WatchJob";
  v1::WatchJobRequest req;
  req.set_id(id);
  v1::Job last;
  std::optional<std::tuple<int64_t, int, std::string>> printed;  // the last event printed
  absl::Time give_up = absl::Now() + RetryWindow();
  absl::Duration backoff = client::kRetryFirstBackoff;
  while (true) {
    auto ctx = conn.NewContext(kMethod, absl::ZeroDuration());
    if (!ctx.ok()) return Fail(ctx.status().message());
    auto reader = conn.jobs().WatchJob(ctx->get(), req);
    v1::WatchJobResponse msg;
    while (reader->Read(&msg)) {
      last = msg.job();
      auto event = std::make_tuple(static_cast<int64_t>(msg.event().time().seconds()),
                                   static_cast<int>(msg.event().state()), msg.event().reason());
      if (printed == event) continue;  // the latest event again, after a reconnection
      printed = std::move(event);
      absl::Time t = absl::FromUnixSeconds(msg.event().time().seconds());
      std::printf("%s  job %lu  %-9s  %s\n", HumanTime(t).c_str(), static_cast<unsigned long>(id),
                  StateName(msg.event().state()).c_str(), msg.event().reason().c_str());
      std::fflush(stdout);
      give_up = absl::Now() + RetryWindow();  // droccd answered: a new window for the next outage
      backoff = client::kRetryFirstBackoff;
    }
    grpc::Status st = reader->Finish();
    if (st.ok()) break;
    if (st.error_code() != grpc::StatusCode::UNAVAILABLE || absl::Now() + backoff >= give_up) {
      return FailCall(conn, st, ctx->get());
    }
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, client::kRetryMaxBackoff);
  }
  // Like `srun`: the job's own exit code, so scripts can chain on it.
  if (last.state() == v1::JOB_STATE_COMPLETED) return 0;
  return last.has_exit_code() && last.exit_code() != 0 ? last.exit_code() : 1;
}

}  // namespace

void AddJobCommands(CLI::App& app, Runner& run) {
  auto jobs = std::make_shared<JobsOptions>();
  CLI::App* cmd = app.add_subcommand("jobs", "List your jobs, newest first");
  cmd->add_option("-s,--state", jobs->states, "only jobs in these states (e.g. RUNNING,PENDING)")
      ->delimiter(',');
  cmd->add_flag("-a,--all", jobs->all, "every user's jobs (admins)");
  cmd->add_option("-u,--user", jobs->user, "only this user's jobs (admins, or yourself)");
  cmd->add_option("-n,--limit", jobs->limit, "at most this many (default 100, max 1000)")
      ->check(CLI::Range(1, 1000));
  AddFormatOption(cmd, jobs->format);
  cmd->callback(
      [&run, jobs] { run = [jobs](client::Connection& c) { return ListJobs(c, *jobs); }; });

  auto show_id = std::make_shared<uint64_t>(0);
  auto show_format = std::make_shared<Format>(Format::kTable);
  cmd = app.add_subcommand("show", "Show one job: state, exit code, nodes, times, history");
  cmd->add_option("id", *show_id, "job id")->required();
  AddFormatOption(cmd, *show_format);
  cmd->callback([&run, show_id, show_format] {
    run = [=](client::Connection& c) { return Show(c, *show_id, *show_format); };
  });

  auto cancel_ids = std::make_shared<std::vector<uint64_t>>();
  cmd = app.add_subcommand("cancel", "Cancel jobs (pending or running)");
  cmd->add_option("ids", *cancel_ids, "job ids")->required();
  cmd->callback(
      [&run, cancel_ids] { run = [=](client::Connection& c) { return Cancel(c, *cancel_ids); }; });

  struct LogsOptions {
    uint64_t id = 0;
    bool follow = false;
    bool err = false;
  };
  auto logs = std::make_shared<LogsOptions>();
  cmd = app.add_subcommand("logs", "Print a job's output (read by droccd as the job's owner)");
  cmd->add_option("id", logs->id, "job id")->required();
  cmd->add_flag("-f,--follow", logs->follow, "keep printing while the job runs");
  cmd->add_flag("--stderr", logs->err, "the error file (-e) instead of the output file");
  cmd->callback([&run, logs] {
    run = [=](client::Connection& c) { return Logs(c, logs->id, logs->follow, logs->err); };
  });

  auto watch_id = std::make_shared<uint64_t>(0);
  cmd = app.add_subcommand("watch",
                           "Print a job's state changes until it ends; exits with its exit code");
  cmd->add_option("id", *watch_id, "job id")->required();
  cmd->callback(
      [&run, watch_id] { run = [=](client::Connection& c) { return Watch(c, *watch_id); }; });
}

}  // namespace drocc::cli
