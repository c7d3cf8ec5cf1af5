// A deterministic "training" program for the MPI checkpoint tests (ckpt_mpi_test.sh).
//
//   ckpt_train DIR GLOBAL_N UNTIL SAVE_EVERY RESTORE CALLBACK OUT [MODE]
//
// State: a distributed array x of GLOBAL_N doubles in blocks over the ranks, a replicated
// scalar, and (CALLBACK=1) a per-rank integer behind a save/load callback. Each step
// s = 1..UNTIL updates x[i] = x[i] * 1.0001 + f(i, s), which depends on the global index
// only, so the result is the same for any number of ranks. Saves when s % SAVE_EVERY == 0
// (SAVE_EVERY=0: never). RESTORE=1 starts from the newest checkpoint (which must exist).
// At the end rank 0 writes the whole state to OUT, for `cmp` against another run.
//
// MODE: sync (default), async, sync-local or async-local (the node-local tier in DIR.local).
// The asynchronous and node-local modes initialise MPI with MPI_THREAD_MULTIPLE, which they
// need; async-single asks for async with plain MPI_Init, which Create must refuse. Rank 0
// prints "committed step N" from on_commit for each checkpoint.

#include <mpi.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "drocc/runtime/checkpoint.h"

namespace {

int Fail(const std::string& what, const absl::Status& st) {
  std::fprintf(stderr, "ckpt_train: %s: %s\n", what.c_str(), std::string(st.message()).c_str());
  MPI_Abort(MPI_COMM_WORLD, 1);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 8 ? argv[8] : "sync";
  if (mode == "sync" || mode == "async-single") {
    MPI_Init(&argc, &argv);
  } else {
    int provided = MPI_THREAD_SINGLE;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  }
  if (argc != 8 && argc != 9) {
    std::fprintf(stderr,
                 "usage: ckpt_train DIR GLOBAL_N UNTIL SAVE_EVERY RESTORE CALLBACK OUT [MODE]\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  const std::string dir = argv[1];
  const uint64_t n = std::strtoull(argv[2], nullptr, 10);
  const int64_t until = std::strtoll(argv[3], nullptr, 10);
  const int64_t save_every = std::strtoll(argv[4], nullptr, 10);
  const bool restore = std::string(argv[5]) == "1";
  const bool callback = std::string(argv[6]) == "1";
  const std::string out = argv[7];

  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const uint64_t base = n / size, rem = n % size;
  const uint64_t offset = rank * base + std::min<uint64_t>(rank, rem);
  const uint64_t count = base + (static_cast<uint64_t>(rank) < rem ? 1 : 0);

  std::vector<double> x(count);
  for (uint64_t i = 0; i < count; ++i) x[i] = 1.0 + static_cast<double>((offset + i) % 97) / 100;
  double scale = 1.0;
  uint64_t lcg = static_cast<uint64_t>(rank) + 1;  // per-rank state

  drocc::runtime::MpiCommunicator comm(MPI_COMM_WORLD);
  auto c = drocc::runtime::Checkpointer::Create(
      {.directory = dir,
       .keep_last = 2,
       .async = mode.starts_with("async"),
       .node_local_directory = mode.ends_with("-local") ? dir + ".local" : "",
       .on_commit =
           [](const drocc::runtime::CommitInfo& info) {
             std::printf("committed step %" PRId64 " (%d ranks, %" PRIu64 " bytes)\n", info.step,
                         info.ranks, info.bytes);
             std::fflush(stdout);
           }},
      &comm);
  if (!c.ok()) return Fail("create", c.status());
  auto& ckpt = **c;
  if (auto st = ckpt.RegisterReplicated("scale", &scale, sizeof scale); !st.ok()) {
    return Fail("register", st);
  }
  if (auto st = ckpt.RegisterDistributed("x", x.data(), sizeof(double), n, offset, count);
      !st.ok()) {
    return Fail("register", st);
  }
  if (callback) {
    auto st = ckpt.RegisterCallback(
        "lcg",
        [&]() -> absl::StatusOr<std::string> {
          return std::string(reinterpret_cast<const char*>(&lcg), sizeof lcg);
        },
        [&](std::string_view b) {
          if (b.size() != sizeof lcg) return absl::DataLossError("lcg: wrong size");
          std::memcpy(&lcg, b.data(), sizeof lcg);
          return absl::OkStatus();
        });
    if (!st.ok()) return Fail("register", st);
  }

  int64_t start = 1;
  if (restore) {
    absl::StatusOr<drocc::runtime::RestoreResult> r = ckpt.Restore();
    if (!r.ok()) return Fail("restore", r.status());
    if (!r->restored) return Fail("restore", absl::NotFoundError("no checkpoint to restore"));
    start = r->step + 1;
    if (rank == 0) std::printf("restored step %" PRId64 "\n", r->step);
  }
  for (int64_t s = start; s <= until; ++s) {
    for (uint64_t i = 0; i < count; ++i) {
      const uint64_t g = offset + i;
      x[i] = x[i] * 1.0001 + static_cast<double>((g * 31 + s * 17) % 1000) * 1e-6;
    }
    scale = scale * 0.999 + static_cast<double>(s) * 1e-4;
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    if (save_every > 0 && s % save_every == 0) {
      if (auto st = ckpt.Save(s); !st.ok()) return Fail("save", st);
    }
  }
  // The last save durable before anything is reported; the Checkpointer (and its duplicated
  // communicator) gone before MPI_Finalize.
  if (auto st = ckpt.Wait(); !st.ok()) return Fail("wait", st);
  c->reset();

  // Rank 0 collects x (and the per-rank lcg when registered) and writes them out.
  std::vector<int> counts(size), displs(size);
  const int my_count = static_cast<int>(count);
  MPI_Gather(&my_count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  for (int r = 1; r < size; ++r) displs[r] = displs[r - 1] + counts[r - 1];
  std::vector<double> all(rank == 0 ? n : 0);
  MPI_Gatherv(x.data(), my_count, MPI_DOUBLE, all.data(), counts.data(), displs.data(), MPI_DOUBLE,
              0, MPI_COMM_WORLD);
  std::vector<uint64_t> lcgs(size);
  MPI_Gather(&lcg, 1, MPI_UINT64_T, lcgs.data(), 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    std::FILE* f = std::fopen(out.c_str(), "wb");
    if (f == nullptr) MPI_Abort(MPI_COMM_WORLD, 3);
    std::fwrite(all.data(), sizeof(double), all.size(), f);
    std::fwrite(&scale, sizeof scale, 1, f);
    if (callback) std::fwrite(lcgs.data(), sizeof(uint64_t), lcgs.size(), f);
    std::fclose(f);
  }
  MPI_Finalize();
  return 0;
}
