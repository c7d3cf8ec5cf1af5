// drocc admin ...: the admission switch today; accounts, projects, grants, limits, reports
// and audit call their RPCs, which name the missing feature until the quota work lands.

#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "common/human.h"

namespace drocc::cli {
namespace {

constexpr absl::Duration kTimeout = absl::Seconds(30);

void PrintAdmission(const v1::AdmissionState& s, Format format) {
  if (format == Format::kJson) {
    nlohmann::json j = {{"drained", s.drained()},
                        {"reason", s.reason()},
                        {"changed_by", s.changed_by()},
                        {"jobs_in_slurm", s.jobs_in_slurm()},
                        {"max_jobs_in_slurm", s.max_jobs_in_slurm()},
                        {"pending_jobs", s.pending_jobs()}};
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
}

template <typename Req, typename Call>
int AdmissionCall(client::Connection& conn, const char* method, const Req& req, Call call,
                  Format format) {
  auto ctx = conn.NewContext(method, kTimeout);
  if (!ctx.ok()) return Fail(ctx.status().message());
  v1::AdmissionState resp;
  grpc::Status st = call(ctx->get(), req, &resp);
  if (!st.ok()) return FailCall(conn, st);
  PrintAdmission(resp, format);
  return 0;
}

// An admin subcommand group whose RPCs are not served yet: it calls a representative RPC so
// the answer (and its UNIMPLEMENTED message) comes from droccd itself.
void AddPendingGroup(CLI::App* admin, const char* name, const char* help, Runner& run,
                     std::function<grpc::Status(client::Connection&, grpc::ClientContext*)> call,
                     const char* method) {
  CLI::App* cmd = admin->add_subcommand(name, help);
  cmd->allow_extras();
  cmd->callback([&run, call, method] {
    run = [call, method](client::Connection& c) {
      auto ctx = c.NewContext(method, kTimeout);
      if (!ctx.ok()) return Fail(ctx.status().message());
      grpc::Status st = call(c, ctx->get());
      if (!st.ok()) return FailCall(c, st);
      return 0;
    };
  });
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
      return AdmissionCall(
          c, "/drocc.v1.AdminService/DrainAdmission", req,
          [&c](auto* ctx, const auto& r, auto* out) {
            return c.admin().DrainAdmission(ctx, r, out);
          },
          drain->format);
    };
  });

  auto resume_format = std::make_shared<Format>(Format::kTable);
  cmd = admin->add_subcommand("resume", "Admit jobs to Slurm again");
  AddFormatOption(cmd, *resume_format);
  cmd->callback([&run, resume_format] {
    run = [resume_format](client::Connection& c) {
      return AdmissionCall(
          c, "/drocc.v1.AdminService/ResumeAdmission", v1::ResumeAdmissionRequest(),
          [&c](auto* ctx, const auto& r, auto* out) {
            return c.admin().ResumeAdmission(ctx, r, out);
          },
          *resume_format);
    };
  });

  auto status_format = std::make_shared<Format>(Format::kTable);
  cmd = admin->add_subcommand("status", "Show whether admission is open and how full Slurm is");
  AddFormatOption(cmd, *status_format);
  cmd->callback([&run, status_format] {
    run = [status_format](client::Connection& c) {
      return AdmissionCall(
          c, "/drocc.v1.AdminService/GetAdmissionState", v1::GetAdmissionStateRequest(),
          [&c](auto* ctx, const auto& r, auto* out) {
            return c.admin().GetAdmissionState(ctx, r, out);
          },
          *status_format);
    };
  });

  AddPendingGroup(
      admin, "account", "Accounts (organisations)", run,
      [](client::Connection& c, grpc::ClientContext* ctx) {
        v1::ListAccountsResponse r;
        return c.admin().ListAccounts(ctx, {}, &r);
      },
      "/drocc.v1.AdminService/ListAccounts");
  AddPendingGroup(
      admin, "project", "Projects", run,
      [](client::Connection& c, grpc::ClientContext* ctx) {
        v1::ListProjectsResponse r;
        return c.admin().ListProjects(ctx, {}, &r);
      },
      "/drocc.v1.AdminService/ListProjects");
  AddPendingGroup(
      admin, "member", "Project members", run,
      [](client::Connection& c, grpc::ClientContext* ctx) {
        v1::ListMembersResponse r;
        return c.admin().ListMembers(ctx, {}, &r);
      },
      "/drocc.v1.AdminService/ListMembers");
  AddPendingGroup(
      admin, "grant", "Hour grants", run,
      [](client::Connection& c, grpc::ClientContext* ctx) {
        v1::ListGrantsResponse r;
        return c.admin().ListGrants(ctx, {}, &r);
      },
      "/drocc.v1.AdminService/ListGrants");
  AddPendingGroup(
      admin, "limit", "Project and user limits", run,
      [](client::Connection& c, grpc::ClientContext* ctx) {
        v1::ListLimitsResponse r;
        return c.admin().ListLimits(ctx, {}, &r);
      },
      "/drocc.v1.AdminService/ListLimits");
  AddPendingGroup(
      admin, "report", "Usage reports", run,
      [](client::Connection& c, grpc::ClientContext* ctx) {
        v1::UsageReportResponse r;
        return c.admin().UsageReport(ctx, {}, &r);
      },
      "/drocc.v1.AdminService/UsageReport");
  AddPendingGroup(
      admin, "audit", "The audit log of admin actions", run,
      [](client::Connection& c, grpc::ClientContext* ctx) {
        v1::ListAuditEventsResponse r;
        return c.admin().ListAuditEvents(ctx, {}, &r);
      },
      "/drocc.v1.AdminService/ListAuditEvents");
}

void AddProjectCommands(CLI::App& app, Runner& run) {
  CLI::App* cmd = app.add_subcommand("balance", "Your projects' hour balances");
  cmd->allow_extras();
  cmd->callback([&run] {
    run = [](client::Connection& c) {
      auto ctx = c.NewContext("/drocc.v1.ProjectService/GetBalance", kTimeout);
      if (!ctx.ok()) return Fail(ctx.status().message());
      v1::GetBalanceResponse r;
      grpc::Status st = c.projects().GetBalance(ctx->get(), {}, &r);
      return st.ok() ? 0 : FailCall(c, st);
    };
  });
  cmd = app.add_subcommand("usage", "Usage per project, user and month");
  cmd->allow_extras();
  cmd->callback([&run] {
    run = [](client::Connection& c) {
      auto ctx = c.NewContext("/drocc.v1.ProjectService/GetUsage", kTimeout);
      if (!ctx.ok()) return Fail(ctx.status().message());
      v1::GetUsageResponse r;
      grpc::Status st = c.projects().GetUsage(ctx->get(), {}, &r);
      return st.ok() ? 0 : FailCall(c, st);
    };
  });
}

}  // namespace drocc::cli
