#include "client/cli/output.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/human.h"

namespace drocc::cli {

using google::protobuf::Timestamp;

bool IsSet(const Timestamp& t) { return t.seconds() != 0 || t.nanos() != 0; }

absl::Time ToTime(const Timestamp& t) {
  return absl::FromUnixMicros(google::protobuf::util::TimeUtil::TimestampToMicroseconds(t));
}

nlohmann::json TimeJson(const Timestamp& t) {
  if (!IsSet(t)) return nullptr;
  return Rfc3339(ToTime(t));
}

std::string TimeText(const Timestamp& t) { return IsSet(t) ? HumanTime(ToTime(t)) : "-"; }

std::string FormatAmount(int64_t milli, std::string_view resource) {
  if (resource.empty()) return FormatMilli(milli);
  return absl::StrCat(FormatMilli(milli), " ", std::string(resource));
}

std::string FormatAmount(const v1::Amount& a) { return FormatAmount(a.milli(), a.resource()); }

std::string FormatAmounts(const google::protobuf::RepeatedPtrField<v1::Amount>& amounts) {
  if (amounts.empty()) return "none";
  return absl::StrJoin(amounts, ", ",
                       [](std::string* out, const v1::Amount& a) { out->append(FormatAmount(a)); });
}

nlohmann::json AmountJson(int64_t milli, std::string_view resource) {
  return {{"resource", resource}, {"amount_milli", milli}, {"amount", FormatMilli(milli)}};
}

nlohmann::json AmountJson(const v1::Amount& a) { return AmountJson(a.milli(), a.resource()); }

std::string CsvField(std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string CsvRow(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    out += CsvField(fields[i]);
  }
  out += '\n';
  return out;
}

std::string EnumLabel(const std::string& name, std::string_view prefix) {
  std::string_view label = name;
  if (label.starts_with(prefix)) label.remove_prefix(prefix.size());
  return absl::AsciiStrToLower(std::string(label));
}

void PrintJson(const nlohmann::json& j) {
  // Free text from the server (descriptions, audit details) need not be valid UTF-8; dump()
  // would throw on it.
  std::string text = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  std::printf("%s\n", text.c_str());
}

void PrintText(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

void PrintResult(Format format, const std::string& line, const nlohmann::json& json) {
  if (format == Format::kJson) {
    PrintJson(json);
  } else {
    PrintText(line + "\n");
  }
}

namespace {

// Run time so far, or in all once ended.
std::string Elapsed(const v1::Job& job, absl::Time now) {
  if (!IsSet(job.start_time())) return "-";
  absl::Time end = IsSet(job.end_time()) ? ToTime(job.end_time()) : now;
  return HumanDuration(end - ToTime(job.start_time()));
}

std::string Limit(int64_t s) {
  if (s == 0) return "partition default";
  if (s < 0) return "unlimited";
  return HumanDuration(absl::Seconds(s));
}

}  // namespace

Table::Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }

void Table::Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

std::string Table::Render() const {
  std::vector<size_t> width;
  for (const auto& row : rows_) {
    width.resize(std::max(width.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string ProgressBytes(const v1::ProgressRecord& p) {
  if (p.bytes_total() > 0) {
    return absl::StrCat(HumanBytes(p.bytes_done()), " / ", HumanBytes(p.bytes_total()));
  }
  return p.bytes_done() > 0 ? HumanBytes(p.bytes_done()) : "-";
}

std::optional<int> ProgressPercent(const v1::ProgressRecord& p) {
  const uint64_t done = p.bytes_done();
  const uint64_t total = p.bytes_total();
  if (total == 0) return std::nullopt;
  if (done >= total) return 100;
  // Exact for any size: 100 * done may need more than 64 bits.
  const auto percent = static_cast<uint64_t>(static_cast<unsigned __int128>(done) * 100 / total);
  return static_cast<int>(percent);  // < 100, as done < total
}

std::string Ago(const google::protobuf::Timestamp& t, absl::Time now) {
  if (!IsSet(t)) return "-";
  return absl::StrCat(HumanDuration(std::max(now - ToTime(t), absl::ZeroDuration())), " ago");
}

std::string StateName(v1::JobState state) {
  std::string name = v1::JobState_Name(state);
  constexpr std::string_view kPrefix = "JOB_STATE_";
  return name.starts_with(kPrefix) ? name.substr(kPrefix.size()) : name;
}

namespace {

// {"gpu-hours": 1500}: exact milli-units by resource.
nlohmann::json MilliByResource(const google::protobuf::RepeatedPtrField<v1::Amount>& amounts) {
  nlohmann::json out = nlohmann::json::object();
  for (const v1::Amount& a : amounts) out[a.resource()] = a.milli();
  return out;
}

}  // namespace

nlohmann::json JobToJson(const v1::Job& job) {
  const v1::JobSpec& s = job.spec();
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : job.events()) {
    events.push_back(
        {{"state", StateName(e.state())}, {"time", TimeJson(e.time())}, {"reason", e.reason()}});
  }
  nlohmann::json checkpoints = nlohmann::json::array();
  for (const auto& c : job.checkpoints()) {
    checkpoints.push_back({{"step", c.step()},
                           {"bytes", c.bytes()},
                           {"seconds", c.seconds()},
                           {"time", TimeJson(c.time())},
                           {"path", c.path()},
                           {"ranks", c.ranks()}});
  }
  nlohmann::json progress = nlohmann::json::array();
  for (const auto& p : job.progress()) {
    std::optional<int> percent = ProgressPercent(p);
    progress.push_back({{"phase", p.phase()},
                        {"step", p.step() >= 0 ? nlohmann::json(p.step()) : nlohmann::json()},
                        {"bytes_done", p.bytes_done()},
                        {"bytes_total", p.bytes_total()},
                        {"percent", percent ? nlohmann::json(*percent) : nlohmann::json()},
                        {"message", p.message()},
                        {"time", TimeJson(p.time())}});
  }
  return {
      {"id", job.id()},
      {"name", s.name()},
      {"user", job.user()},
      {"project", job.project()},
      {"state", StateName(job.state())},
      {"reason", job.reason()},
      {"exit_code", job.has_exit_code() ? nlohmann::json(job.exit_code()) : nlohmann::json()},
      {"slurm_job_id", job.slurm_job_id() ? nlohmann::json(job.slurm_job_id()) : nlohmann::json()},
      {"submit_time", TimeJson(job.submit_time())},
      {"admit_time", TimeJson(job.admit_time())},
      {"start_time", TimeJson(job.start_time())},
      {"end_time", TimeJson(job.end_time())},
      {"nodes", job.nodes()},
      {"partition", s.partition()},
      {"num_nodes", s.nodes()},
      {"ntasks", s.ntasks()},
      {"cpus_per_task", s.cpus_per_task()},
      {"gpus_per_node", s.gpus_per_node()},
      {"mem_mb", s.mem_mb()},
      {"time_limit_s", s.time_limit_s()},
      {"workdir", s.workdir()},
      {"script_path", s.script_path()},
      {"stdout_path", job.stdout_path()},
      {"stderr_path", job.stderr_path()},
      {"open_mode", s.open_mode().empty() ? nlohmann::json() : nlohmann::json(s.open_mode())},
      {"requeue_count", job.requeue_count()},
      {"reserved_milli", MilliByResource(job.reserved())},
      {"charged_milli", MilliByResource(job.charged())},
      {"events", events},
      {"checkpoints", checkpoints},
      {"progress", progress},
  };
}

std::string JobDetail(const v1::Job& job, absl::Time now) {
  const v1::JobSpec& s = job.spec();
  Table t({"Job", absl::StrCat(job.id(), " (", s.name(), ")")});
  t.Add({"User", job.user()});
  if (!job.project().empty()) t.Add({"Project", job.project()});
  t.Add({"State", StateName(job.state())});
  if (!job.reason().empty()) t.Add({"Reason", job.reason()});
  t.Add({"Exit code", job.has_exit_code() ? absl::StrCat(job.exit_code()) : "-"});
  t.Add({"Slurm job", job.slurm_job_id() ? absl::StrCat(job.slurm_job_id()) : "-"});
  t.Add({"Nodes", job.nodes().empty() ? "-" : job.nodes()});
  t.Add({"Resources",
         absl::StrCat(
             std::max(1u, s.nodes()), " node(s), ", std::max(1u, s.ntasks()), " task(s)",
             s.gpus_per_node() ? absl::StrCat(", ", s.gpus_per_node(), " GPU(s)/node") : "")});
  t.Add({"Time limit", Limit(s.time_limit_s())});
  t.Add({"Submitted", TimeText(job.submit_time())});
  t.Add({"Started", TimeText(job.start_time())});
  t.Add({"Ended", TimeText(job.end_time())});
  t.Add({"Run time", Elapsed(job, now)});
  if (job.requeue_count() > 0) t.Add({"Requeued", absl::StrCat(job.requeue_count(), " time(s)")});
  if (job.reserved_size() > 0) t.Add({"Reserved", FormatAmounts(job.reserved())});
  if (job.charged_size() > 0) t.Add({"Charged", FormatAmounts(job.charged())});
  t.Add({"Work dir", s.workdir()});
  if (!job.stdout_path().empty()) t.Add({"Output", job.stdout_path()});
  if (!job.stderr_path().empty() && job.stderr_path() != job.stdout_path()) {
    t.Add({"Error", job.stderr_path()});
  }
  if (!s.open_mode().empty()) t.Add({"Open mode", s.open_mode()});
  std::string out = t.Render();
  // The first row is the header of a two-column table: drop the header gap.
  if (job.events_size() > 0) {
    Table ev({"TIME", "STATE", "REASON"});
    for (const auto& e : job.events())
      ev.Add({TimeText(e.time()), StateName(e.state()), e.reason()});
    out += "\nHistory:\n" + ev.Render();
  }
  if (job.progress_size() > 0) {
    Table pr({"PHASE", "STEP", "BYTES", "%", "UPDATED", "MESSAGE"});
    for (const v1::ProgressRecord& p : job.progress()) {
      std::optional<int> percent = ProgressPercent(p);
      pr.Add({p.phase(), p.step() >= 0 ? absl::StrCat(p.step()) : "-", ProgressBytes(p),
              percent ? absl::StrCat(*percent, "%") : "-", Ago(p.time(), now), p.message()});
    }
    out += "\nProgress:\n" + pr.Render();
  }
  if (job.checkpoints_size() > 0) {
    // The newest few; `-o json` lists them all.
    constexpr int kShown = 10;
    const int first = std::max(0, job.checkpoints_size() - kShown);
    Table ck({"STEP", "TIME", "SIZE", "TOOK", "RANKS", "PATH"});
    for (int i = first; i < job.checkpoints_size(); ++i) {
      const v1::CheckpointRecord& c = job.checkpoints(i);
      ck.Add({absl::StrCat(c.step()), TimeText(c.time()), HumanBytes(c.bytes()),
              absl::StrFormat("%.2fs", c.seconds()), absl::StrCat(c.ranks()), c.path()});
    }
    out += absl::StrCat("\nCheckpoints (", job.checkpoints_size(),
                        first > 0 ? absl::StrCat(", the newest ", kShown, " shown") : "", "):\n",
                        ck.Render());
  }
  return out;
}

void PrintJobs(const std::vector<v1::Job>& jobs, Format format) {
  if (format == Format::kJson) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& j : jobs) arr.push_back(JobToJson(j));
    std::printf("%s\n", arr.dump(2).c_str());
    return;
  }
  const absl::Time now = absl::Now();
  Table t({"ID", "NAME", "USER", "STATE", "TIME", "NODES", "REASON"});
  for (const auto& j : jobs) {
    t.Add({absl::StrCat(j.id()), j.spec().name(), j.user(), StateName(j.state()), Elapsed(j, now),
           j.nodes().empty() ? "-" : j.nodes(), j.reason()});
  }
  std::fputs(t.Render().c_str(), stdout);
}

}  // namespace drocc::cli
