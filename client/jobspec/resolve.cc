#include "client/jobspec/resolve.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>

#include "absl/status/status.h"
#include "client/jobspec/export_env.h"
#include "client/jobspec/memory_size.h"
#include "client/jobspec/open_mode.h"
#include "client/jobspec/parse_util.h"
#include "client/jobspec/resources.h"
#include "client/jobspec/sbatch_options.h"
#include "client/jobspec/sbatch_script.h"
#include "client/jobspec/signal_spec.h"
#include "client/jobspec/slurm_time.h"
#include "common/status.h"

extern char** environ;

namespace drocc::client {
namespace {

namespace fs = std::filesystem;
using internal::SbatchOption;
using internal::Where;

// One option's winning value and where it came from (line 0 = command line).
struct Value {
  std::string text;
  int line = 0;
  std::string label;  // "-t/--time"
};

// Prefixes an error with the place the value came from.
absl::Status At(const Value& v, const absl::Status& s) {
  return absl::Status(s.code(), internal::Cat(Where(v.line), s.message()));
}

template <typename T>
absl::StatusOr<T> At(const Value& v, absl::StatusOr<T> r) {
  if (!r.ok()) return At(v, r.status());
  return r;
}

// Command-line values win over #SBATCH values.
class MergedValues {
 public:
  void Add(const SbatchOption& o, const std::optional<std::string>& value, int line) {
    if (value.has_value()) values_[o.long_name] = Value{*value, line, internal::OptionLabel(o)};
  }
  const Value* Get(std::string_view long_name) const {
    auto it = values_.find(long_name);
    return it == values_.end() ? nullptr : &it->second;
  }
  const std::map<std::string_view, Value>& all() const { return values_; }

 private:
  std::map<std::string_view, Value> values_;
};

// The script's options with the line each came from.
struct ScriptOptions {
  SubmitFlags flags;
  std::map<std::string_view, int> line_of;  // long name -> line of its last occurrence
};

absl::StatusOr<ScriptOptions> ParseDirectives(const std::vector<SbatchDirective>& directives,
                                              const SubmitContext& ctx) {
  // All lines form one argument list, as in sbatch, so each token keeps its own line.
  std::vector<internal::ArgToken> tokens;
  for (const SbatchDirective& d : directives) {
    for (const std::string& arg : d.args) tokens.push_back({arg, d.line});
  }
  ASSIGN_OR_RETURN(internal::ScannedArgs scanned,
                   internal::ScanSubmitArgs(tokens, /*allow_positional=*/false));
  ScriptOptions out;
  ASSIGN_OR_RETURN(out.flags, internal::ApplyScannedOptions(scanned));
  for (const internal::ScannedOption& s : scanned.options) {
    out.line_of[s.option->long_name] = s.line;
    if (!ctx.warn) continue;
    if (s.option->use == internal::OptionUse::kIgnored) {
      ctx.warn(internal::Cat(Where(s.line), "ignoring ", internal::OptionLabel(*s.option), ": ",
                             s.option->note));
    } else if (s.option->field == nullptr) {
      ctx.warn(internal::Cat(Where(s.line), "ignoring ", internal::OptionLabel(*s.option),
                             ": it only works on the drocc command line"));
    }
  }
  return out;
}

// The command line as the CLI parsed it, completed: options CLI11 did not know were set aside
// in front of SCRIPT (see SubmitFlags::script); they, SCRIPT and its arguments are parsed here.
absl::StatusOr<SubmitFlags> CompleteCommandLine(const SubmitFlags& cli) {
  SubmitFlags flags = cli;
  if (flags.script.size() < 2 || flags.script[0] != '-') return flags;
  std::vector<std::string> rest = {flags.script};
  rest.insert(rest.end(), flags.script_args.begin(), flags.script_args.end());
  ASSIGN_OR_RETURN(SubmitFlags more, ParseSubmitArgs(rest));
  for (const SbatchOption& o : internal::SbatchOptions()) {
    if (o.field != nullptr && (more.*o.field).has_value()) flags.*o.field = more.*o.field;
  }
  flags.parsable = flags.parsable || more.parsable;
  flags.ignored.insert(flags.ignored.end(), more.ignored.begin(), more.ignored.end());
  flags.script = more.script;
  flags.script_args = more.script_args;
  return flags;
}

absl::Status RequireNonEmpty(const MergedValues& values) {
  for (const auto& [name, v] : values.all()) {
    if (v.text.empty()) {
      return At(v, absl::InvalidArgumentError(
                       internal::Cat(v.label, " is empty: give a value or leave the option out")));
    }
  }
  return absl::OkStatus();
}

// --gpus-per-node and --gres, folded into one per-node request.
absl::Status ResolveGpusAndGres(const MergedValues& values, JobRequest& job) {
  const Value* gpus_v = values.Get("gpus-per-node");
  const Value* gres_v = values.Get("gres");
  GresRequest gres;
  if (gres_v != nullptr) {
    ASSIGN_OR_RETURN(gres, At(*gres_v, ParseGres(gres_v->text, gres_v->label)));
  }
  job.gres = gres.gres;
  job.gpus_per_node = gres.gpus;
  if (gpus_v == nullptr) return absl::OkStatus();

  ASSIGN_OR_RETURN(GpuRequest gpus, At(*gpus_v, ParseGpusPerNode(gpus_v->text, gpus_v->label)));
  if (gres.gpus > 0) {
    auto from = [](const Value& v) {
      return v.line > 0 ? internal::Cat("script line ", v.line) : std::string("command line");
    };
    return absl::InvalidArgumentError(
        internal::Cat("GPUs asked for twice: --gpus-per-node=", gpus_v->text, " (", from(*gpus_v),
                      ") and --gres=", gres_v->text, " (", from(*gres_v), "); keep one of them"));
  }
  if (gpus.count == 0) return absl::OkStatus();
  const std::string entry = gpus.type.empty() ? internal::Cat("gpu:", gpus.count)
                                              : internal::Cat("gpu:", gpus.type, ":", gpus.count);
  job.gres = job.gres.empty() ? entry : internal::Cat(job.gres, ",", entry);
  job.gpus_per_node = gpus.count;
  return absl::OkStatus();
}

// -N, -n, --ntasks-per-node, -c and their consistency.
absl::Status ResolveCounts(const MergedValues& values, JobRequest& job) {
  if (const Value* v = values.Get("nodes")) {
    ASSIGN_OR_RETURN(NodeRange range, At(*v, ParseNodeRange(v->text, v->label)));
    job.nodes = range.min;
    job.max_nodes = range.max;
  }
  if (const Value* v = values.Get("ntasks")) {
    ASSIGN_OR_RETURN(job.ntasks, At(*v, ParsePositiveCount(v->text, "number of tasks", v->label)));
  }
  if (const Value* v = values.Get("ntasks-per-node")) {
    ASSIGN_OR_RETURN(job.ntasks_per_node,
                     At(*v, ParsePositiveCount(v->text, "number of tasks per node", v->label)));
  }
  if (const Value* v = values.Get("cpus-per-task")) {
    ASSIGN_OR_RETURN(job.cpus_per_task,
                     At(*v, ParsePositiveCount(v->text, "number of CPUs per task", v->label)));
  }
  if (job.ntasks > 0 && job.nodes > job.ntasks) {
    return absl::InvalidArgumentError(internal::Cat(
        "-n/--ntasks ", job.ntasks, " is fewer than the ", job.nodes,
        " nodes asked for with -N/--nodes, and each node runs at least one task: ask for at most ",
        job.ntasks, " nodes or at least ", job.nodes, " tasks"));
  }
  if (job.ntasks > 0 && job.max_nodes > 0 && job.ntasks_per_node > 0 &&
      uint64_t{job.ntasks} > uint64_t{job.max_nodes} * job.ntasks_per_node) {
    return absl::InvalidArgumentError(
        internal::Cat("-n/--ntasks ", job.ntasks, " does not fit on ", job.max_nodes,
                      " nodes with --ntasks-per-node=", job.ntasks_per_node, " (at most ",
                      uint64_t{job.max_nodes} * job.ntasks_per_node,
                      " tasks): ask for more nodes or fewer tasks"));
  }
  return absl::OkStatus();
}

// -A/--account against --project (see resolve.h).
absl::Status ResolveAccount(const MergedValues& values, const SubmitContext& ctx) {
  const Value* account = values.Get("account");
  if (account == nullptr) return absl::OkStatus();
  if (values.Get("project") == nullptr) {
    return At(*account,
              absl::InvalidArgumentError(internal::Cat(
                  account->label,
                  " names a Slurm bank account, which drocc does not use: name the drocc "
                  "project to charge with --project (e.g. drocc submit --project=NAME SCRIPT)")));
  }
  if (ctx.warn) {
    ctx.warn(internal::Cat(Where(account->line), "ignoring ", account->label, "=", account->text,
                           ": drocc charges the project given with --project"));
  }
  return absl::OkStatus();
}

// sbatch turns "none" into /dev/null. Other patterns become absolute and lexically normal:
// Slurm reads a relative one against the job's working directory, droccd refuses ".."
// (-o ../logs/%j.out from /home/ana/run is /home/ana/logs/%j.out). Lexical: a symlinked
// directory followed by ".." is not resolved as the kernel would.
std::string OutputPattern(const std::string& text, const fs::path& workdir) {
  if (text.empty()) return text;
  if (internal::EqualsIgnoreCase(text, "none")) return "/dev/null";
  return (workdir / text).lexically_normal().string();
}

}  // namespace

absl::StatusOr<std::string> ReadScriptFile(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return absl::PermissionDeniedError(
        internal::Cat("cannot read script \"", path, "\": ", ec.message()));
  }
  if (!fs::exists(status)) {
    return absl::NotFoundError(internal::Cat("script \"", path, "\" does not exist"));
  }
  if (fs::is_directory(status)) {
    return absl::InvalidArgumentError(
        internal::Cat("\"", path, "\" is a directory, not a batch script"));
  }
  if (!fs::is_regular_file(status)) {
    return absl::InvalidArgumentError(
        internal::Cat("\"", path, "\" is not a regular file: give the batch script's file"));
  }
  const uintmax_t size = fs::file_size(path, ec);
  if (!ec) {
    RETURN_IF_ERROR(CheckScriptSize(static_cast<size_t>(size), internal::Cat("\"", path, "\"")));
  }

  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (file == nullptr) {
    const int err = errno;
    const std::string why = std::strerror(err);
    if (err == EACCES) {
      return absl::PermissionDeniedError(internal::Cat("cannot read script \"", path, "\": ", why));
    }
    return absl::UnavailableError(internal::Cat("cannot read script \"", path, "\": ", why));
  }
  // Read at most one byte past the limit: enough for CheckBatchScript to refuse a file that
  // grew since it was measured, without reading all of it.
  std::string text;
  char buffer[64 * 1024];
  while (text.size() <= kMaxScriptBytes) {
    const size_t n = std::fread(buffer, 1, sizeof(buffer), file.get());
    text.append(buffer, n);
    if (n < sizeof(buffer)) break;
  }
  if (std::ferror(file.get())) {
    return absl::UnavailableError(internal::Cat("cannot read script \"", path, "\": read error"));
  }
  return text;
}

SubmitContext CurrentSubmitContext() {
  SubmitContext ctx;
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  if (!ec) ctx.cwd = cwd.string();
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) ctx.environment.emplace_back(*e);
  return ctx;
}

absl::StatusOr<JobRequest> ResolveJobRequest(const SubmitFlags& cli, const SubmitContext& ctx) {
  ASSIGN_OR_RETURN(SubmitFlags flags, CompleteCommandLine(cli));
  if (flags.script.empty()) {
    return absl::InvalidArgumentError(
        "missing SCRIPT: usage: drocc submit [OPTIONS] SCRIPT [ARGS...]");
  }
  if (flags.script == "-") {
    return absl::InvalidArgumentError(
        "reading the script from standard input is not supported: save it to a file and give "
        "its name");
  }
  if (ctx.cwd.empty() || !fs::path(ctx.cwd).is_absolute()) {
    return absl::InvalidArgumentError(internal::Cat("the current directory \"", ctx.cwd,
                                                    "\" is not an absolute path: run drocc from an "
                                                    "existing directory"));
  }
  if (!ctx.read_file) return absl::InternalError("SubmitContext has no read_file function");

  JobRequest job;
  const fs::path cwd(ctx.cwd);
  job.script_path = (cwd / flags.script).lexically_normal().string();
  ASSIGN_OR_RETURN(job.script, ctx.read_file(job.script_path));
  RETURN_IF_ERROR(CheckBatchScript(job.script, flags.script));
  ASSIGN_OR_RETURN(std::vector<SbatchDirective> directives,
                   ExtractSbatchDirectiveLines(job.script, flags.script));
  ASSIGN_OR_RETURN(ScriptOptions script, ParseDirectives(directives, ctx));

  if (ctx.warn) {
    for (const std::string& name : flags.ignored) {
      for (const SbatchOption& o : internal::SbatchOptions()) {
        if (internal::Cat("--", o.long_name) == name) {
          ctx.warn(internal::Cat("ignoring ", name, ": ", o.note));
        }
      }
    }
  }

  MergedValues values;
  for (const SbatchOption& o : internal::SbatchOptions()) {
    if (o.field == nullptr) continue;
    if ((flags.*o.field).has_value()) {
      values.Add(o, flags.*o.field, 0);
    } else if ((script.flags.*o.field).has_value()) {
      values.Add(o, script.flags.*o.field, script.line_of[o.long_name]);
    }
  }
  RETURN_IF_ERROR(RequireNonEmpty(values));
  RETURN_IF_ERROR(ResolveAccount(values, ctx));

  auto text_of = [&values](std::string_view name) -> std::string {
    const Value* v = values.Get(name);
    return v == nullptr ? std::string() : v->text;
  };
  job.project = text_of("project");
  job.partition = text_of("partition");
  job.name = text_of("job-name");
  if (job.name.empty()) job.name = fs::path(flags.script).filename().string();
  job.args = flags.script_args;
  if (const Value* v = values.Get("open-mode")) {
    ASSIGN_OR_RETURN(job.open_mode, At(*v, ParseOpenMode(v->text, v->label)));
  }

  job.workdir = fs::path(ctx.cwd).lexically_normal().string();
  if (const Value* v = values.Get("chdir"))
    job.workdir = (cwd / v->text).lexically_normal().string();
  if (job.workdir.size() > 1 && job.workdir.back() == '/') job.workdir.pop_back();
  job.output = OutputPattern(text_of("output"), job.workdir);
  job.error = OutputPattern(text_of("error"), job.workdir);

  RETURN_IF_ERROR(ResolveCounts(values, job));
  RETURN_IF_ERROR(ResolveGpusAndGres(values, job));

  if (const Value* v = values.Get("mem")) {
    ASSIGN_OR_RETURN(job.mem_mb, At(*v, ParseMemoryMb(v->text, v->label)));
    if (job.mem_mb == 0) {
      return At(*v, absl::InvalidArgumentError(internal::Cat(
                        v->label,
                        "=0 asks for all the memory of each node, which drocc does not "
                        "support: give a size, e.g. --mem=64G")));
    }
  }
  if (const Value* v = values.Get("time")) {
    ASSIGN_OR_RETURN(job.time_limit_s, At(*v, ParseSlurmTime(v->text, v->label)));
  }
  if (const Value* v = values.Get("signal")) {
    ASSIGN_OR_RETURN(job.signal, At(*v, ParseSignalSpec(v->text, v->label)));
  }
  if (const Value* v = values.Get("priority")) {
    ASSIGN_OR_RETURN(job.priority, At(*v, ParsePriority(v->text, v->label)));
  }

  const Value* exp = values.Get("export");
  std::function<void(std::string_view)> warn;
  if (ctx.warn) {
    const std::string where = exp != nullptr ? Where(exp->line) : std::string();
    warn = [&ctx, where](std::string_view message) { ctx.warn(internal::Cat(where, message)); };
  }
  std::optional<std::string> export_spec;
  if (exp != nullptr) export_spec = exp->text;
  absl::StatusOr<ExportedEnvironment> exported = ResolveExport(
      export_spec, ctx.environment, exp != nullptr ? exp->label : std::string("--export"), warn);
  if (!exported.ok()) return exp != nullptr ? At(*exp, exported.status()) : exported.status();
  job.export_mode = std::move(exported->mode);
  job.environment = std::move(exported->variables);
  return job;
}

}  // namespace drocc::client
