#include "drocc/runtime/communicator.h"

#include <limits>

namespace drocc::runtime {

MpiCommunicator::MpiCommunicator(MPI_Comm comm) : comm_(comm) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

std::vector<std::string> MpiCommunicator::Gather(const std::string& mine, int root) {
  // Checkpoint metadata is small (kilobytes per rank), so int counts suffice.
  int my_size = static_cast<int>(mine.size());
  std::vector<int> sizes(rank_ == root ? size_ : 0);
  MPI_Gather(&my_size, 1, MPI_INT, sizes.data(), 1, MPI_INT, root, comm_);
  std::vector<int> displs(sizes.size());
  std::string all;
  if (rank_ == root) {
    int total = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      displs[i] = total;
      total += sizes[i];
    }
    all.resize(total);
  }
  MPI_Gatherv(mine.data(), my_size, MPI_CHAR, all.data(), sizes.data(), displs.data(), MPI_CHAR,
              root, comm_);
  std::vector<std::string> out;
  for (size_t i = 0; i < sizes.size(); ++i) out.push_back(all.substr(displs[i], sizes[i]));
  return out;
}

void MpiCommunicator::Broadcast(std::string& data, int root) {
  uint64_t size = data.size();
  MPI_Bcast(&size, 1, MPI_UINT64_T, root, comm_);
  data.resize(size);
  if (size > 0) {
    if (size > static_cast<uint64_t>(std::numeric_limits<int>::max())) MPI_Abort(comm_, 1);
    MPI_Bcast(data.data(), static_cast<int>(size), MPI_CHAR, root, comm_);
  }
}

int64_t MpiCommunicator::AllReduceMin(int64_t value) {
  int64_t out = 0;
  MPI_Allreduce(&value, &out, 1, MPI_INT64_T, MPI_MIN, comm_);
  return out;
}

}  // namespace drocc::runtime
