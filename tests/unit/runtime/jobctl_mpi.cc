// A "training loop" under mpirun for jobctl_mpi_test.sh: one rank gets a stop signal, and every
// rank must stop at the same step through JobControl::AgreeStop.
//
//   jobctl_mpi raise RANK STEP        rank RANK raises SIGUSR1 at step STEP (a deterministic
//                                     check: every rank must stop exactly at STEP)
//   jobctl_mpi kill RANK DIR          each rank writes DIR/pid.<rank> once its handler is in,
//                                     then steps every 20 ms for at most 30 s; the script
//                                     sends SIGUSR1 to rank RANK's pid from outside
//
// Then every rank calls RequestRequeue (neither droccd nor Slurm here): all must return the
// same error. Rank 0 checks everything with plain MPI (not through JobControl), prints one
// "ok:" line and exits 0, or prints "FAIL:" and exits 1.

#include <mpi.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "drocc/runtime/communicator.h"
#include "drocc/runtime/job_control.h"

namespace {

constexpr int64_t kMaxSteps = 1500;  // at 20 ms a step: 30 s, the bound of the kill mode

int Fail(const std::string& why) {
  std::fprintf(stderr, "FAIL: %s\n", why.c_str());
  return 1;
}

int Run(int argc, char** argv) {
  if (argc != 4) return Fail("usage: jobctl_mpi raise|kill RANK STEP|DIR");
  const std::string mode = argv[1];
  const int signal_rank = std::atoi(argv[2]);
  drocc::runtime::MpiCommunicator comm(MPI_COMM_WORLD);
  const int rank = comm.Rank();

  auto jc = drocc::runtime::JobControl::Create({}, &comm);
  if (!jc.ok()) return Fail(std::string(jc.status().message()));

  if (mode == "kill") {
    std::ofstream(std::string(argv[3]) + "/pid." + std::to_string(rank)) << getpid() << "\n";
  }
  MPI_Barrier(MPI_COMM_WORLD);

  int64_t stopped_at = -1;
  for (int64_t step = 0; step < kMaxSteps; ++step) {
    if (mode == "raise") {
      if (rank == signal_rank && step == std::atoll(argv[3])) raise(SIGUSR1);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // "training"
    }
    if ((*jc)->AgreeStop()) {
      stopped_at = step;
      break;
    }
  }
  const absl::Status requeue = (*jc)->RequestRequeue(stopped_at, "stop signal");

  // What each rank saw: the step it stopped at, whether it got the signal itself, and the
  // requeue status code.
  const int64_t mine[3] = {stopped_at, (*jc)->StopRequested() ? 1 : 0,
                           static_cast<int64_t>(requeue.code())};
  std::vector<int64_t> all(rank == 0 ? 3 * comm.Size() : 0);
  MPI_Gather(mine, 3, MPI_INT64_T, all.data(), 3, MPI_INT64_T, 0, MPI_COMM_WORLD);
  if (rank != 0) return 0;

  for (int r = 0; r < comm.Size(); ++r) {
    const int64_t step = all[3 * r], local = all[3 * r + 1], code = all[3 * r + 2];
    if (step < 0) return Fail("rank " + std::to_string(r) + " never stopped");
    if (step != all[0]) {
      return Fail("rank " + std::to_string(r) + " stopped at step " + std::to_string(step) +
                  ", rank 0 at step " + std::to_string(all[0]));
    }
    if (local != (r == signal_rank ? 1 : 0)) {
      return Fail("rank " + std::to_string(r) + (local ? " saw" : " did not see") +
                  " the signal itself");
    }
    if (code != static_cast<int64_t>(absl::StatusCode::kFailedPrecondition)) {
      return Fail("rank " + std::to_string(r) + ": RequestRequeue returned code " +
                  std::to_string(code) + ", want FAILED_PRECONDITION (no droccd, no Slurm)");
    }
  }
  if (mode == "raise" && all[0] != std::atoll(argv[3])) {
    return Fail("stopped at step " + std::to_string(all[0]) + ", the signal came at " + argv[3]);
  }
  std::printf("ok: all %d ranks stopped at step %lld; only rank %d got SIGUSR1; requeue: %s\n",
              comm.Size(), static_cast<long long>(all[0]), signal_rank,
              std::string(requeue.message()).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  const int rc = Run(argc, argv);
  // A failing rank must not leave the others waiting in a collective.
  if (rc != 0) MPI_Abort(MPI_COMM_WORLD, rc);
  MPI_Finalize();
  return rc;
}
