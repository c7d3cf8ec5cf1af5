#pragma once

// Data staging (SPEC §7, docs/staging.md): copy a dataset from the shared filesystem to every
// node's local storage reading each byte from the shared filesystem once per job, and copy
// node-local results back atomically.
//
//   drocc::runtime::MpiCommunicator comm(MPI_COMM_WORLD);
//   auto stats = drocc::runtime::StageIn("/shared/imagenet", "/local/%n/imagenet", {}, &comm);
//   if (!stats.ok()) { fprintf(stderr, "%s\n", stats.status().ToString().c_str()); ... }
//
// Nodes. Ranks with the same node name share one copy in DST; the first rank of each node is
// its leader and does that node's I/O, the others only wait for the outcome. The node name is
// StageOptions::node_name, else $SLURMD_NODENAME (several slurmd on one host count as several
// nodes), else the host name. "%r" in node_name expands to the rank, so that
// node_name = "node%r" makes each rank a node of its own (tests, benchmarks on one host).
// "%n" in DST (and, for StageOut, in SRC) expands to the node name.
//
// Stage-in. Leader 0 walks SRC; every leader learns which files its DST already holds
// (incremental: same size and mtime as SRC and recorded as complete in DST's manifest);
// the files some node still needs are split among the leaders by bytes; each leader reads its
// share from SRC once, hashing it (xxh3-64), and sends it to every other leader over MPI in
// pipelined chunks (memory per leader: about (2 x leaders + 3) x chunk_bytes, chunk_bytes
// being lowered with many nodes so that one round of all leaders stays within 256 MiB; one node
// alone sends nothing and writes as it reads, from a buffer per I/O thread).
// Every piece also carries its own checksum, taken at the source. Every node writes each file
// under a temporary name inside DST/.drocc-stage/, reads each piece back as soon as it is
// written and checks it, then renames the file into place and records it (with the whole
// file's checksum) in the manifest DST/.drocc-stage/manifest. A mismatch is sent again
// (StageOptions::verify_retries times), then reported as an error naming the file and the node. An
// interrupted stage-in continues where it stopped: completed files are in the manifest, partial
// ones are never under their final name. Directories, modes, mtimes and symlinks inside the tree
// are preserved; a symlink leading outside SRC (resolved through the tree's other symlinks) is
// refused before anything is copied, an absolute one into SRC is made relative. Files in DST that
// are not in SRC are left alone; an entry of another kind where SRC has a path is replaced. SRC may
// also be one regular file (DST is then the copy's path). A ".drocc-stage" at the top of SRC
// is staging's own state, never staged.
//
// Stage-out. Each node leader copies its SRC (node-local) to its DST (shared) into a
// temporary name beside DST, verifies every file against the checksum taken while reading
// SRC, syncs it, and only then puts it under DST's name (an existing DST is swapped out
// atomically with renameat2(RENAME_EXCHANGE) and then removed): DST holds the previous result
// or the new one, never a partial one. Two nodes with the same DST is an error (put "%n" in it).
//
// Errors are collective: every rank returns the same status, whose message names the path
// and, where it matters, the node, and says what to do. Collective calls: every rank of the
// communicator calls with the same SRC, DST and options. MPI is called from the calling thread
// only (the library's I/O threads make no MPI call), so plain MPI_Init suffices.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "drocc/runtime/communicator.h"

namespace drocc::runtime {

class FileSystem;  // drocc/runtime/file_system.h: the seam to the file system (tests inject faults)

// Job-wide progress of one staging call, given to StageOptions::on_progress on rank 0.
struct StageProgress {
  std::string phase;         // "stage-in" or "stage-out"
  uint64_t bytes_done = 0;   // bytes of files copied so far (job-wide, each file counted once)
  uint64_t bytes_total = 0;  // bytes of the files to copy (skipped files not included)
  uint64_t files_done = 0;
  uint64_t files_total = 0;
  absl::Duration elapsed;
  bool final = false;  // the last call, after everything completed
};

struct StageOptions {
  // This rank's node (see above). Empty: $SLURMD_NODENAME, else the host name. "%r": the rank.
  std::string node_name;
  // Size of the pieces files are read, sent and written in. 1 MiB: a piece stays in the CPU's
  // cache from its read to its write and its check.
  size_t chunk_bytes = size_t{1} << 20;
  // Threads per leader reading SRC, and as many writing (and reading back) files in DST:
  // small files go in parallel, a large one is read and written by one thread at a time.
  int io_threads = 4;
  // How many times a file whose copy does not match its source checksum is sent again.
  int verify_retries = 2;
  // Stage-in: re-hash files already in DST instead of trusting size + mtime + manifest.
  bool verify_existing = false;
  // Called on rank 0 at most every progress_interval, and once at the end (final = true).
  // From the calling thread; keep it short.
  std::function<void(const StageProgress&)> on_progress;
  absl::Duration progress_interval = absl::Seconds(2);
  // Report progress to droccd (RuntimeService.ReportProgress) when droccd started the job
  // (DROCC_JOB_TOKEN set); never blocks or fails staging when droccd is down.
  bool report_to_daemon = true;
  // Test seam; null means the real (POSIX) one. Used for every file operation on SRC and DST.
  std::shared_ptr<FileSystem> fs;
};

// Outcome of one staging call; the same on every rank.
struct StageStats {
  int nodes = 0;              // leaders
  uint64_t files_total = 0;   // regular files in SRC
  uint64_t bytes_total = 0;   // their bytes
  uint64_t files_copied = 0;  // files some node needed (each counted once)
  uint64_t bytes_copied = 0;
  uint64_t files_skipped = 0;  // already in every node's DST
  uint64_t bytes_skipped = 0;
  uint64_t source_bytes_read = 0;  // job-wide bytes read from SRC (all leaders together)
  uint64_t retries = 0;            // files sent again after a checksum mismatch
  uint64_t directories = 0;
  uint64_t symlinks = 0;
  absl::Duration elapsed;
};

absl::StatusOr<StageStats> StageIn(const std::string& src, const std::string& dst,
                                   const StageOptions& options, Communicator* comm);
absl::StatusOr<StageStats> StageOut(const std::string& src, const std::string& dst,
                                    const StageOptions& options, Communicator* comm);

}  // namespace drocc::runtime
