#pragma once

// The drocc command groups. Each registers its subcommands on the app and, when one of them
// is chosen, sets `run` to the action to perform once the command line is parsed.

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "client/cli/output.h"
#include "client/lib/connection.h"

namespace drocc::cli {

using Runner = std::function<int(client::Connection&)>;

void AddSubmitCommands(CLI::App& app, Runner& run);   // submit, estimate
void AddJobCommands(CLI::App& app, Runner& run);      // jobs, show, cancel, logs, watch
void AddAdminCommands(CLI::App& app, Runner& run);    // admin ...
void AddProjectCommands(CLI::App& app, Runner& run);  // balance, usage

// Prints "drocc: <message>" on stderr; returns the exit code 1.
int Fail(absl::string_view message);
// The same for a failed call.
int FailCall(const client::Connection& conn, const grpc::Status& status);
// -o table|json on a listing command.
void AddFormatOption(CLI::App* cmd, Format& format);

}  // namespace drocc::cli
