// drocc admin ...: the admission switch (drain, resume, status) here; accounts, projects and
// members in admin_org_commands.cc; grants and limits in admin_quota_commands.cc; report and
// audit in admin_report_commands.cc.

#include <cstdio>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "common/human.h"

namespace drocc::cli {
namespace {

// grpc.health.v1's word for `service` ("slurm": whether droccd reaches slurmctld), or what kept
// us from asking.
std::string HealthOf(client::Connection& c, const std::string& service) {
  constexpr char kCheck[] = "/grpc.health.v1.Health/Check";
  auto ctx = c.NewContext(kCheck, absl::Seconds(5));
  if (!ctx.ok()) return absl::StrCat("unknown (", ctx.status().message(), ")");
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status st = c.health().Check(ctx->get(), req, &resp);
  if (!st.ok()) return absl::StrCat("unknown (", st.error_message(), ")");
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status());
}

void PrintAdmission(const v1::AdmissionState& s, Format format, const std::string& slurm_health) {
  if (format == Format::kJson) {
    nlohmann::json j = {
        {"drained", s.drained()},
        {"reason", s.reason()},
        {"changed_by", s.changed_by()},
        {"jobs_in_slurm", s.jobs_in_slurm()},
        {"max_jobs_in_slurm", s.max_jobs_in_slurm()},
        {"pending_jobs", s.pending_jobs()},
        {"slurm_reachable", !s.slurm_unreachable()},
        {"slurm_error", s.slurm_error()},
        {"slurm_down_since", s.has_slurm_down_since()
                                 ? nlohmann::json(s.slurm_down_since().seconds())
                                 : nlohmann::json(nullptr)},
        {"last_reconciliation", s.has_last_reconciliation()
                                    ? nlohmann::json(s.last_reconciliation().seconds())
                                    : nlohmann::json(nullptr)}};
    if (!slurm_health.empty()) j["health"] = {{"slurm", slurm_health}};
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf(
      "admission: %s%s\n", s.drained() ? "drained" : "open",
      s.drained() && !s.reason().empty() ? absl::StrCat(" (", s.reason(), ")").c_str() : "");
  if (!s.changed_by().empty()) {
    std::printf("changed by: %s at %s\n", s.changed_by().c_str(),
                HumanTime(absl::FromUnixSeconds(s.change_time().seconds())).c_str());
  }
  std::printf("jobs in Slurm: %u of at most %u; pending in drocc: %u\n", s.jobs_in_slurm(),
              s.max_jobs_in_slurm(), s.pending_jobs());
  if (s.slurm_unreachable()) {
    std::printf("Slurm: UNREACHABLE since %s (%s); jobs are accepted and wait in drocc's queue\n",
                HumanTime(absl::FromUnixSeconds(s.slurm_down_since().seconds())).c_str(),
                s.slurm_error().c_str());
  } else {
    std::printf("Slurm: reachable\n");
  }
  if (!slurm_health.empty())
    std::printf("health (grpc.health.v1): slurm %s\n", slurm_health.c_str());
  if (s.has_last_reconciliation()) {
    std::printf("last reconciliation with Slurm: %s\n",
                HumanTime(absl::FromUnixSeconds(s.last_reconciliation().seconds())).c_str());
  }
}

// The exit code of an admission RPC (DROCC_CALL's `rc`), printing the state when it worked.
int AdmissionResult(int rc, const v1::AdmissionState& s, Format format,
                    const std::string& slurm_health = "") {
  if (rc != 0) return rc;
  PrintAdmission(s, format, slurm_health);
  return 0;
}

}  // namespace

void AddAdminCommands(CLI::App& app, Runner& run) {
  CLI::App* admin = app.add_subcommand("admin", "Administration (drocc admins)");
  admin->require_subcommand(1);

  struct DrainOptions {
    std::string reason;
    Format format = Format::kTable;
  };
  auto drain = std::make_shared<DrainOptions>();
  CLI::App* cmd =
      admin->add_subcommand("drain", "Stop admitting jobs to Slurm (running jobs go on)");
  cmd->add_option("-r,--reason", drain->reason, "why, shown to users as their jobs' reason");
  AddFormatOption(cmd, drain->format);
  cmd->callback([&run, drain] {
    run = [drain](client::Connection& c) {
      v1::DrainAdmissionRequest req;
      req.set_reason(drain->reason);
      v1::AdmissionState s;
      return AdmissionResult(DROCC_CALL(c, AdminService, admin, DrainAdmission, req, &s), s,
                             drain->format);
    };
  });

  auto resume_format = std::make_shared<Format>(Format::kTable);
  cmd = admin->add_subcommand("resume", "Admit jobs to Slurm again");
  AddFormatOption(cmd, *resume_format);
  cmd->callback([&run, resume_format] {
    run = [resume_format](client::Connection& c) {
      v1::AdmissionState s;
      return AdmissionResult(
          DROCC_CALL(c, AdminService, admin, ResumeAdmission, v1::ResumeAdmissionRequest(), &s), s,
          *resume_format);
    };
  });

  auto status_format = std::make_shared<Format>(Format::kTable);
  cmd = admin->add_subcommand("status", "Show whether admission is open and how full Slurm is");
  AddFormatOption(cmd, *status_format);
  cmd->callback([&run, status_format] {
    run = [status_format](client::Connection& c) {
      v1::AdmissionState s;
      int rc =
          DROCC_CALL(c, AdminService, admin, GetAdmissionState, v1::GetAdmissionStateRequest(), &s);
      return AdmissionResult(rc, s, *status_format, rc == 0 ? HealthOf(c, "slurm") : "");
    };
  });

  auto backup_path = std::make_shared<std::string>();
  cmd = admin->add_subcommand("backup",
                              "Copy the job database, online, into a new file on droccd's host");
  cmd->add_option("FILE", *backup_path, "where (a new file; relative to this directory)")
      ->required();
  cmd->callback([&run, backup_path] {
    v1::BackupRequest req;
    req.set_path(std::filesystem::absolute(*backup_path).lexically_normal().string());
    run = [req](client::Connection& c) {
      v1::BackupResponse resp;
      if (int rc = DROCC_CALL(c, AdminService, admin, Backup, req, &resp)) return rc;
      PrintText(absl::StrCat("Backed up the job database to ", resp.path(), " (", resp.bytes(),
                             " bytes).\n"));
      return 0;
    };
  });

  AddAdminOrgCommands(admin, run);
  AddAdminQuotaCommands(admin, run);
  AddAdminReportCommands(admin, run);
  AddAdminTokenCommands(admin, run);
}

}  // namespace drocc::cli
