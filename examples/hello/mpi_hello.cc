// mpi_hello: the smallest MPI program that shows every rank took part.
//
// Each rank prints "hello from rank R of N on NODE" (NODE is $SLURMD_NODENAME inside a Slurm
// job, so simulated nodes n1..nN on one machine are told apart; the hostname otherwise).
// Rank 0 then prints "sum of ranks = S" from an MPI_Reduce, which equals N*(N-1)/2 only if
// every rank reached it. Used by the dev-cluster checks and the end-to-end tests.

// Only the C API is used. OpenMPI's deprecated C++ bindings (pulled in by mpi.h otherwise)
// fail -Wextra -Werror with -Wcast-function-type when built with plain mpicxx.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

std::string NodeName() {
  if (const char* slurm_node = std::getenv("SLURMD_NODENAME");
      slurm_node != nullptr && *slurm_node != '\0') {
    return slurm_node;
  }
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) return "unknown";
  return host;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  int size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);

  std::printf("hello from rank %d of %d on %s\n", rank, size, NodeName().c_str());
  std::fflush(stdout);

  long long mine = rank;
  long long sum = 0;
  MPI_Reduce(&mine, &sum, 1, MPI_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    std::printf("sum of ranks = %lld\n", sum);
    std::fflush(stdout);
  }

  MPI_Finalize();
  return 0;
}
