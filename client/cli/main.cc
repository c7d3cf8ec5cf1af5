// drocc: the command-line client of droccd.

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"

int main(int argc, char** argv) {
  using namespace drocc;
  CLI::App app{"drocc: submit and follow jobs on DROCC, see budgets, administer"};
  app.require_subcommand(1);
  std::string server;
  app.add_option("--server", server,
                 absl::StrCat("droccd address: unix:/path, host:port (MUNGE) or https://host:port "
                              "(service token) (default $",
                              client::kServerEnv, ", else ", client::kDefaultServer, ")"));
  std::string token_file;
  app.add_option("--token-file", token_file,
                 absl::StrCat("service token for an https:// server (default $",
                              client::kTokenFileEnv, "); CA in $", client::kCaCertEnv));
  app.set_version_flag("--version", "drocc 0.1.0");
  cli::Runner run;
  cli::AddSubmitCommands(app, run);
  cli::AddJobCommands(app, run);
  cli::AddProjectCommands(app, run);
  cli::AddAdminCommands(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "drocc: %s (see drocc --help)\n", e.what());
    return 2;
  }
  auto address = client::ResolveServerAddress(server, std::getenv(client::kServerEnv));
  if (!address.ok()) return cli::Fail(address.status().message());
  if (!run) return cli::Fail("nothing to do (see drocc --help)");
  client::TlsOptions tls;
  if (address->tls) {
    auto loaded = client::LoadTlsOptions(token_file);
    if (!loaded.ok()) return cli::Fail(loaded.status().message());
    tls = *std::move(loaded);
  }
  client::Connection conn(*address, std::move(tls));
  return run(conn);
}
