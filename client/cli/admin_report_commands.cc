// drocc admin report | audit: usage across projects, and who changed what.

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "client/cli/commands.h"
#include "client/cli/quota_output.h"

namespace drocc::cli {
namespace {

struct ReportOptions {
  std::string account;
  std::string project;
  bool per_user = false;
  bool per_month = false;
  TimeRangeFlags range;
  Format format = Format::kTable;
};

void PrintReport(const v1::UsageReportResponse& r, Format format) {
  switch (format) {
    case Format::kJson: {
      nlohmann::json lapsed = nlohmann::json::array();
      for (const v1::Amount& a : r.lapsed()) lapsed.push_back(AmountJson(a));
      PrintJson({{"rows", UsageJson(r.rows())},
                 {"lapsed", lapsed},
                 {"lapsed_grants", GrantsJson(r.lapsed_grants())}});
      return;
    }
    case Format::kCsv:
      // One table per CSV file: the usage rows. Lapsed grants are in the table and JSON.
      PrintText(UsageCsv(r.rows()));
      return;
    case Format::kTable:
      PrintText(UsageTable(r.rows()));
      PrintText(absl::StrCat(
          "\nLapsed (left in grants that ended in the period): ", FormatAmounts(r.lapsed()), "\n"));
      if (!r.lapsed_grants().empty()) PrintText(absl::StrCat("\n", GrantTable(r.lapsed_grants())));
      return;
  }
}

struct AuditOptions {
  std::string user;
  TimeRangeFlags range;
  uint32_t limit = 100;
  Format format = Format::kTable;
};

// The server's page size cap (admin.proto: PageRequest).
constexpr uint32_t kMaxPageSize = 1000;

nlohmann::json AuditJson(const v1::AuditEvent& e) {
  // details is the request as JSON: nest it when it parses, so `jq .details.grant` works.
  nlohmann::json details = nlohmann::json::parse(e.details(), nullptr, /*allow_exceptions=*/false);
  if (details.is_discarded()) details = e.details();
  return {{"id", e.id()},     {"time", TimeJson(e.time())}, {"user", e.user()},
          {"peer", e.peer()}, {"action", e.action()},       {"target", e.target()},
          {"ok", e.ok()},     {"details", details}};
}

int Audit(client::Connection& c, v1::ListAuditEventsRequest req, const AuditOptions& o) {
  google::protobuf::RepeatedPtrField<v1::AuditEvent> events;
  do {
    req.mutable_page()->set_page_size(
        std::min<uint32_t>(kMaxPageSize, o.limit - static_cast<uint32_t>(events.size())));
    v1::ListAuditEventsResponse resp;
    if (int rc = DROCC_CALL(c, AdminService, admin, ListAuditEvents, req, &resp)) return rc;
    for (const auto& e : resp.events()) {
      if (static_cast<uint32_t>(events.size()) < o.limit) *events.Add() = e;
    }
    if (resp.next_page_token() == req.page().page_token()) break;  // a server that repeats itself
    req.mutable_page()->set_page_token(resp.next_page_token());
  } while (!req.page().page_token().empty() && static_cast<uint32_t>(events.size()) < o.limit);
  if (o.format == Format::kJson) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& e : events) arr.push_back(AuditJson(e));
    PrintJson(arr);
    return 0;
  }
  Table t({"TIME", "USER", "PEER", "ACTION", "TARGET", "OK", "DETAILS"});
  for (const auto& e : events) {
    t.Add({TimeText(e.time()), e.user(), e.peer(), e.action(), e.target(), e.ok() ? "ok" : "FAILED",
           absl::StrReplaceAll(e.details(), {{"\r", " "}, {"\n", " "}, {"\t", " "}})});
  }
  PrintText(t.Render());
  return 0;
}

}  // namespace

void AddAdminReportCommands(CLI::App* admin, Runner& run) {
  auto report = std::make_shared<ReportOptions>();
  CLI::App* cmd = admin->add_subcommand(
      "report", "Usage per project (and user and month), and what lapsed in expired grants");
  cmd->add_option("--account", report->account, "only this account's projects");
  cmd->add_option("-p,--project", report->project, "only this project");
  cmd->add_flag("--per-user", report->per_user, "a row per user");
  cmd->add_flag("--per-month", report->per_month, "a row per calendar month (UTC)");
  AddTimeRangeOptions(cmd, report->range);
  AddReportFormatOption(cmd, report->format);
  cmd->callback([&run, report] {
    v1::UsageReportRequest req;
    req.set_account(report->account);
    req.set_project(report->project);
    req.set_per_user(report->per_user);
    req.set_per_month(report->per_month);
    if (auto range = ParseTimeRange(report->range)) *req.mutable_range() = *range;
    run = [req, format = report->format](client::Connection& c) {
      v1::UsageReportResponse resp;
      if (int rc = DROCC_CALL(c, AdminService, admin, UsageReport, req, &resp)) return rc;
      PrintReport(resp, format);
      return 0;
    };
  });

  auto audit = std::make_shared<AuditOptions>();
  cmd = admin->add_subcommand("audit", "The audit log of admin actions");
  cmd->add_option("-u,--user", audit->user, "only this user's actions");
  AddTimeRangeOptions(cmd, audit->range);
  cmd->add_option("-n,--limit", audit->limit, "at most this many events (default 100)")
      ->check(CLI::Range(1u, 1000000u));
  AddFormatOption(cmd, audit->format);
  cmd->callback([&run, audit] {
    v1::ListAuditEventsRequest req;
    req.set_user(audit->user);
    if (auto range = ParseTimeRange(audit->range)) *req.mutable_range() = *range;
    run = [req, audit](client::Connection& c) { return Audit(c, req, *audit); };
  });
}

}  // namespace drocc::cli
