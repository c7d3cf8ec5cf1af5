// drocc-stage: data staging from a job script (docs/staging.md, "The drocc-stage tool").
//
//   srun -N "$SLURM_NNODES" --ntasks-per-node=1 drocc-stage in  /shared/data '/local/%n/data'
//   srun -N "$SLURM_NNODES" --ntasks-per-node=1 drocc-stage out '/local/%n/out' '/shared/out/%n'
//
// Every rank runs it with the same arguments (srun or mpirun start it); one rank per node is
// enough, more are harmless (they wait). Rank 0 prints progress and the summary on stderr.
// Exit status: 0 done, 1 staging failed (the message says why and what to do), 2 bad usage.

#include <mpi.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "drocc/runtime/communicator.h"
#include "drocc/runtime/staging.h"
#include "runtime/tools/stage_progress.h"

namespace {

using drocc::runtime::StageOptions;
using drocc::runtime::StageStats;

struct Args {
  std::string direction;  // "in" or "out"
  std::string src;
  std::string dst;
  StageOptions options;
  uint64_t chunk_bytes = 0;
  double progress_interval_s = -1;  // unset: 0.5 s on a terminal, 5 s otherwise
  bool quiet = false;
  bool no_report = false;
  std::string stats_json;
};

void AddCommon(CLI::App* cmd, Args& a, const char* src_help, const char* dst_help) {
  cmd->add_option("SRC", a.src, src_help)->required();
  cmd->add_option("DST", a.dst, dst_help)->required();
  cmd->add_option("--node-name", a.options.node_name,
                  "This rank's node (default: $SLURMD_NODENAME, else the host name); ranks "
                  "with the same name share one copy. %r is the rank.");
  cmd->add_option("--chunk-size", a.chunk_bytes,
                  "Size of the pieces files move in (e.g. 4MiB; default 1MiB)")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(uint64_t{64} << 10, uint64_t{1} << 30));
  cmd->add_option("--io-threads", a.options.io_threads,
                  "Threads per node reading SRC, and as many writing DST (default 4)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--retries", a.options.verify_retries,
                  "Times a file with a bad checksum is sent again (default 2)")
      ->check(CLI::Range(0, 10));
  cmd->add_option("--progress-interval", a.progress_interval_s,
                  "Seconds between progress updates (default 0.5 on a terminal, 5 otherwise)")
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_flag("-q,--quiet", a.quiet, "No progress and no summary; errors only");
  cmd->add_flag("--no-report", a.no_report,
                "Do not report progress to droccd (default: report when droccd started the job)");
  cmd->add_option("--stats-json", a.stats_json,
                  "Write the final statistics as JSON to this file ('-': stdout), from rank 0");
}

// Whether this process is the only rank of its job, as its launcher says: a plain shell (no
// launcher at all), `mpirun -n 1`, `srun -n 1`. Then drocc-stage does not start MPI, whose
// start-up (loading its components, connecting to the launcher) costs ~0.4 s, a fifth of a
// 2 GiB copy. Any launcher variable that says more than one rank, or a launcher that does not
// say how many (PMIx alone), means MPI.
bool AloneWithoutMpi() {
  bool launched = false;
  for (const char* name :
       {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE", "SLURM_STEP_NUM_TASKS"}) {
    const char* value = std::getenv(name);
    if (value == nullptr) continue;
    if (std::strcmp(value, "1") != 0) return false;
    launched = true;
  }
  return launched || (std::getenv("PMIX_RANK") == nullptr && std::getenv("PMI_RANK") == nullptr);
}

// Rank 0 writes the statistics where --stats-json says. False (and a message) if it cannot.
bool WriteStats(const std::string& where, const std::string& json) {
  if (where == "-") {
    std::printf("%s\n", json.c_str());
    return std::fflush(stdout) == 0;
  }
  std::ofstream f(where, std::ios::trunc);
  f << json << '\n';
  f.close();
  if (!f) {
    std::fprintf(stderr, "drocc-stage: cannot write the statistics to %s (--stats-json): %s\n",
                 where.c_str(), std::strerror(errno));
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // Staging reads and writes from threads of its own; MPI is called from this thread only.
  const bool mpi = !AloneWithoutMpi();
  int rank = 0;
  int size = 1;
  if (mpi) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
  }
  auto finish = [mpi](int code) {
    if (mpi) MPI_Finalize();
    return code;
  };

  // srun without MPI support starts every task as an MPI world of its own: each would copy
  // the whole tree and read it from SRC once per task. Refuse, and say how to fix it.
  if (const char* tasks = std::getenv("SLURM_STEP_NUM_TASKS");
      size == 1 && tasks != nullptr && std::atoi(tasks) > 1) {
    if (std::getenv("SLURM_PROCID") == nullptr || std::atoi(std::getenv("SLURM_PROCID")) == 0) {
      std::fprintf(stderr,
                   "drocc-stage: error: srun started %s tasks but MPI sees each alone: run "
                   "`srun --mpi=pmix ...` (or set MpiDefault=pmix in slurm.conf), or use "
                   "mpirun\n",
                   tasks);
    }
    return finish(2);
  }

  Args a;
  CLI::App app{
      "Stage a directory tree between the shared filesystem and node-local storage, reading "
      "each byte of the source once per job (docs/staging.md). Run one rank per node: srun -N "
      "$SLURM_NNODES --ntasks-per-node=1 drocc-stage in SRC DST.",
      "drocc-stage"};
  app.require_subcommand(1);
  CLI::App* in = app.add_subcommand(
      "in", "Copy SRC (shared) to DST on every node; skips what DST already holds");
  AddCommon(in, a, "Source directory or file, on the shared filesystem",
            "Destination on each node; %n is the node name (e.g. /tmp/%n/data)");
  CLI::App* out = app.add_subcommand(
      "out", "Copy each node's SRC to DST; DST appears only complete and verified");
  AddCommon(out, a, "Node-local source directory or file; %n is the node name",
            "Destination on the shared filesystem; %n is the node name (needed with several "
            "nodes)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Every rank parses the same arguments and ends the same way; rank 0 speaks.
    if (rank == 0) app.exit(e);
    return finish(e.get_exit_code() == 0 ? 0 : 2);
  }
  a.direction = in->parsed() ? "in" : "out";
  if (a.chunk_bytes > 0) a.options.chunk_bytes = a.chunk_bytes;
  a.options.report_to_daemon = !a.no_report;

  const bool terminal = isatty(STDERR_FILENO) == 1;
  a.options.progress_interval =
      absl::Seconds(a.progress_interval_s > 0 ? a.progress_interval_s : (terminal ? 0.5 : 5));
  if (rank == 0 && !a.quiet) {
    a.options.on_progress = drocc::runtime::tool::ProgressPrinter(stderr, terminal);
  }

  std::unique_ptr<drocc::runtime::Communicator> comm;
  if (mpi) {
    comm = std::make_unique<drocc::runtime::MpiCommunicator>(MPI_COMM_WORLD);
  } else {
    comm = std::make_unique<drocc::runtime::LocalCommunicator>();
  }
  const absl::StatusOr<StageStats> stats =
      a.direction == "in" ? drocc::runtime::StageIn(a.src, a.dst, a.options, comm.get())
                          : drocc::runtime::StageOut(a.src, a.dst, a.options, comm.get());
  if (!stats.ok()) {
    // Every rank has the same status; one message is enough.
    if (rank == 0) {
      std::fprintf(stderr, "drocc-stage %s: error: %s\n", a.direction.c_str(),
                   std::string(stats.status().message()).c_str());
    }
    return finish(1);
  }
  int rc = 0;
  if (rank == 0) {
    const std::string direction = a.direction == "in" ? "stage-in" : "stage-out";
    if (!a.quiet) {
      std::fprintf(stderr, "drocc-stage %s\n",
                   drocc::runtime::tool::Summary(direction, *stats).c_str());
    }
    if (!a.stats_json.empty() &&
        !WriteStats(a.stats_json, drocc::runtime::tool::StatsJson(direction, *stats))) {
      rc = 1;
    }
  }
  return finish(rc);
}
