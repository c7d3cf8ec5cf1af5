// A deterministic MPI "training" loop with libdrocc-runtime checkpoints (docs/runtime.md).
//
//   mpirun -n 4 ckpt_example --steps 300 --dir /scratch/$USER/run1
//
// The state is a distributed array of 64-bit integers (block-distributed over the ranks) and
// one replicated integer. Step s updates every element from its global index and s alone,
// then folds the global sum into the replicated value (an allreduce): the result after N
// steps is exact and the same for any number of ranks, interrupted or not. Rank 0 prints
//   result: steps=N digest=<16 hex digits>
// at the end. It checkpoints every --every steps, and on a stop signal (SIGUSR1 by default:
// `#SBATCH --signal=B:USR1@90` with the trap of job.sbatch, or `scancel --signal=USR1`) every
// rank stops at the same step, the final checkpoint is written and the job asks to be
// requeued; when it runs again it resumes from there.

#include <mpi.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "drocc/runtime/checkpoint.h"

namespace {

uint64_t Mix(uint64_t v) {  // splitmix64's finalizer: a cheap, exact "update rule"
  v ^= v >> 30;
  v *= 0xbf58476d1ce4e5b9ULL;
  v ^= v >> 27;
  v *= 0x94d049bb133111ebULL;
  v ^= v >> 31;
  return v;
}

[[noreturn]] void Die(int rank, const std::string& what, const absl::Status& s) {
  if (rank == 0) {
    std::fprintf(stderr, "ckpt_example: %s: %s\n", what.c_str(), std::string(s.message()).c_str());
  }
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::abort();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Deterministic MPI training loop with drocc checkpoints"};
  int64_t steps = 300;
  int64_t every = 20;
  uint64_t elements = 1 << 20;
  int step_ms = 0;
  std::string dir;
  bool async = false;
  std::string node_local;
  int keep = 3;
  app.add_option("--steps", steps, "steps to run in all")->check(CLI::PositiveNumber);
  app.add_option("--every", every, "checkpoint every this many steps")->check(CLI::PositiveNumber);
  app.add_option("--elements", elements, "global array length (8 bytes each)")
      ->check(CLI::PositiveNumber);
  app.add_option("--step-ms", step_ms, "sleep this long in each step (to watch it)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--dir", dir, "checkpoint directory (default: ./ckpt-$DROCC_JOB_ID, else ./ckpt)");
  app.add_flag("--async", async, "asynchronous saves");
  app.add_option("--node-local", node_local, "node-local tier, e.g. $TMPDIR");
  app.add_option("--keep", keep, "checkpoints kept")->check(CLI::NonNegativeNumber);
  // CLI11 before MPI: --help and bad flags need no MPI, and print once per rank at worst.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (dir.empty()) {
    const char* job = std::getenv("DROCC_JOB_ID");
    dir = job != nullptr ? std::string("ckpt-") + job : "ckpt";
  }

  int provided = 0;
  MPI_Init_thread(&argc, &argv, async ? MPI_THREAD_MULTIPLE : MPI_THREAD_SINGLE, &provided);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const uint64_t base = elements / size, rem = elements % size;
  const uint64_t offset = rank * base + std::min<uint64_t>(rank, rem);
  const uint64_t count = base + (static_cast<uint64_t>(rank) < rem ? 1 : 0);

  std::vector<uint64_t> x(count);
  for (uint64_t i = 0; i < count; ++i) x[i] = Mix(offset + i);
  uint64_t digest = 0;  // replicated

  drocc::runtime::MpiCommunicator comm(MPI_COMM_WORLD);
  auto created = drocc::runtime::Checkpointer::Create({.directory = dir,
                                                       .keep_last = keep,
                                                       .async = async,
                                                       .node_local_directory = node_local,
                                                       .handle_signals = true,
                                                       .report_to_daemon = true},
                                                      &comm);
  if (!created.ok()) Die(rank, "cannot set up checkpoints", created.status());
  drocc::runtime::Checkpointer& ckpt = **created;
  if (auto s = ckpt.RegisterDistributed("x", x.data(), sizeof(uint64_t), elements, offset, count);
      !s.ok()) {
    Die(rank, "register x", s);
  }
  if (auto s = ckpt.RegisterReplicated("digest", &digest, sizeof digest); !s.ok()) {
    Die(rank, "register digest", s);
  }

  absl::StatusOr<drocc::runtime::RestoreResult> restored = ckpt.Restore();
  if (!restored.ok()) Die(rank, "restore", restored.status());
  const int64_t first = restored->restored ? restored->step + 1 : 0;
  if (rank == 0) {
    if (restored->restored) {
      std::printf("resuming from the checkpoint of step %" PRId64 " in %s\n", restored->step,
                  dir.c_str());
    } else {
      std::printf("starting at step 0 (no checkpoint in %s)\n", dir.c_str());
    }
    std::fflush(stdout);
  }

  for (int64_t step = first; step < steps; ++step) {
    uint64_t local = 0;
    for (uint64_t i = 0; i < count; ++i) {
      x[i] = Mix(x[i] ^ (static_cast<uint64_t>(step) * 0x9e3779b97f4a7c15ULL + offset + i));
      local += x[i];
    }
    uint64_t global = 0;
    MPI_Allreduce(&local, &global, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    digest = Mix(digest ^ global);
    if ((step + 1) % every == 0) {
      if (auto s = ckpt.Save(step); !s.ok()) Die(rank, "save", s);
    }
    // The only job-control code: on a stop signal every rank gets true at the same step,
    // after the final checkpoint has committed and the requeue was asked for.
    if (ckpt.ShouldStop(step)) {
      if (rank == 0) {
        std::printf("stopping after step %" PRId64 " with a final checkpoint\n", step);
        std::fflush(stdout);
      }
      MPI_Finalize();
      return 0;
    }
    if (step_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(step_ms));
  }
  if (auto s = ckpt.Wait(); !s.ok()) Die(rank, "the last save", s);
  if (rank == 0) {
    std::printf("result: steps=%" PRId64 " digest=%016" PRIx64 "\n", steps, digest);
    std::fflush(stdout);
  }
  created->reset();
  MPI_Finalize();
  return 0;
}
