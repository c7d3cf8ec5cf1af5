// drocc admin token create | list | revoke: service tokens for droccd's TLS listener.

#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/cli/arguments.h"
#include "client/cli/commands.h"

namespace drocc::cli {
namespace {

struct CreateOptions {
  std::string user;
  std::string project;
  std::string expires = "90d";
  std::string description;
  Format format = Format::kTable;
};

// "90d", "12h": that long from now; otherwise a date (ParseDate's formats).
absl::StatusOr<absl::Time> ParseExpiry(const std::string& text, absl::Time now) {
  if (text.size() >= 2 && (text.back() == 'd' || text.back() == 'h')) {
    int64_t n = 0;
    if (absl::SimpleAtoi(text.substr(0, text.size() - 1), &n) && n > 0 && n <= 24 * 366) {
      return now + (text.back() == 'd' ? absl::Hours(24 * n) : absl::Hours(n));
    }
  }
  absl::StatusOr<absl::Time> date = ParseDate(text);
  if (!date.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is neither a lifetime (90d, 12h) nor a date (YYYY-MM-DD)"));
  }
  return date;
}

nlohmann::json TokenJson(const v1::ServiceToken& t) {
  return {{"id", t.id()},
          {"user", t.user()},
          {"project", t.project()},
          {"description", t.description()},
          {"create_time", TimeJson(t.create_time())},
          {"expire_time", TimeJson(t.expire_time())},
          {"last_used_time", TimeJson(t.last_used_time())},
          {"revoked", t.revoked()}};
}

}  // namespace

void AddAdminTokenCommands(CLI::App* admin, Runner& run) {
  CLI::App* token =
      admin->add_subcommand("token", "Service tokens for remote pipelines (droccd's TLS listener)");
  token->require_subcommand(1);

  auto create = std::make_shared<CreateOptions>();
  CLI::App* cmd = token->add_subcommand(
      "create", "Make a token acting as USER in PROJECT; its secret is shown once");
  cmd->add_option("-u,--user", create->user, "the Unix user it acts as")->required();
  cmd->add_option("-p,--project", create->project, "the one project it may use")->required();
  cmd->add_option("--expires", create->expires,
                  "lifetime (90d, 12h) or date (YYYY-MM-DD); at most 366 days (default 90d)");
  cmd->add_option("-d,--description", create->description, "what it is for");
  AddFormatOption(cmd, create->format);
  cmd->callback([&run, create] {
    v1::CreateTokenRequest req;
    v1::ServiceToken* t = req.mutable_token();
    t->set_user(create->user);
    t->set_project(create->project);
    t->set_description(create->description);
    SetTimestamp(ValueOrUsageError(ParseExpiry(create->expires, absl::Now()), "--expires"),
                 t->mutable_expire_time());
    run = [req, format = create->format](client::Connection& c) {
      v1::CreateTokenResponse resp;
      if (int rc = DROCC_CALL(c, AdminService, admin, CreateToken, req, &resp)) return rc;
      if (format == Format::kJson) {
        nlohmann::json j = TokenJson(resp.token());
        j["secret"] = resp.secret();
        PrintJson(j);
        return 0;
      }
      PrintText(absl::StrCat("Token ", resp.token().id(), " acts as ", resp.token().user(),
                             " in project ", resp.token().project(), " until ",
                             TimeText(resp.token().expire_time()),
                             ".\nIts secret, shown this once (keep it in a file only its user "
                             "can read, then pass --token-file FILE):\n",
                             resp.secret(), "\n"));
      return 0;
    };
  });

  auto list_format = std::make_shared<Format>(Format::kTable);
  cmd = token->add_subcommand("list", "Every service token (never their secrets)");
  AddFormatOption(cmd, *list_format);
  cmd->callback([&run, list_format] {
    run = [list_format](client::Connection& c) {
      v1::ListTokensResponse resp;
      if (int rc = DROCC_CALL(c, AdminService, admin, ListTokens, v1::ListTokensRequest(), &resp)) {
        return rc;
      }
      if (*list_format == Format::kJson) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& t : resp.tokens()) arr.push_back(TokenJson(t));
        PrintJson(arr);
        return 0;
      }
      Table table({"ID", "USER", "PROJECT", "EXPIRES", "LAST USED", "STATE", "DESCRIPTION"});
      for (const auto& t : resp.tokens()) {
        table.Add({t.id(), t.user(), t.project(), TimeText(t.expire_time()),
                   TimeText(t.last_used_time()), t.revoked() ? "revoked" : "active",
                   t.description()});
      }
      PrintText(table.Render());
      return 0;
    };
  });

  auto revoke_id = std::make_shared<std::string>();
  cmd = token->add_subcommand("revoke", "Revoke a token: refused from this moment on");
  cmd->add_option("ID", *revoke_id, "the token's id (drocc admin token list)")->required();
  cmd->callback([&run, revoke_id] {
    run = [revoke_id](client::Connection& c) {
      v1::RevokeTokenRequest req;
      req.set_id(*revoke_id);
      v1::Empty resp;
      if (int rc = DROCC_CALL(c, AdminService, admin, RevokeToken, req, &resp)) return rc;
      PrintText(absl::StrCat("Token ", *revoke_id, " revoked.\n"));
      return 0;
    };
  });
}

}  // namespace drocc::cli
