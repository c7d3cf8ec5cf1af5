// drocc admin account | project | member: who may use the machine, and under which budget.

#include <memory>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"

namespace drocc::cli {
namespace {

// Calls `fetch_page(req, &resp)` (one DROCC_CALL) page after page and hands each response to
// `take`, until the server has no more pages. 0, or the exit code of the call that failed.
template <typename Resp, typename Req, typename Fetch, typename Take>
int ForEachPage(Req req, Fetch fetch_page, Take take) {
  do {
    Resp resp;
    if (int rc = fetch_page(req, &resp)) return rc;
    take(resp);
    if (resp.next_page_token() == req.page().page_token()) break;  // a server that repeats itself
    req.mutable_page()->set_page_token(resp.next_page_token());
  } while (!req.page().page_token().empty());
  return 0;
}

// ---- accounts ----

std::string KindName(v1::AccountKind kind) {
  return EnumLabel(v1::AccountKind_Name(kind), "ACCOUNT_KIND_");
}

void AddKindOption(CLI::App* cmd, v1::AccountKind& kind, CLI::Option** opt) {
  *opt = AddChoiceOption<v1::AccountKind>(cmd, "--kind", kind,
                                          {{"lab", v1::ACCOUNT_KIND_LAB},
                                           {"sme", v1::ACCOUNT_KIND_SME},
                                           {"internal", v1::ACCOUNT_KIND_INTERNAL}},
                                          "the kind of organisation");
}

nlohmann::json AccountJson(const v1::Account& a) {
  return {{"name", a.name()},
          {"kind", KindName(a.kind())},
          {"description", a.description()},
          {"create_time", TimeJson(a.create_time())}};
}

std::string AccountLine(const char* verb, const v1::Account& a) {
  return absl::StrCat(verb, " account ", a.name(), " (", KindName(a.kind()), ")",
                      a.description().empty() ? "" : absl::StrCat(": ", a.description()));
}

struct AccountOptions {
  std::string name;
  v1::AccountKind kind = v1::ACCOUNT_KIND_UNSPECIFIED;
  std::string description;
  CLI::Option* kind_opt = nullptr;
  CLI::Option* description_opt = nullptr;
  Format format = Format::kTable;
};

int ListAccounts(client::Connection& c, Format format) {
  google::protobuf::RepeatedPtrField<v1::Account> all;
  int rc = ForEachPage<v1::ListAccountsResponse>(
      v1::ListAccountsRequest(),
      [&c](const auto& req, auto* resp) {
        return DROCC_CALL(c, AdminService, admin, ListAccounts, req, resp);
      },
      [&all](const auto& resp) { all.MergeFrom(resp.accounts()); });
  if (rc != 0) return rc;
  if (format == Format::kJson) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& a : all) arr.push_back(AccountJson(a));
    PrintJson(arr);
    return 0;
  }
  Table t({"NAME", "KIND", "DESCRIPTION", "CREATED"});
  for (const auto& a : all) {
    t.Add({a.name(), KindName(a.kind()), a.description(), TimeText(a.create_time())});
  }
  PrintText(t.Render());
  return 0;
}

void AddAccountCommands(CLI::App* admin, Runner& run) {
  CLI::App* group =
      admin->add_subcommand("account", "Accounts: the organisations projects belong to");
  group->require_subcommand(1);

  auto create = std::make_shared<AccountOptions>();
  CLI::App* cmd = group->add_subcommand("create", "Create an account");
  cmd->add_option("name", create->name, "account name")->required();
  AddKindOption(cmd, create->kind, &create->kind_opt);
  create->kind_opt->required();
  cmd->add_option("--description", create->description, "free text");
  AddFormatOption(cmd, create->format);
  cmd->callback([&run, create] {
    v1::CreateAccountRequest req;
    req.mutable_account()->set_name(create->name);
    req.mutable_account()->set_kind(create->kind);
    req.mutable_account()->set_description(create->description);
    run = [req, format = create->format](client::Connection& c) {
      v1::Account a;
      if (int rc = DROCC_CALL(c, AdminService, admin, CreateAccount, req, &a)) return rc;
      PrintResult(format, AccountLine("created", a), AccountJson(a));
      return 0;
    };
  });

  auto list_format = std::make_shared<Format>(Format::kTable);
  cmd = group->add_subcommand("list", "List accounts");
  AddFormatOption(cmd, *list_format);
  cmd->callback([&run, list_format] {
    run = [list_format](client::Connection& c) { return ListAccounts(c, *list_format); };
  });

  auto update = std::make_shared<AccountOptions>();
  cmd = group->add_subcommand("update", "Change an account's kind or description");
  cmd->add_option("name", update->name, "account name")->required();
  AddKindOption(cmd, update->kind, &update->kind_opt);
  update->description_opt = cmd->add_option("--description", update->description, "free text");
  AddFormatOption(cmd, update->format);
  cmd->callback([&run, update] {
    v1::UpdateAccountRequest req;
    req.mutable_account()->set_name(update->name);
    if (update->kind_opt->count() > 0) {
      req.mutable_account()->set_kind(update->kind);
      req.mutable_update_mask()->add_paths("kind");
    }
    if (update->description_opt->count() > 0) {
      req.mutable_account()->set_description(update->description);
      req.mutable_update_mask()->add_paths("description");
    }
    if (req.update_mask().paths().empty()) UsageError("update", "give --kind or --description");
    run = [req, format = update->format](client::Connection& c) {
      v1::Account a;
      if (int rc = DROCC_CALL(c, AdminService, admin, UpdateAccount, req, &a)) return rc;
      PrintResult(format, AccountLine("updated", a), AccountJson(a));
      return 0;
    };
  });

  auto del = std::make_shared<AccountOptions>();
  cmd = group->add_subcommand("delete", "Delete an account (it must have no projects)");
  cmd->add_option("name", del->name, "account name")->required();
  AddFormatOption(cmd, del->format);
  cmd->callback([&run, del] {
    v1::DeleteAccountRequest req;
    req.set_name(del->name);
    run = [req, format = del->format](client::Connection& c) {
      v1::Empty e;
      if (int rc = DROCC_CALL(c, AdminService, admin, DeleteAccount, req, &e)) return rc;
      PrintResult(format, absl::StrCat("deleted account ", req.name()),
                  {{"account", req.name()}, {"deleted", true}});
      return 0;
    };
  });
}

// ---- projects ----

nlohmann::json ProjectJson(const v1::Project& p) {
  return {{"name", p.name()},
          {"account", p.account()},
          {"share", p.share()},
          {"description", p.description()},
          {"create_time", TimeJson(p.create_time())}};
}

std::string ProjectLine(const char* verb, const v1::Project& p) {
  return absl::StrCat(verb, " project ", p.name(), " in account ", p.account(), ", share ",
                      p.share(),
                      p.description().empty() ? "" : absl::StrCat(": ", p.description()));
}

struct ProjectOptions {
  std::string name;
  std::string account;
  uint32_t share = 1;
  std::string description;
  CLI::Option* share_opt = nullptr;
  CLI::Option* description_opt = nullptr;
  Format format = Format::kTable;
};

int ListProjects(client::Connection& c, const std::string& account, Format format) {
  v1::ListProjectsRequest first;
  first.set_account(account);
  google::protobuf::RepeatedPtrField<v1::Project> all;
  int rc = ForEachPage<v1::ListProjectsResponse>(
      first,
      [&c](const auto& req, auto* resp) {
        return DROCC_CALL(c, AdminService, admin, ListProjects, req, resp);
      },
      [&all](const auto& resp) { all.MergeFrom(resp.projects()); });
  if (rc != 0) return rc;
  if (format == Format::kJson) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& p : all) arr.push_back(ProjectJson(p));
    PrintJson(arr);
    return 0;
  }
  Table t({"NAME", "ACCOUNT", "SHARE", "DESCRIPTION", "CREATED"});
  for (const auto& p : all) {
    t.Add({p.name(), p.account(), absl::StrCat(p.share()), p.description(),
           TimeText(p.create_time())});
  }
  PrintText(t.Render());
  return 0;
}

void AddProjectAdminCommands(CLI::App* admin, Runner& run) {
  CLI::App* group = admin->add_subcommand("project", "Projects: the budgets jobs are charged to");
  group->require_subcommand(1);

  auto create = std::make_shared<ProjectOptions>();
  CLI::App* cmd = group->add_subcommand("create", "Create a project in an account");
  cmd->add_option("name", create->name, "project name")->required();
  cmd->add_option("--account", create->account, "the account it belongs to")->required();
  cmd->add_option("--share", create->share, "fair-share weight, at least 1 (default 1)");
  cmd->add_option("--description", create->description, "free text");
  AddFormatOption(cmd, create->format);
  cmd->callback([&run, create] {
    v1::CreateProjectRequest req;
    req.mutable_project()->set_name(create->name);
    req.mutable_project()->set_account(create->account);
    if (create->share == 0) UsageError("--share", "must be at least 1");
    req.mutable_project()->set_share(create->share);
    req.mutable_project()->set_description(create->description);
    run = [req, format = create->format](client::Connection& c) {
      v1::Project p;
      if (int rc = DROCC_CALL(c, AdminService, admin, CreateProject, req, &p)) return rc;
      PrintResult(format, ProjectLine("created", p), ProjectJson(p));
      return 0;
    };
  });

  auto list = std::make_shared<ProjectOptions>();
  cmd = group->add_subcommand("list", "List projects");
  cmd->add_option("--account", list->account, "only this account's projects");
  AddFormatOption(cmd, list->format);
  cmd->callback([&run, list] {
    run = [list](client::Connection& c) { return ListProjects(c, list->account, list->format); };
  });

  auto update = std::make_shared<ProjectOptions>();
  cmd = group->add_subcommand("update", "Change a project's share or description");
  cmd->add_option("name", update->name, "project name")->required();
  update->share_opt = cmd->add_option("--share", update->share, "fair-share weight, at least 1");
  update->description_opt = cmd->add_option("--description", update->description, "free text");
  AddFormatOption(cmd, update->format);
  cmd->callback([&run, update] {
    v1::UpdateProjectRequest req;
    req.mutable_project()->set_name(update->name);
    if (update->share_opt->count() > 0) {
      if (update->share == 0) UsageError("--share", "must be at least 1");
      req.mutable_project()->set_share(update->share);
      req.mutable_update_mask()->add_paths("share");
    }
    if (update->description_opt->count() > 0) {
      req.mutable_project()->set_description(update->description);
      req.mutable_update_mask()->add_paths("description");
    }
    if (req.update_mask().paths().empty()) UsageError("update", "give --share or --description");
    run = [req, format = update->format](client::Connection& c) {
      v1::Project p;
      if (int rc = DROCC_CALL(c, AdminService, admin, UpdateProject, req, &p)) return rc;
      PrintResult(format, ProjectLine("updated", p), ProjectJson(p));
      return 0;
    };
  });

  auto del = std::make_shared<ProjectOptions>();
  cmd = group->add_subcommand("delete", "Delete a project");
  cmd->add_option("name", del->name, "project name")->required();
  AddFormatOption(cmd, del->format);
  cmd->callback([&run, del] {
    v1::DeleteProjectRequest req;
    req.set_name(del->name);
    run = [req, format = del->format](client::Connection& c) {
      v1::Empty e;
      if (int rc = DROCC_CALL(c, AdminService, admin, DeleteProject, req, &e)) return rc;
      PrintResult(format, absl::StrCat("deleted project ", req.name()),
                  {{"project", req.name()}, {"deleted", true}});
      return 0;
    };
  });
}

// ---- members ----

std::string RoleName(v1::ProjectRole role) {
  return EnumLabel(v1::ProjectRole_Name(role), "PROJECT_ROLE_");
}

nlohmann::json MemberJson(const v1::Member& m) {
  return {{"project", m.project()},
          {"user", m.user()},
          {"role", RoleName(m.role())},
          {"default", m.is_default()}};
}

std::string MemberLine(const v1::Member& m) {
  return absl::StrCat(m.user(), " is ", RoleName(m.role()), " of project ", m.project(),
                      m.is_default() ? " (their default project)" : "");
}

struct MemberOptions {
  std::string project;
  std::string user;
  v1::ProjectRole role = v1::PROJECT_ROLE_MEMBER;
  bool is_default = false;
  CLI::Option* role_opt = nullptr;
  CLI::Option* default_opt = nullptr;
  Format format = Format::kTable;
};

void AddProjectUserArgs(CLI::App* cmd, MemberOptions& o) {
  cmd->add_option("project", o.project, "project name")->required();
  cmd->add_option("user", o.user, "Unix user name")->required();
}

void AddRoleOption(CLI::App* cmd, MemberOptions& o, const char* help) {
  o.role_opt = AddChoiceOption<v1::ProjectRole>(
      cmd, "--role", o.role,
      {{"member", v1::PROJECT_ROLE_MEMBER}, {"manager", v1::PROJECT_ROLE_MANAGER}}, help);
}

void AddMemberCommands(CLI::App* admin, Runner& run) {
  CLI::App* group = admin->add_subcommand("member", "Project members and their roles");
  group->require_subcommand(1);

  auto add = std::make_shared<MemberOptions>();
  CLI::App* cmd = group->add_subcommand("add", "Add a user to a project");
  AddProjectUserArgs(cmd, *add);
  AddRoleOption(cmd, *add, "member (default), or manager: sees everyone's usage");
  cmd->add_flag("--default", add->is_default, "make it the user's default project");
  AddFormatOption(cmd, add->format);
  cmd->callback([&run, add] {
    v1::AddMemberRequest req;
    req.mutable_member()->set_project(add->project);
    req.mutable_member()->set_user(add->user);
    req.mutable_member()->set_role(add->role);
    req.mutable_member()->set_is_default(add->is_default);
    run = [req, format = add->format](client::Connection& c) {
      v1::Member m;
      if (int rc = DROCC_CALL(c, AdminService, admin, AddMember, req, &m)) return rc;
      PrintResult(format, MemberLine(m), MemberJson(m));
      return 0;
    };
  });

  auto list = std::make_shared<MemberOptions>();
  cmd = group->add_subcommand("list", "List a project's members");
  cmd->add_option("project", list->project, "project name")->required();
  AddFormatOption(cmd, list->format);
  cmd->callback([&run, list] {
    v1::ListMembersRequest req;
    req.set_project(list->project);
    run = [req, format = list->format](client::Connection& c) {
      v1::ListMembersResponse resp;
      if (int rc = DROCC_CALL(c, AdminService, admin, ListMembers, req, &resp)) return rc;
      if (format == Format::kJson) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& m : resp.members()) arr.push_back(MemberJson(m));
        PrintJson(arr);
        return 0;
      }
      Table t({"PROJECT", "USER", "ROLE", "DEFAULT"});
      for (const auto& m : resp.members()) {
        t.Add({m.project(), m.user(), RoleName(m.role()), m.is_default() ? "yes" : ""});
      }
      PrintText(t.Render());
      return 0;
    };
  });

  auto update = std::make_shared<MemberOptions>();
  cmd = group->add_subcommand("update", "Change a member's role or default project");
  AddProjectUserArgs(cmd, *update);
  AddRoleOption(cmd, *update, "the new role");
  update->default_opt = cmd->add_flag("--default,!--no-default", update->is_default,
                                      "make it (or, with --no-default, stop it being) the "
                                      "user's default project");
  AddFormatOption(cmd, update->format);
  cmd->callback([&run, update] {
    v1::UpdateMemberRequest req;
    req.mutable_member()->set_project(update->project);
    req.mutable_member()->set_user(update->user);
    if (update->role_opt->count() > 0) {
      req.mutable_member()->set_role(update->role);
      req.mutable_update_mask()->add_paths("role");
    }
    if (update->default_opt->count() > 0) {
      req.mutable_member()->set_is_default(update->is_default);
      req.mutable_update_mask()->add_paths("is_default");
    }
    if (req.update_mask().paths().empty()) {
      UsageError("update", "give --role, --default or --no-default");
    }
    run = [req, format = update->format](client::Connection& c) {
      v1::Member m;
      if (int rc = DROCC_CALL(c, AdminService, admin, UpdateMember, req, &m)) return rc;
      PrintResult(format, MemberLine(m), MemberJson(m));
      return 0;
    };
  });

  auto remove = std::make_shared<MemberOptions>();
  cmd = group->add_subcommand("remove", "Remove a user from a project");
  AddProjectUserArgs(cmd, *remove);
  AddFormatOption(cmd, remove->format);
  cmd->callback([&run, remove] {
    v1::RemoveMemberRequest req;
    req.set_project(remove->project);
    req.set_user(remove->user);
    run = [req, format = remove->format](client::Connection& c) {
      v1::Empty e;
      if (int rc = DROCC_CALL(c, AdminService, admin, RemoveMember, req, &e)) return rc;
      PrintResult(format, absl::StrCat("removed ", req.user(), " from project ", req.project()),
                  {{"project", req.project()}, {"user", req.user()}, {"removed", true}});
      return 0;
    };
  });
}

}  // namespace

void AddAdminOrgCommands(CLI::App* admin, Runner& run) {
  AddAccountCommands(admin, run);
  AddProjectAdminCommands(admin, run);
  AddMemberCommands(admin, run);
}

}  // namespace drocc::cli
