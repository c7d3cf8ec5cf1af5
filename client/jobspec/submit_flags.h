#pragma once

// The sbatch-style options of `drocc submit` (and of #SBATCH lines), kept as raw strings.
// Values are checked later, by ResolveJobRequest (resolve.h), so that a bad value reads the
// same whether it came from the command line or from a script.

#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"

namespace drocc::client {

struct SubmitFlags {
  // Values as typed; nullopt = not given. The last of repeated options wins, as in sbatch.
  std::optional<std::string> nodes;            // -N/--nodes N or MIN-MAX
  std::optional<std::string> ntasks;           // -n/--ntasks
  std::optional<std::string> ntasks_per_node;  // --ntasks-per-node
  std::optional<std::string> cpus_per_task;    // -c/--cpus-per-task
  std::optional<std::string> gpus_per_node;    // --gpus-per-node N or TYPE:N
  std::optional<std::string> gres;             // --gres
  std::optional<std::string> mem;              // --mem
  std::optional<std::string> time;             // -t/--time
  std::optional<std::string> job_name;         // -J/--job-name
  std::optional<std::string> partition;        // -p/--partition
  std::optional<std::string> output;           // -o/--output
  std::optional<std::string> error;            // -e/--error
  std::optional<std::string> open_mode;        // --open-mode
  std::optional<std::string> chdir;            // -D/--chdir
  std::optional<std::string> export_env;       // --export
  std::optional<std::string> signal;           // --signal
  std::optional<std::string> project;          // --project (drocc's own)
  std::optional<std::string> priority;         // --priority
  std::optional<std::string> account;          // -A/--account: only to explain (resolve.h)
  bool parsable = false;                       // --parsable: print only the job id

  // sbatch options accepted without effect (e.g. "--mail-type"); ResolveJobRequest warns.
  std::vector<std::string> ignored;

  // SCRIPT and everything after it, verbatim: flags after SCRIPT belong to the script, as with
  // sbatch. Options the CLI11 parser does not know (an abbreviation such as --part=gpu, or an
  // sbatch option drocc refuses) are set aside by CLI11 and come first here: then `script` is
  // that option, and ResolveJobRequest parses the rest, SCRIPT included, itself.
  std::string script;
  std::vector<std::string> script_args;
};

// Registers sbatch's spellings on a CLI11 (sub)command, storing into `f`, which must outlive
// the parse: -N/--nodes, -n/--ntasks, --ntasks-per-node, -c/--cpus-per-task, --gpus-per-node,
// --gres, --mem, -t/--time, -J/--job-name, -p/--partition, -o/--output, -e/--error,
// --open-mode, -D/--chdir, --export, --signal, --project, --priority, --parsable, plus
// -A/--account and the ignored --mail-type, --mail-user and --comment. Every form sbatch takes
// works: --opt=value, --opt value, -Nvalue, -N value.
//
// It makes `app` a prefix command (parsing stops at SCRIPT; the rest goes to the script) and
// installs a parse-complete callback that fills f.script and f.script_args: do not replace
// that callback; put your action in app.callback(), which runs after it.
void AddSubmitFlags(CLI::App& app, SubmitFlags& f);

// Parses sbatch-style arguments (no program name) into SubmitFlags with the same rules and
// spellings as AddSubmitFlags, plus what getopt_long gives sbatch: unambiguous abbreviations
// of long options (--part=gpu). The first argument that is not an option is SCRIPT and the
// rest are its arguments. Errors (InvalidArgument, one line): unknown options, sbatch options
// drocc does not support (with what to do instead), ambiguous abbreviations, missing values.
absl::StatusOr<SubmitFlags> ParseSubmitArgs(const std::vector<std::string>& args);

}  // namespace drocc::client
