// drocc submit | estimate: sbatch's flags and #SBATCH lines, resolved by client/jobspec.

#include <cstdio>
#include <memory>
#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/commands.h"
#include "client/cli/quota_output.h"
#include "client/jobspec/resolve.h"

namespace drocc::cli {
namespace {

void ToProto(const client::JobRequest& r, v1::JobSpec* s) {
  s->set_name(r.name);
  s->set_project(r.project);
  s->set_partition(r.partition);
  s->set_script(r.script);
  s->set_script_path(r.script_path);
  for (const auto& a : r.args) s->add_args(a);
  s->set_workdir(r.workdir);
  for (const auto& e : r.environment) s->add_environment(e);
  s->set_export_mode(r.export_mode);
  s->set_output(r.output);
  s->set_error(r.error);
  s->set_open_mode(r.open_mode);
  s->set_nodes(r.nodes);
  s->set_max_nodes(r.max_nodes);
  s->set_ntasks(r.ntasks);
  s->set_ntasks_per_node(r.ntasks_per_node);
  s->set_cpus_per_task(r.cpus_per_task);
  s->set_gpus_per_node(r.gpus_per_node);
  s->set_gres(r.gres);
  s->set_mem_mb(r.mem_mb);
  s->set_time_limit_s(r.time_limit_s);
  if (r.signal.signal != 0) {
    s->mutable_signal()->set_signal(r.signal.signal);
    s->mutable_signal()->set_seconds_before(r.signal.seconds_before);
    s->mutable_signal()->set_batch_only(r.signal.batch_only);
  }
  s->set_priority(r.priority);
}

// A fresh key per `drocc submit`: a retry of the same call can never make a second job.
std::string NewIdempotencyKey() {
  std::random_device rd;
  return absl::StrFormat("%08x%08x%08x%08x", rd(), rd(), rd(), rd());
}

absl::StatusOr<client::JobRequest> Resolve(const client::SubmitFlags& flags) {
  client::SubmitContext ctx = client::CurrentSubmitContext();
  ctx.warn = [](std::string_view w) {
    std::fprintf(stderr, "drocc: warning: %.*s\n", static_cast<int>(w.size()), w.data());
  };
  return client::ResolveJobRequest(flags, ctx);
}

int Submit(client::Connection& conn, const client::SubmitFlags& flags) {
  auto request = Resolve(flags);
  if (!request.ok()) return FailUsage(request.status().message());
  v1::SubmitJobRequest req;
  ToProto(*request, req.mutable_spec());
  req.set_idempotency_key(NewIdempotencyKey());
  v1::SubmitJobResponse resp;  // retried across a droccd restart: the key makes it one job
  if (int rc = DROCC_CALL(conn, JobService, jobs, SubmitJob, req, &resp)) return rc;
  if (resp.job().state() == v1::JOB_STATE_REJECTED) {
    // Stored (drocc jobs shows it) but it will never run: say why and fail.
    return Fail(absl::StrCat("job ", resp.job().id(), " REJECTED: ", resp.job().reason()));
  }
  for (const std::string& w : resp.warnings())
    std::fprintf(stderr, "drocc: warning: %s\n", w.c_str());
  if (flags.parsable) {
    std::printf("%lu\n", static_cast<unsigned long>(resp.job().id()));
  } else {
    std::printf("Submitted drocc job %lu (%s)\n", static_cast<unsigned long>(resp.job().id()),
                resp.job().reason().c_str());
  }
  return 0;
}

struct EstimateOptions {
  client::SubmitFlags flags;
  Format format = Format::kTable;
};

int Estimate(client::Connection& conn, const EstimateOptions& o) {
  auto request = Resolve(o.flags);
  if (!request.ok()) return FailUsage(request.status().message());
  v1::EstimateJobRequest req;
  ToProto(*request, req.mutable_spec());
  v1::EstimateJobResponse resp;
  if (int rc = DROCC_CALL(conn, JobService, jobs, EstimateJob, req, &resp)) return rc;
  if (o.format == Format::kJson) {
    PrintJson(EstimateJson(resp));
  } else {
    PrintText(EstimateText(resp));
  }
  return 0;
}

}  // namespace

void AddSubmitCommands(CLI::App& app, Runner& run) {
  auto submit = std::make_shared<client::SubmitFlags>();
  CLI::App* cmd = app.add_subcommand(
      "submit", "Submit a batch script like sbatch: same flags, #SBATCH lines read from SCRIPT");
  client::AddSubmitFlags(*cmd, *submit);
  cmd->callback(
      [&run, submit] { run = [submit](client::Connection& c) { return Submit(c, *submit); }; });

  auto estimate = std::make_shared<EstimateOptions>();
  cmd = app.add_subcommand("estimate",
                           "What a job would cost and whether it could start now (submit's flags)");
  client::AddSubmitFlags(*cmd, estimate->flags);
  AddLongFormatOption(cmd, estimate->format);
  cmd->callback([&run, estimate] {
    // The job's output file cannot change its cost: `-o json` / `-o table` (muscle memory from
    // the other commands) can only mean the format.
    const std::optional<std::string>& output = estimate->flags.output;
    if (output == "json" || output == "table") {
      estimate->format = *output == "json" ? Format::kJson : Format::kTable;
      estimate->flags.output.reset();
    }
    run = [estimate](client::Connection& c) { return Estimate(c, *estimate); };
  });
}

}  // namespace drocc::cli
