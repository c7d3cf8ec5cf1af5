// drocc balance | usage: what a member may see of their projects (ProjectService).

#include <memory>

#include "client/cli/commands.h"
#include "client/cli/quota_output.h"

namespace drocc::cli {
namespace {

struct BalanceOptions {
  std::string project;
  Format format = Format::kTable;
};

int Balance(client::Connection& c, const v1::GetBalanceRequest& req, Format format) {
  v1::GetBalanceResponse resp;
  if (int rc = DROCC_CALL(c, ProjectService, projects, GetBalance, req, &resp)) return rc;
  if (format == Format::kJson) {
    PrintJson(BalanceJson(resp.balances()));
  } else {
    PrintText(BalanceTable(resp.balances()));
  }
  return 0;
}

struct UsageOptions {
  std::string project;
  bool per_user = false;
  bool per_month = false;
  TimeRangeFlags range;
  Format format = Format::kTable;
};

int Usage(client::Connection& c, const v1::GetUsageRequest& req, Format format) {
  v1::GetUsageResponse resp;
  if (int rc = DROCC_CALL(c, ProjectService, projects, GetUsage, req, &resp)) return rc;
  switch (format) {
    case Format::kJson:
      PrintJson(UsageJson(resp.rows()));
      break;
    case Format::kCsv:
      PrintText(UsageCsv(resp.rows()));
      break;
    case Format::kTable:
      PrintText(UsageTable(resp.rows()));
      break;
  }
  return 0;
}

}  // namespace

void AddProjectCommands(CLI::App& app, Runner& run) {
  auto balance = std::make_shared<BalanceOptions>();
  CLI::App* cmd = app.add_subcommand(
      "balance", "Hours granted, charged, reserved and available in your projects");
  cmd->add_option("-p,--project", balance->project, "only this project (default: all of yours)");
  AddFormatOption(cmd, balance->format);
  cmd->callback([&run, balance] {
    v1::GetBalanceRequest req;
    req.set_project(balance->project);
    run = [req, format = balance->format](client::Connection& c) {
      return Balance(c, req, format);
    };
  });

  auto usage = std::make_shared<UsageOptions>();
  cmd = app.add_subcommand("usage", "Hours used per project, and per user and month if asked");
  cmd->add_option("-p,--project", usage->project, "only this project (default: all of yours)");
  cmd->add_flag("--per-user", usage->per_user, "a row per user (project managers)");
  cmd->add_flag("--per-month", usage->per_month, "a row per calendar month (UTC)");
  AddTimeRangeOptions(cmd, usage->range);
  AddReportFormatOption(cmd, usage->format);
  cmd->callback([&run, usage] {
    v1::GetUsageRequest req;
    req.set_project(usage->project);
    req.set_per_user(usage->per_user);
    req.set_per_month(usage->per_month);
    if (auto range = ParseTimeRange(usage->range)) *req.mutable_range() = *range;
    run = [req, format = usage->format](client::Connection& c) { return Usage(c, req, format); };
  });
}

}  // namespace drocc::cli
