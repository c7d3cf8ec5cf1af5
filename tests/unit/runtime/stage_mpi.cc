// StageIn/StageOut under mpirun, for stage_mpi_test.sh (and the e2e test on the cluster):
//
//   stage_mpi in|out SRC DST [--node-name=NAME] [--pair-nodes] [--chunk-bytes=N]
//                            [--io-threads=N] [--verify-existing]
//
// --node-name is StageOptions::node_name ("node%r": every rank a node of its own);
// --pair-nodes names ranks 0,1 "pair0", ranks 2,3 "pair1"... (two ranks per node, so that
// non-leaders take part). Rank 0 prints the StageStats as one JSON line:
//   {"op":"in","nodes":2,"files_total":...,"source_bytes_read":...,"elapsed_s":0.12}
// Every rank checks (with plain MPI) that all ranks got the same status and stats; on an error
// rank 0 prints "error: <code>: <message>" on stderr, and the exit status is 2 (3 if the ranks
// disagreed).

#include <mpi.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "drocc/runtime/communicator.h"
#include "drocc/runtime/staging.h"

namespace {

using drocc::runtime::StageOptions;
using drocc::runtime::StageStats;

bool Flag(const char* arg, const char* name, std::string* value) {
  const size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  *value = arg + n + 1;
  return true;
}

std::string Json(const std::string& op, const StageStats& s) {
  return absl::StrFormat(
      "{\"op\":\"%s\",\"nodes\":%d,\"files_total\":%d,\"bytes_total\":%d,\"files_copied\":%d,"
      "\"bytes_copied\":%d,\"files_skipped\":%d,\"bytes_skipped\":%d,\"source_bytes_read\":%d,"
      "\"retries\":%d,\"directories\":%d,\"symlinks\":%d,\"elapsed_s\":%.3f}",
      op, s.nodes, s.files_total, s.bytes_total, s.files_copied, s.bytes_copied, s.files_skipped,
      s.bytes_skipped, s.source_bytes_read, s.retries, s.directories, s.symlinks,
      absl::ToDoubleSeconds(s.elapsed));
}

int Run(int argc, char** argv) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (argc < 4 || (std::strcmp(argv[1], "in") != 0 && std::strcmp(argv[1], "out") != 0)) {
    if (rank == 0) std::fprintf(stderr, "usage: stage_mpi in|out SRC DST [options]\n");
    return 1;
  }
  const std::string op = argv[1];
  StageOptions options;
  options.progress_interval = absl::Milliseconds(200);
  options.on_progress = [](const drocc::runtime::StageProgress& p) {
    std::fprintf(stderr,
                 "progress: %s %" PRIu64 "/%" PRIu64 " bytes, %" PRIu64 "/%" PRIu64 " files%s\n",
                 p.phase.c_str(), p.bytes_done, p.bytes_total, p.files_done, p.files_total,
                 p.final ? " (final)" : "");
  };
  for (int i = 4; i < argc; ++i) {
    std::string v;
    if (Flag(argv[i], "--node-name", &v)) {
      options.node_name = v;
    } else if (std::strcmp(argv[i], "--pair-nodes") == 0) {
      options.node_name = absl::StrCat("pair", rank / 2);
    } else if (Flag(argv[i], "--chunk-bytes", &v)) {
      options.chunk_bytes = std::strtoull(v.c_str(), nullptr, 10);
    } else if (Flag(argv[i], "--io-threads", &v)) {
      options.io_threads = std::atoi(v.c_str());
    } else if (std::strcmp(argv[i], "--verify-existing") == 0) {
      options.verify_existing = true;
    } else {
      if (rank == 0) std::fprintf(stderr, "stage_mpi: unknown option %s\n", argv[i]);
      return 1;
    }
  }
  drocc::runtime::MpiCommunicator comm(MPI_COMM_WORLD);
  absl::StatusOr<StageStats> stats =
      op == "in" ? drocc::runtime::StageIn(argv[2], argv[3], options, &comm)
                 : drocc::runtime::StageOut(argv[2], argv[3], options, &comm);
  // The outcome must be the same on every rank: compare each rank's with rank 0's.
  std::string mine = stats.ok() ? Json(op, *stats) : stats.status().ToString();
  const size_t cut = mine.find("\"elapsed_s\"");  // elapsed is rank 0's too, but printed rounded
  std::string key = mine.substr(0, cut);
  int length = static_cast<int>(key.size());
  MPI_Bcast(&length, 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::string root(length, '\0');
  if (rank == 0) root = key;
  MPI_Bcast(root.data(), length, MPI_CHAR, 0, MPI_COMM_WORLD);
  int same = root == key, all_same = 0;
  MPI_Allreduce(&same, &all_same, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (rank == 0) {
    if (stats.ok()) {
      std::printf("%s\n", mine.c_str());
    } else {
      std::fprintf(stderr, "error: %s\n", mine.c_str());
    }
  }
  if (!all_same) {
    if (!same) std::fprintf(stderr, "rank %d got another outcome: %s\n", rank, mine.c_str());
    return 3;
  }
  return stats.ok() ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  const int rc = Run(argc, argv);
  MPI_Finalize();
  return rc;
}
