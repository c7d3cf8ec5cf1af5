// drocc admin grant | limit: the hours a project may spend, and how much it may use at once.

#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "client/cli/arguments.h"
#include "client/cli/commands.h"
#include "client/cli/quota_output.h"

namespace drocc::cli {
namespace {

// ---- grants ----

struct GrantOptions {
  std::string project;
  uint64_t id = 0;
  std::string amount;
  std::string resource = "gpu-hours";
  TimeRangeFlags validity;
  std::string reference;
  bool include_expired = false;
  CLI::Option* amount_opt = nullptr;
  CLI::Option* reference_opt = nullptr;
  Format format = Format::kTable;
};

int64_t AmountOrUsageError(const std::string& text, const std::string& option) {
  return ValueOrUsageError(ParseAmountMilli(text), option);
}

// Prints a grant that was created or changed.
int PrintGrant(const char* verb, const v1::Grant& g, Format format) {
  PrintResult(format, absl::StrCat(verb, " ", GrantSummary(g)), GrantJson(g));
  return 0;
}

void AddGrantCommands(CLI::App* admin, Runner& run) {
  CLI::App* group = admin->add_subcommand("grant", "Grants: hours a project may spend");
  group->require_subcommand(1);

  auto create = std::make_shared<GrantOptions>();
  CLI::App* cmd = group->add_subcommand("create", "Grant hours to a project");
  cmd->add_option("project", create->project, "project name")->required();
  cmd->add_option("amount", create->amount,
                  "a decimal number with at most 3 decimals, e.g. 500 "
                  "or 12.5")
      ->required();
  cmd->add_option("--resource", create->resource,
                  "gpu-hours (default), cpu-hours, node-hours or a site billing unit");
  cmd->add_option("--from", create->validity.from,
                  "valid from: YYYY-MM-DD (00:00 UTC) or YYYY-MM-DDTHH:MM:SSZ (default: now)");
  cmd->add_option("--until", create->validity.until,
                  "valid until, exclusive: YYYY-MM-DD (00:00 UTC) or YYYY-MM-DDTHH:MM:SSZ");
  cmd->add_option("--reference", create->reference, "contract or call reference, free text");
  AddFormatOption(cmd, create->format);
  cmd->callback([&run, create] {
    v1::CreateGrantRequest req;
    v1::Grant* g = req.mutable_grant();
    g->set_project(create->project);
    g->mutable_amount()->set_resource(create->resource);
    g->mutable_amount()->set_milli(AmountOrUsageError(create->amount, "AMOUNT"));
    if (g->amount().milli() == 0) UsageError("AMOUNT", "a grant must be more than 0");
    if (create->resource.empty()) UsageError("--resource", "must not be empty");
    if (auto range = ParseTimeRange(create->validity)) {
      if (range->has_from()) *g->mutable_valid_from() = range->from();
      if (range->has_until()) *g->mutable_valid_until() = range->until();
    }
    g->set_reference(create->reference);
    run = [req, format = create->format](client::Connection& c) {
      v1::Grant out;
      if (int rc = DROCC_CALL(c, AdminService, admin, CreateGrant, req, &out)) return rc;
      return PrintGrant("created", out, format);
    };
  });

  auto list = std::make_shared<GrantOptions>();
  cmd = group->add_subcommand("list", "List grants, of one project or of all");
  cmd->add_option("project", list->project, "only this project's grants");
  cmd->add_flag("--include-expired", list->include_expired, "also grants that have ended");
  AddFormatOption(cmd, list->format);
  cmd->callback([&run, list] {
    v1::ListGrantsRequest req;
    req.set_project(list->project);
    req.set_include_expired(list->include_expired);
    run = [req, format = list->format](client::Connection& c) {
      v1::ListGrantsResponse resp;
      if (int rc = DROCC_CALL(c, AdminService, admin, ListGrants, req, &resp)) return rc;
      if (format == Format::kJson) {
        PrintJson(GrantsJson(resp.grants()));
      } else {
        PrintText(GrantTable(resp.grants()));
      }
      return 0;
    };
  });

  auto update = std::make_shared<GrantOptions>();
  cmd = group->add_subcommand("update", "Change a grant's amount, end or reference");
  cmd->add_option("id", update->id, "grant id")->required();
  update->amount_opt = cmd->add_option("--amount", update->amount,
                                       "the new amount, in the grant's resource (e.g. 750)");
  cmd->add_option("--until", update->validity.until,
                  "the new end, exclusive: YYYY-MM-DD (00:00 UTC) or YYYY-MM-DDTHH:MM:SSZ");
  update->reference_opt = cmd->add_option("--reference", update->reference, "free text");
  AddFormatOption(cmd, update->format);
  cmd->callback([&run, update] {
    v1::UpdateGrantRequest req;
    v1::Grant* g = req.mutable_grant();
    g->set_id(update->id);
    if (update->amount_opt->count() > 0) {
      // The resource stays as it is: only the number changes.
      g->mutable_amount()->set_milli(AmountOrUsageError(update->amount, "--amount"));
      req.mutable_update_mask()->add_paths("amount");
    }
    if (!update->validity.until.empty()) {
      SetTimestamp(ValueOrUsageError(ParseDate(update->validity.until), "--until"),
                   g->mutable_valid_until());
      req.mutable_update_mask()->add_paths("valid_until");
    }
    if (update->reference_opt->count() > 0) {
      g->set_reference(update->reference);
      req.mutable_update_mask()->add_paths("reference");
    }
    if (req.update_mask().paths().empty()) {
      UsageError("update", "give --amount, --until or --reference");
    }
    run = [req, format = update->format](client::Connection& c) {
      v1::Grant out;
      if (int rc = DROCC_CALL(c, AdminService, admin, UpdateGrant, req, &out)) return rc;
      return PrintGrant("updated", out, format);
    };
  });

  auto del = std::make_shared<GrantOptions>();
  cmd = group->add_subcommand("delete", "Delete a grant");
  cmd->add_option("id", del->id, "grant id")->required();
  AddFormatOption(cmd, del->format);
  cmd->callback([&run, del] {
    v1::DeleteGrantRequest req;
    req.set_id(del->id);
    run = [req, format = del->format](client::Connection& c) {
      v1::Empty e;
      if (int rc = DROCC_CALL(c, AdminService, admin, DeleteGrant, req, &e)) return rc;
      PrintResult(format, absl::StrCat("deleted grant ", req.id()),
                  {{"grant", req.id()}, {"deleted", true}});
      return 0;
    };
  });
}

// ---- limits ----

struct LimitOptions {
  std::string project;
  std::string user;
  std::optional<uint32_t> max_gpus;
  std::optional<uint32_t> max_cpus;
  std::optional<uint32_t> max_nodes;
  std::optional<uint32_t> max_pending;
  std::string max_walltime;
  Format format = Format::kTable;
};

// SetLimit replaces the whole limit (0 = none), but `limit set ml --max-gpus 8` means "and
// keep the others": start from the current limit. Read-modify-write: two admins setting
// different limits of one project at the same moment may lose one change.
int SetLimit(client::Connection& c, const v1::Limit& given, const LimitOptions& o) {
  v1::ListLimitsRequest list_req;
  list_req.set_project(given.project());
  v1::ListLimitsResponse current;
  if (int rc = DROCC_CALL(c, AdminService, admin, ListLimits, list_req, &current)) return rc;
  v1::SetLimitRequest req;
  v1::Limit* l = req.mutable_limit();
  l->set_project(given.project());
  l->set_user(given.user());
  for (const v1::Limit& existing : current.limits()) {
    if (existing.user() == given.user()) *l = existing;
  }
  if (o.max_gpus) l->set_max_gpus(given.max_gpus());
  if (o.max_cpus) l->set_max_cpus(given.max_cpus());
  if (o.max_nodes) l->set_max_nodes(given.max_nodes());
  if (o.max_pending) l->set_max_pending_jobs(given.max_pending_jobs());
  if (!o.max_walltime.empty()) l->set_max_walltime_s(given.max_walltime_s());
  v1::Limit out;
  if (int rc = DROCC_CALL(c, AdminService, admin, SetLimit, req, &out)) return rc;
  PrintResult(o.format, LimitSummary(out), LimitJson(out));
  return 0;
}

void AddLimitCommands(CLI::App* admin, Runner& run) {
  CLI::App* group = admin->add_subcommand("limit", "Limits of a project, or of a user in it");
  group->require_subcommand(1);

  auto set = std::make_shared<LimitOptions>();
  CLI::App* cmd = group->add_subcommand(
      "set",
      "Set limits; those not given keep their value, 0 (UNLIMITED for walltime) removes one");
  cmd->add_option("project", set->project, "project name")->required();
  cmd->add_option("--user", set->user, "a limit for this user inside the project");
  cmd->add_option("--max-gpus", set->max_gpus, "GPUs in use at once");
  cmd->add_option("--max-cpus", set->max_cpus, "CPUs in use at once");
  cmd->add_option("--max-nodes", set->max_nodes, "nodes in use at once");
  cmd->add_option("--max-pending", set->max_pending, "jobs waiting at once");
  cmd->add_option("--max-walltime", set->max_walltime,
                  "longest time limit, as sbatch -t: 90, 1:30:00, 2-00:00:00 or UNLIMITED");
  AddFormatOption(cmd, set->format);
  cmd->callback([&run, set] {
    v1::Limit given;
    given.set_project(set->project);
    given.set_user(set->user);
    given.set_max_gpus(set->max_gpus.value_or(0));
    given.set_max_cpus(set->max_cpus.value_or(0));
    given.set_max_nodes(set->max_nodes.value_or(0));
    given.set_max_pending_jobs(set->max_pending.value_or(0));
    if (!set->max_walltime.empty()) {
      given.set_max_walltime_s(
          ValueOrUsageError(ParseWalltimeLimit(set->max_walltime), "--max-walltime"));
    }
    if (!set->max_gpus && !set->max_cpus && !set->max_nodes && !set->max_pending &&
        set->max_walltime.empty()) {
      UsageError("set",
                 "give at least one of --max-gpus, --max-cpus, --max-nodes, --max-pending, "
                 "--max-walltime");
    }
    run = [given, set](client::Connection& c) { return SetLimit(c, given, *set); };
  });

  auto list = std::make_shared<LimitOptions>();
  cmd = group->add_subcommand("list", "List a project's limits (\"-\": no limit)");
  cmd->add_option("project", list->project, "project name")->required();
  AddFormatOption(cmd, list->format);
  cmd->callback([&run, list] {
    v1::ListLimitsRequest req;
    req.set_project(list->project);
    run = [req, format = list->format](client::Connection& c) {
      v1::ListLimitsResponse resp;
      if (int rc = DROCC_CALL(c, AdminService, admin, ListLimits, req, &resp)) return rc;
      if (format == Format::kJson) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& l : resp.limits()) arr.push_back(LimitJson(l));
        PrintJson(arr);
      } else {
        PrintText(LimitTable(resp.limits()));
      }
      return 0;
    };
  });

  auto del = std::make_shared<LimitOptions>();
  cmd = group->add_subcommand("delete", "Remove a project's limits, or a user's in it");
  cmd->add_option("project", del->project, "project name")->required();
  cmd->add_option("--user", del->user, "this user's limits, not the project's");
  AddFormatOption(cmd, del->format);
  cmd->callback([&run, del] {
    v1::DeleteLimitRequest req;
    req.set_project(del->project);
    req.set_user(del->user);
    run = [req, format = del->format](client::Connection& c) {
      v1::Empty e;
      if (int rc = DROCC_CALL(c, AdminService, admin, DeleteLimit, req, &e)) return rc;
      nlohmann::json j = {{"project", req.project()}, {"deleted", true}};
      j["user"] = req.user().empty() ? nlohmann::json() : nlohmann::json(req.user());
      PrintResult(format,
                  absl::StrCat("deleted the limits of project ", req.project(),
                               req.user().empty() ? "" : absl::StrCat(", user ", req.user())),
                  j);
      return 0;
    };
  });
}

}  // namespace

void AddAdminQuotaCommands(CLI::App* admin, Runner& run) {
  AddGrantCommands(admin, run);
  AddLimitCommands(admin, run);
}

}  // namespace drocc::cli
