#include "runtime/src/staging/session.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/status.h"
#include "runtime/src/checkpoint/protocol.h"

namespace drocc::runtime::staging {
namespace {

constexpr char kPeerPayload[] = "drocc.runtime.staging/peer-failed";
constexpr size_t kMaxNodeName = 255;
constexpr int kMaxIoThreads = 256;
constexpr int kMaxVerifyRetries = 100;

absl::Status CheckArguments(absl::string_view phase, const std::string& src, const std::string& dst,
                            const StageOptions& o, Communicator* comm) {
  const std::string fn = phase == "stage-in" ? "StageIn" : "StageOut";
  if (comm == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(fn,
                     ": the communicator is null; pass an MpiCommunicator over the ranks "
                     "that stage together (or a LocalCommunicator)"));
  }
  if (src.empty() || dst.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(fn, ": ", src.empty() ? "SRC" : "DST", " is empty; give a path"));
  }
  if (phase == "stage-in" && src.find("%n") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(fn, ": SRC ", src,
                     " contains %n, but stage-in reads one SRC for all nodes; put %n in "
                     "DST (the node-local copy)"));
  }
  if (o.chunk_bytes < kMinChunkBytes || o.chunk_bytes > kMaxChunkBytes) {
    return absl::InvalidArgumentError(absl::StrCat(fn, ": chunk_bytes is ", o.chunk_bytes, "; use ",
                                                   kMinChunkBytes, " (64 KiB) to ", kMaxChunkBytes,
                                                   " (1 GiB); the default is 1 MiB"));
  }
  if (o.io_threads < 1 || o.io_threads > kMaxIoThreads) {
    return absl::InvalidArgumentError(
        absl::StrCat(fn, ": io_threads is ", o.io_threads, "; use 1 to ", kMaxIoThreads));
  }
  if (o.verify_retries < 0 || o.verify_retries > kMaxVerifyRetries) {
    return absl::InvalidArgumentError(absl::StrCat(fn, ": verify_retries is ", o.verify_retries,
                                                   "; use 0 to ", kMaxVerifyRetries));
  }
  if (o.progress_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(fn, ": progress_interval is negative"));
  }
  return absl::OkStatus();
}

std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "";
  return name;
}

}  // namespace

absl::StatusOr<std::string> NodeName(const std::string& option, int rank) {
  std::string name;
  const char* from = "StageOptions::node_name";
  if (!option.empty()) {
    name = absl::StrReplaceAll(option, {{"%r", absl::StrCat(rank)}});
  } else if (const char* env = std::getenv("SLURMD_NODENAME"); env != nullptr && *env != '\0') {
    name = env;
    from = "$SLURMD_NODENAME";
  } else {
    name = HostName();
    from = "the host name";
  }
  if (name.empty() || name.size() > kMaxNodeName || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos || name == "." || name == "..") {
    return absl::InvalidArgumentError(absl::StrCat(
        "the node name \"", name, "\" (from ", from,
        ") cannot be part of a path; set StageOptions::node_name (drocc-stage --node-name) to a "
        "name without '/', of at most 255 characters"));
  }
  return name;
}

std::string ExpandNodeName(const std::string& path, const std::string& node) {
  return absl::StrReplaceAll(path, {{"%n", node}});
}

NodeLayout LayOutNodes(const std::vector<std::string>& names, int rank) {
  NodeLayout layout;
  std::unordered_map<std::string, int> ids;
  for (int r = 0; r < static_cast<int>(names.size()); ++r) {
    const auto [it, added] = ids.emplace(names[r], static_cast<int>(layout.names.size()));
    if (added) layout.names.push_back(names[r]);
    layout.node_of_rank.push_back(it->second);
    if (r == rank) {
      layout.node = it->second;
      layout.leader = added;
    }
  }
  return layout;
}

absl::Status PeerFailed() {
  absl::Status st = absl::AbortedError("stopped because another node failed");
  st.SetPayload(kPeerPayload, absl::Cord("1"));
  return st;
}

bool IsPeerFailure(const absl::Status& status) {
  return status.GetPayload(kPeerPayload).has_value();
}

bool AnyFailed(Communicator& leaders, const absl::Status& mine) {
  return leaders.AllReduceMax(mine.ok() ? 0 : 1) != 0;
}

absl::Status StopIfAnyFailed(Communicator& leaders, const absl::Status& mine) {
  if (!AnyFailed(leaders, mine)) return absl::OkStatus();
  return mine.ok() ? PeerFailed() : mine;
}

Session::Session(std::string phase, const StageOptions& options, Communicator* comm)
    : phase_(std::move(phase)), options_(options), comm_(comm), start_(absl::Now()) {
  fs_ = options_.fs != nullptr ? options_.fs : std::make_shared<PosixFileSystem>();
  progress_.phase = phase_;
}

Session::~Session() = default;

absl::StatusOr<std::unique_ptr<Session>> Session::Start(std::string phase, const std::string& src,
                                                        const std::string& dst,
                                                        const StageOptions& options,
                                                        Communicator* comm) {
  RETURN_IF_ERROR(CheckArguments(phase, src, dst, options, comm));
  std::unique_ptr<Session> s(new Session(std::move(phase), options, comm));
  // Node names: one rank's bad name fails every rank, with that rank's message.
  absl::StatusOr<std::string> name = NodeName(options.node_name, comm->Rank());
  const std::vector<std::string> all =
      comm->AllGather(name.ok() ? "+" + *name : "-" + std::string(name.status().message()));
  std::vector<std::string> names;
  for (size_t r = 0; r < all.size(); ++r) {
    if (all[r].empty() || all[r][0] != '+') {
      return absl::InvalidArgumentError(
          absl::StrCat("rank ", r, ": ", all[r].empty() ? "" : all[r].substr(1)));
    }
    names.push_back(all[r].substr(1));
  }
  s->layout_ = LayOutNodes(names, comm->Rank());
  ASSIGN_OR_RETURN(s->leaders_, comm->Split(s->layout_.leader ? 0 : -1, comm->Rank()));

  // Progress to droccd: only in a job droccd started (its token in the environment). Create is
  // collective, so every rank decides alike.
  const char* token = std::getenv(kJobTokenEnv);
  const bool any_token =
      comm->AllReduceMax(options.report_to_daemon && token != nullptr && *token != '\0') != 0;
  if (any_token) {
    auto jc = JobControl::Create(
        JobControlOptions{.handle_signals = false, .flush_timeout = absl::Seconds(1)}, comm);
    if (jc.ok()) {
      s->job_control_ = *std::move(jc);
    } else if (comm->Rank() == 0) {
      checkpoint::Log(
          absl::StrCat(s->phase_, ": not reporting progress to droccd: ", jc.status().message()));
    }
  }
  return s;
}

size_t Session::chunk_bytes() const {
  const size_t leaders = layout_.names.size();
  return std::max(kMinChunkBytes, std::min(options_.chunk_bytes, kMaxRoundBytes / leaders));
}

void Session::Progress(uint64_t bytes_done, uint64_t bytes_total, uint64_t files_done,
                       uint64_t files_total) {
  if (comm_->Rank() != 0) return;
  progress_.bytes_done = bytes_done;
  progress_.bytes_total = bytes_total;
  progress_.files_done = files_done;
  progress_.files_total = files_total;
  if (absl::Now() - last_report_ < options_.progress_interval) return;
  Report(/*final=*/false);
}

void Session::Report(bool final) {
  last_report_ = absl::Now();
  progress_.elapsed = last_report_ - start_;
  progress_.final = final;
  if (options_.on_progress) options_.on_progress(progress_);
  if (job_control_ != nullptr) {
    job_control_->ReportProgress(
        ProgressReport{.phase = phase_,
                       .bytes_done = progress_.bytes_done,
                       .bytes_total = progress_.bytes_total,
                       .message = absl::StrCat(progress_.files_done, " of ", progress_.files_total,
                                               " files", final ? ", done" : "")});
  }
}

absl::StatusOr<StageStats> Session::Finish(const absl::Status& mine, StageStats stats) {
  // Ranks that only wait (non-leaders, leaders done early) do so without spinning.
  comm_->Barrier();
  // The lowest rank with an error of its own; failing that, the lowest that stopped for
  // another's (which cannot happen alone, but is not silently dropped).
  const int size = comm_->Size();
  const int rank = comm_->Rank();
  const int64_t rank_key = mine.ok() ? 2 * size : IsPeerFailure(mine) ? size + rank : rank;
  const int64_t first = comm_->AllReduceMin(rank_key);
  if (first < 2 * size) {
    const int who = static_cast<int>(first < size ? first : first - size);
    std::string wire;
    if (rank == who) wire = absl::StrCat(static_cast<int>(mine.code()), "\n", mine.message());
    comm_->Broadcast(wire, who);
    const size_t nl = wire.find('\n');
    int code = static_cast<int>(absl::StatusCode::kUnknown);
    if (!absl::SimpleAtoi(wire.substr(0, nl), &code))
      code = static_cast<int>(absl::StatusCode::kUnknown);
    std::string message = nl == std::string::npos ? "" : wire.substr(nl + 1);
    if (layout_.names.size() > 1) {
      message = absl::StrCat("node ", layout_.names[layout_.node_of_rank[who]], ": ", message);
    }
    return absl::Status(static_cast<absl::StatusCode>(code), message);
  }
  stats.elapsed = absl::Now() - start_;
  std::string wire;
  if (rank == 0) {
    const int64_t elapsed_ns = absl::ToInt64Nanoseconds(stats.elapsed);
    const uint64_t fields[] = {static_cast<uint64_t>(stats.nodes),
                               stats.files_total,
                               stats.bytes_total,
                               stats.files_copied,
                               stats.bytes_copied,
                               stats.files_skipped,
                               stats.bytes_skipped,
                               stats.source_bytes_read,
                               stats.retries,
                               stats.directories,
                               stats.symlinks,
                               static_cast<uint64_t>(elapsed_ns)};
    wire.assign(reinterpret_cast<const char*>(fields), sizeof fields);
  }
  comm_->Broadcast(wire, 0);
  uint64_t f[12] = {};
  std::memcpy(f, wire.data(), std::min(wire.size(), sizeof f));
  StageStats out{.nodes = static_cast<int>(f[0]),
                 .files_total = f[1],
                 .bytes_total = f[2],
                 .files_copied = f[3],
                 .bytes_copied = f[4],
                 .files_skipped = f[5],
                 .bytes_skipped = f[6],
                 .source_bytes_read = f[7],
                 .retries = f[8],
                 .directories = f[9],
                 .symlinks = f[10],
                 .elapsed = absl::Nanoseconds(static_cast<int64_t>(f[11]))};
  if (rank == 0) {
    progress_.bytes_done = progress_.bytes_total = out.bytes_copied;
    progress_.files_done = progress_.files_total = out.files_copied;
    Report(/*final=*/true);
  }
  return out;
}

absl::StatusOr<StageStats> RunStaging(std::string phase, const std::string& src,
                                      const std::string& dst, const StageOptions& options,
                                      Communicator* comm, LeaderWork on_leader) {
  ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                   Session::Start(std::move(phase), src, dst, options, comm));
  StageStats stats;
  absl::Status mine;
  if (session->leader()) mine = on_leader(*session, src, dst, &stats);
  return session->Finish(mine, stats);
}

}  // namespace drocc::runtime::staging
