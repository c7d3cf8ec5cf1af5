#pragma once

// What every staging call does around its own work: argument checks, grouping the ranks into
// nodes (one leader each, and a communicator of the leaders), progress for rank 0 (the
// callback and droccd), and the end, where every rank gets the same outcome.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "drocc/runtime/communicator.h"
#include "drocc/runtime/file_system.h"
#include "drocc/runtime/job_control.h"
#include "drocc/runtime/staging.h"

namespace drocc::runtime::staging {

// This rank's node name: `option` with "%r" replaced by `rank`; if empty, $SLURMD_NODENAME;
// if unset or empty, the host name. InvalidArgument for a name that cannot be part of a path
// (empty, '/', too long).
absl::StatusOr<std::string> NodeName(const std::string& option, int rank);
// `path` with every "%n" replaced by `node`.
std::string ExpandNodeName(const std::string& path, const std::string& node);

// How the ranks of a communicator form nodes. Node ids follow the lowest rank of each node, so
// rank 0 is on node 0 and is its leader, and a leader's rank among the leaders is its node id.
struct NodeLayout {
  std::vector<std::string> names;  // by node id
  std::vector<int> node_of_rank;   // node id by rank
  int node = 0;                    // this rank's
  bool leader = false;             // the lowest rank of its node
};
// Node layout from every rank's node name (in rank order), as seen by `rank`.
NodeLayout LayOutNodes(const std::vector<std::string>& names, int rank);

// The status of a leader that stopped because another leader failed: the other leader's error
// is the one every rank gets (Session::Finish prefers real failures to this one).
absl::Status PeerFailed();
bool IsPeerFailure(const absl::Status& status);
// Collective over the leaders: whether any leader's `mine` is an error.
bool AnyFailed(Communicator& leaders, const absl::Status& mine);
// Runs the stopping rule every leader follows between phases: OK if no leader failed, else
// this leader's own error, or PeerFailed() if it did not fail itself.
absl::Status StopIfAnyFailed(Communicator& leaders, const absl::Status& mine);

// One staging call on one rank.
class Session {
 public:
  // Collective over `comm`: checks the arguments (the same on every rank, so no agreement is
  // needed), names the nodes, splits off the leaders' communicator, and, for report_to_daemon
  // in a job droccd started, creates the JobControl that carries progress to droccd.
  static absl::StatusOr<std::unique_ptr<Session>> Start(std::string phase, const std::string& src,
                                                        const std::string& dst,
                                                        const StageOptions& options,
                                                        Communicator* comm);
  ~Session();

  const StageOptions& options() const { return options_; }
  FileSystem& fs() { return *fs_; }
  bool leader() const { return layout_.leader; }
  const NodeLayout& layout() const { return layout_; }
  const std::string& node_name() const { return layout_.names[layout_.node]; }
  // Leaders only: the leaders' communicator (rank = node id).
  Communicator& leaders() { return *leaders_; }
  // Per leader and round: what one leader sends at most (chunk_bytes, less with many nodes so
  // that a round stays within kMaxRoundBytes).
  size_t chunk_bytes() const;

  // Rank 0: the job-wide progress so far. Calls on_progress and reports to droccd at most every
  // progress_interval.
  void Progress(uint64_t bytes_done, uint64_t bytes_total, uint64_t files_done,
                uint64_t files_total);

  // Collective over the whole communicator; the end of the call on every rank. `mine` is this
  // rank's outcome (OK for non-leaders), `stats` rank 0's result. Every rank gets the error of
  // the lowest rank that failed (prefixed with its node when there are several), or rank 0's
  // stats; rank 0 then reports the final progress.
  absl::StatusOr<StageStats> Finish(const absl::Status& mine, StageStats stats);

 private:
  Session(std::string phase, const StageOptions& options, Communicator* comm);
  void Report(bool final);

  const std::string phase_;
  StageOptions options_;
  Communicator* comm_;
  std::shared_ptr<FileSystem> fs_;
  NodeLayout layout_;
  std::unique_ptr<Communicator> leaders_;
  std::unique_ptr<JobControl> job_control_;  // null: not reporting to droccd
  absl::Time start_;
  absl::Time last_report_ = absl::InfinitePast();
  StageProgress progress_;  // rank 0: the latest
};

// A whole staging call on one rank: Session::Start, `on_leader` on the leaders (its status and
// stats are this leader's outcome), Session::Finish.
using LeaderWork = absl::Status (*)(Session& session, const std::string& src,
                                    const std::string& dst, StageStats* stats);
absl::StatusOr<StageStats> RunStaging(std::string phase, const std::string& src,
                                      const std::string& dst, const StageOptions& options,
                                      Communicator* comm, LeaderWork on_leader);

// Largest round of the stage-in exchange (all leaders' parts together).
inline constexpr size_t kMaxRoundBytes = size_t{256} << 20;
inline constexpr size_t kMinChunkBytes = size_t{64} << 10;
inline constexpr size_t kMaxChunkBytes = size_t{1} << 30;

}  // namespace drocc::runtime::staging
