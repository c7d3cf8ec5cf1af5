#include "client/jobspec/sbatch_options.h"

#include <algorithm>

#include "absl/status/status.h"
#include "client/jobspec/parse_util.h"

namespace drocc::client::internal {
namespace {

using U = OptionUse;
using F = SubmitFlags;

constexpr std::string_view kRemove = "remove it";
constexpr std::string_view kPlacement = "drocc leaves node placement to Slurm; remove it";
constexpr std::string_view kPerNodeMem = "give the memory per node with --mem instead";
constexpr std::string_view kPerNodeGpus = "give the GPUs per node with --gpus-per-node instead";
constexpr std::string_view kCpuLayout =
    "describe the layout with -N, -n, --ntasks-per-node and -c instead";
constexpr std::string_view kAdmission = "drocc decides admission and order itself; remove it";
constexpr std::string_view kRequeue =
    "drocc decides about requeueing (after preemption or a checkpointed time-limit stop); "
    "remove it";
constexpr std::string_view kSubmittingUser =
    "drocc always runs jobs as the submitting user; remove it";
constexpr std::string_view kSbatchOnly = "it only makes sense for sbatch itself; remove it";

// sbatch 22.05's options (sbatch(1)), and drocc's --project. Sorted by long name.
constexpr SbatchOption kOptions[] = {
    {'A', "account", true, U::kSupported, &F::account, "NAME",
     "Slurm bank account: not used by drocc, see --project"},
    {'\0', "acctg-freq", true, U::kUnsupported, nullptr, "", kRemove},
    {'a', "array", true, U::kUnsupported, nullptr, "",
     "job arrays are not supported yet; submit one job per array index"},
    {'\0', "batch", true, U::kUnsupported, nullptr, "", kPlacement},
    {'\0', "bb", true, U::kUnsupported, nullptr, "", kRemove},
    {'\0', "bbf", true, U::kUnsupported, nullptr, "", kRemove},
    {'b', "begin", true, U::kUnsupported, nullptr, "",
     "delayed starts are not supported yet; submit at the time you want the job to queue"},
    {'D', "chdir", true, U::kSupported, &F::chdir, "DIR",
     "working directory of the job (relative to the current directory)"},
    {'\0', "cluster-constraint", true, U::kUnsupported, nullptr, "", kRemove},
    {'M', "clusters", true, U::kUnsupported, nullptr, "",
     "drocc submits to the cluster its daemon runs on; remove it"},
    {'\0', "comment", true, U::kIgnored, nullptr, "TEXT",
     "drocc keeps its own job id in Slurm's comment"},
    {'C', "constraint", true, U::kUnsupported, nullptr, "", kPlacement},
    {'\0', "container", true, U::kUnsupported, nullptr, "", kRemove},
    {'\0', "contiguous", false, U::kUnsupported, nullptr, "", kPlacement},
    {'S', "core-spec", true, U::kUnsupported, nullptr, "", kRemove},
    {'\0', "cores-per-socket", true, U::kUnsupported, nullptr, "", kCpuLayout},
    {'\0', "cpu-freq", true, U::kUnsupported, nullptr, "", kRemove},
    {'\0', "cpus-per-gpu", true, U::kUnsupported, nullptr, "",
     "give the CPUs per task with -c/--cpus-per-task instead"},
    {'c', "cpus-per-task", true, U::kSupported, &F::cpus_per_task, "N", "CPUs per task"},
    {'\0', "deadline", true, U::kUnsupported, nullptr, "", kRemove},
    {'\0', "delay-boot", true, U::kUnsupported, nullptr, "", kRemove},
    {'d', "dependency", true, U::kUnsupported, nullptr, "",
     "job dependencies are not supported yet; submit the next job when this one has finished"},
    {'m', "distribution", true, U::kUnsupported, nullptr, "",
     "set the task distribution on srun inside the script instead"},
    {'e', "error", true, U::kSupported, &F::error, "PATTERN",
     "file for the job's standard error (%j = job id, %x = job name)"},
    {'x', "exclude", true, U::kUnsupported, nullptr, "", kPlacement},
    {'\0', "exclusive", false, U::kUnsupported, nullptr, "",
     "ask for what you need on each node (--ntasks-per-node, -c, --gpus-per-node, --mem) "
     "instead"},
    {'\0', "export", true, U::kSupported, &F::export_env, "ALL|NONE|[ALL,]VARS",
     "environment variables the job gets (default ALL)"},
    {'\0', "export-file", true, U::kUnsupported, nullptr, "",
     "list the variables with --export instead"},
    {'B', "extra-node-info", true, U::kUnsupported, nullptr, "", kCpuLayout},
    {'\0', "get-user-env", false, U::kUnsupported, nullptr, "",
     "set up the environment in the script instead"},
    {'\0', "gid", true, U::kUnsupported, nullptr, "", kSubmittingUser},
    {'\0', "gpu-bind", true, U::kUnsupported, nullptr, "",
     "set GPU binding on srun inside the script instead"},
    {'\0', "gpu-freq", true, U::kUnsupported, nullptr, "", kRemove},
    {'G', "gpus", true, U::kUnsupported, nullptr, "", kPerNodeGpus},
    {'\0', "gpus-per-node", true, U::kSupported, &F::gpus_per_node, "[TYPE:]N",
     "GPUs per node, e.g. 4 or a100:4"},
    {'\0', "gpus-per-socket", true, U::kUnsupported, nullptr, "", kPerNodeGpus},
    {'\0', "gpus-per-task", true, U::kUnsupported, nullptr, "", kPerNodeGpus},
    {'\0', "gres", true, U::kSupported, &F::gres, "LIST",
     "generic resources per node, e.g. gpu:2 or gpu:a100:2,nvme:1"},
    {'\0', "gres-flags", true, U::kUnsupported, nullptr, "", kRemove},
    {'h', "help", false, U::kUnsupported, nullptr, "", kSbatchOnly},
    {'\0', "hint", true, U::kUnsupported, nullptr, "", kCpuLayout},
    {'H', "hold", false, U::kUnsupported, nullptr, "",
     "submit when the job should queue instead of holding it"},
    {'\0', "ignore-pbs", false, U::kUnsupported, nullptr, "", kSbatchOnly},
    {'I', "immediate", false, U::kUnsupported, nullptr, "", kSbatchOnly},
    {'i', "input", true, U::kUnsupported, nullptr, "",
     "redirect standard input inside the script instead"},
    {'J', "job-name", true, U::kSupported, &F::job_name, "NAME",
     "name of the job (default: the script's file name)"},
    {'\0', "kill-on-invalid-dep", true, U::kUnsupported, nullptr, "", kRemove},
    {'L', "licenses", true, U::kUnsupported, nullptr, "", kRemove},
    {'\0', "mail-type", true, U::kIgnored, nullptr, "TYPE",
     "drocc does not send e-mail; follow the job with drocc watch"},
    {'\0', "mail-user", true, U::kIgnored, nullptr, "ADDRESS",
     "drocc does not send e-mail; follow the job with drocc watch"},
    {'\0', "mcs-label", true, U::kUnsupported, nullptr, "", kRemove},
    {'\0', "mem", true, U::kSupported, &F::mem, "SIZE",
     "memory per node, e.g. 64G (no suffix = MiB)"},
    {'\0', "mem-bind", true, U::kUnsupported, nullptr, "",
     "set memory binding on srun inside the script instead"},
    {'\0', "mem-per-cpu", true, U::kUnsupported, nullptr, "", kPerNodeMem},
    {'\0', "mem-per-gpu", true, U::kUnsupported, nullptr, "", kPerNodeMem},
    {'\0', "mincpus", true, U::kUnsupported, nullptr, "", kCpuLayout},
    {'\0', "network", true, U::kUnsupported, nullptr, "", kRemove},
    {'\0', "nice", true, U::kUnsupported, nullptr, "",
     "use --priority to order your own jobs instead"},
    {'k', "no-kill", false, U::kUnsupported, nullptr, "", kRemove},
    {'\0', "no-requeue", false, U::kUnsupported, nullptr, "", kRequeue},
    {'F', "nodefile", true, U::kUnsupported, nullptr, "", kPlacement},
    {'w', "nodelist", true, U::kUnsupported, nullptr, "", kPlacement},
    {'N', "nodes", true, U::kSupported, &F::nodes, "N|MIN-MAX", "number of nodes"},
    {'n', "ntasks", true, U::kSupported, &F::ntasks, "N", "number of tasks"},
    {'\0', "ntasks-per-core", true, U::kUnsupported, nullptr, "", kCpuLayout},
    {'\0', "ntasks-per-gpu", true, U::kUnsupported, nullptr, "", kCpuLayout},
    {'\0', "ntasks-per-node", true, U::kSupported, &F::ntasks_per_node, "N", "tasks per node"},
    {'\0', "ntasks-per-socket", true, U::kUnsupported, nullptr, "", kCpuLayout},
    {'\0', "open-mode", true, U::kSupported, &F::open_mode, "{append|truncate}",
     "append to the output and error files (keeps what earlier runs of a requeued job wrote) "
     "or truncate them; default: Slurm's JobFileAppend setting"},
    {'o', "output", true, U::kSupported, &F::output, "PATTERN",
     "file for the job's standard output (%j = job id, %x = job name)"},
    {'O', "overcommit", false, U::kUnsupported, nullptr, "", kCpuLayout},
    {'s', "oversubscribe", false, U::kUnsupported, nullptr, "", kRemove},
    {'\0', "parsable", false, U::kSupported, nullptr, "", "print only the job id (for scripts)"},
    {'p', "partition", true, U::kSupported, &F::partition, "NAME", "Slurm partition"},
    {'\0', "power", true, U::kUnsupported, nullptr, "", kRemove},
    {'\0', "priority", true, U::kSupported, &F::priority, "N",
     "order among your project's pending jobs (higher first)"},
    {'\0', "profile", true, U::kUnsupported, nullptr, "", kRemove},
    {'\0', "project", true, U::kSupported, &F::project, "NAME",
     "drocc project to charge (default: your default project)"},
    {'\0', "propagate", false, U::kUnsupported, nullptr, "",
     "set resource limits with ulimit inside the script instead"},
    {'q', "qos", true, U::kUnsupported, nullptr, "", kAdmission},
    {'Q', "quiet", false, U::kUnsupported, nullptr, "", kSbatchOnly},
    {'\0', "reboot", false, U::kUnsupported, nullptr, "", kRemove},
    {'\0', "requeue", false, U::kUnsupported, nullptr, "", kRequeue},
    {'\0', "reservation", true, U::kUnsupported, nullptr, "", kAdmission},
    {'\0', "signal", true, U::kSupported, &F::signal, "[B:]SIG[@SECONDS]",
     "signal the job SECONDS (default 60) before its time limit, e.g. B:USR1@90"},
    {'\0', "sockets-per-node", true, U::kUnsupported, nullptr, "", kCpuLayout},
    {'\0', "spread-job", false, U::kUnsupported, nullptr, "", kPlacement},
    {'\0', "switches", true, U::kUnsupported, nullptr, "", kPlacement},
    {'\0', "test-only", false, U::kUnsupported, nullptr, "",
     "use drocc estimate to check a job without submitting it"},
    {'\0', "thread-spec", true, U::kUnsupported, nullptr, "", kRemove},
    {'\0', "threads-per-core", true, U::kUnsupported, nullptr, "", kCpuLayout},
    {'t', "time", true, U::kSupported, &F::time, "TIME",
     "time limit: MINUTES, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS"},
    {'\0', "time-min", true, U::kUnsupported, nullptr, "",
     "give a single limit with -t/--time instead"},
    {'\0', "tmp", true, U::kUnsupported, nullptr, "", kRemove},
    {'\0', "uid", true, U::kUnsupported, nullptr, "", kSubmittingUser},
    {'\0', "usage", false, U::kUnsupported, nullptr, "", kSbatchOnly},
    {'\0', "use-min-nodes", false, U::kUnsupported, nullptr, "", kRemove},
    {'v', "verbose", false, U::kUnsupported, nullptr, "", kSbatchOnly},
    {'V', "version", false, U::kUnsupported, nullptr, "", kSbatchOnly},
    {'W', "wait", false, U::kUnsupported, nullptr, "", "follow the job with drocc watch instead"},
    {'\0', "wait-all-nodes", true, U::kUnsupported, nullptr, "", kRemove},
    {'\0', "wckey", true, U::kUnsupported, nullptr, "", kRemove},
    // Not in sbatch 22.05 any more; old scripts still carry it.
    {'\0', "workdir", true, U::kUnsupported, nullptr, "", "sbatch renamed it; use -D/--chdir"},
    {'\0', "wrap", true, U::kUnsupported, nullptr, "",
     "put the command in a script that starts with #!/bin/bash"},
};

const SbatchOption* FindShort(char c) {
  for (const SbatchOption& o : kOptions) {
    if (o.short_name == c) return &o;
  }
  return nullptr;
}

// getopt_long's rule: an exact name wins; otherwise a prefix of exactly one name.
absl::StatusOr<const SbatchOption*> FindLong(std::string_view name, int line) {
  if (name.empty()) {
    return absl::InvalidArgumentError(
        internal::Cat(Where(line), "unknown option \"--=\": see drocc submit --help"));
  }
  std::vector<const SbatchOption*> matches;
  for (const SbatchOption& o : kOptions) {
    if (o.long_name == name) return &o;
    if (std::string_view(o.long_name).starts_with(name)) matches.push_back(&o);
  }
  if (matches.size() == 1) return matches.front();
  if (matches.empty()) {
    return absl::InvalidArgumentError(
        internal::Cat(Where(line), "unknown option --", name, ": see drocc submit --help"));
  }
  std::string names;
  for (const SbatchOption* o : matches) {
    names += internal::Cat(names.empty() ? "" : ", ", "--", o->long_name);
  }
  return absl::InvalidArgumentError(internal::Cat(Where(line), "option --", name,
                                                  " is ambiguous: it could be ", names,
                                                  "; write the name in full"));
}

absl::Status Unsupported(const SbatchOption& o, int line) {
  return absl::InvalidArgumentError(internal::Cat(Where(line), "sbatch option ", OptionLabel(o),
                                                  " is not supported by drocc: ", o.note));
}

}  // namespace

std::span<const SbatchOption> SbatchOptions() { return kOptions; }

std::string OptionLabel(const SbatchOption& option) {
  if (option.short_name == '\0') return internal::Cat("--", option.long_name);
  return internal::Cat("-", std::string(1, option.short_name), "/--", option.long_name);
}

std::string Where(int line) {
  if (line <= 0) return "";
  return internal::Cat("in script line ", line, ": ");
}

absl::StatusOr<ScannedArgs> ScanSubmitArgs(std::span<const ArgToken> tokens,
                                           bool allow_positional) {
  ScannedArgs out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string& text = tokens[i].text;
    const int line = tokens[i].line;
    const bool is_long = std::string_view(text).starts_with("--") && text.size() > 2;
    const bool is_short = !is_long && text.size() > 1 && text[0] == '-' && text[1] != '-';
    if (!is_long && !is_short) {
      if (allow_positional) {
        // "--" ends the options, as with getopt; SCRIPT is the next argument.
        if (text != "--") {
          out.first_positional = i;
        } else if (i + 1 < tokens.size()) {
          out.first_positional = i + 1;
        }
        return out;
      }
      if (text == "hetjob" || text == "packjob") {
        return absl::InvalidArgumentError(internal::Cat(Where(line), "heterogeneous jobs (#SBATCH ",
                                                        text, ") are not supported by drocc"));
      }
      return absl::InvalidArgumentError(
          internal::Cat(Where(line), "unexpected \"", text, "\": ",
                        line > 0 ? "#SBATCH lines take options only, e.g. #SBATCH --nodes=2"
                                 : "put options before SCRIPT"));
    }

    const SbatchOption* option = nullptr;
    std::optional<std::string> value;
    if (is_long) {
      const std::string_view body = std::string_view(text).substr(2);
      const size_t eq = body.find('=');
      absl::StatusOr<const SbatchOption*> found = FindLong(body.substr(0, eq), line);
      if (!found.ok()) return found.status();
      option = *found;
      if (eq != std::string_view::npos) value = std::string(body.substr(eq + 1));
    } else {
      option = FindShort(text[1]);
      if (option == nullptr) {
        return absl::InvalidArgumentError(
            internal::Cat(Where(line), "unknown option -", text[1], ": see drocc submit --help"));
      }
      if (text.size() > 2) {
        if (!option->takes_value) {
          return absl::InvalidArgumentError(internal::Cat(Where(line), "unexpected \"", text,
                                                          "\": write one option per argument"));
        }
        value = text.substr(2);
      }
    }

    if (option->use == OptionUse::kUnsupported) return Unsupported(*option, line);
    if (!option->takes_value) {
      if (value.has_value()) {
        return absl::InvalidArgumentError(
            internal::Cat(Where(line), OptionLabel(*option), " takes no value"));
      }
      out.options.push_back({option, "", line});
      continue;
    }
    if (!value.has_value()) {
      if (i + 1 >= tokens.size()) {
        return absl::InvalidArgumentError(internal::Cat(
            Where(line), OptionLabel(*option), " needs a value (", option->value_name, ")"));
      }
      value = tokens[++i].text;
    }
    if (value->empty()) {
      return absl::InvalidArgumentError(internal::Cat(Where(line), OptionLabel(*option),
                                                      " needs a value, not an empty one (",
                                                      option->value_name, ")"));
    }
    out.options.push_back({option, *std::move(value), line});
  }
  return out;
}

absl::StatusOr<SubmitFlags> ApplyScannedOptions(const ScannedArgs& scanned) {
  SubmitFlags f;
  // Canonical "--name=value" forms, so CLI11 cannot misread a value that starts with '-'.
  std::vector<std::string> args;
  for (const ScannedOption& s : scanned.options) {
    if (s.option->takes_value) {
      args.push_back(internal::Cat("--", s.option->long_name, "=", s.value));
    } else {
      args.push_back(internal::Cat("--", s.option->long_name));
    }
  }
  std::reverse(args.begin(), args.end());  // CLI11 consumes a vector from the back
  CLI::App app;
  app.set_help_flag();
  AddSubmitFlags(app, f);
  try {
    app.parse(args);
  } catch (const CLI::Error& e) {
    // Unreachable for scanned input; kept so that no exception leaves the library.
    return absl::InternalError(internal::Cat("could not apply options: ", e.what()));
  }
  return f;
}

}  // namespace drocc::client::internal
