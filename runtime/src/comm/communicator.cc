#include "drocc/runtime/communicator.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace drocc::runtime {
namespace {

const char* ThreadLevelName(int64_t level) {
  switch (level) {
    case MPI_THREAD_SINGLE:
      return "MPI_THREAD_SINGLE";
    case MPI_THREAD_FUNNELED:
      return "MPI_THREAD_FUNNELED";
    case MPI_THREAD_SERIALIZED:
      return "MPI_THREAD_SERIALIZED";
    case MPI_THREAD_MULTIPLE:
      return "MPI_THREAD_MULTIPLE";
  }
  return "an unknown thread level";
}

}  // namespace

absl::StatusOr<std::unique_ptr<Communicator>> Communicator::Duplicate() {
  return absl::UnimplementedError(
      "this Communicator cannot be duplicated for a background thread; implement "
      "Communicator::Duplicate() or use MpiCommunicator/LocalCommunicator");
}

MpiCommunicator::MpiCommunicator(MPI_Comm comm) : comm_(comm) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

MpiCommunicator::MpiCommunicator(MPI_Comm comm, Owned) : MpiCommunicator(comm) { owned_ = true; }

MpiCommunicator::~MpiCommunicator() {
  if (!owned_) return;
  // Freeing after MPI_Finalize is erroneous; by then MPI has released it anyway.
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Comm_free(&comm_);
}

void MpiCommunicator::Complete(MPI_Request* request) {
  if (!owned_) {
    MPI_Wait(request, MPI_STATUS_IGNORE);
    return;
  }
  // The duplicate serves a background thread that waits for the other ranks' background
  // threads, possibly for seconds; MPI_Wait would spin on a core the training needs.
  auto pause = std::chrono::microseconds(20);
  for (;;) {
    int done = 0;
    MPI_Test(request, &done, MPI_STATUS_IGNORE);
    if (done) return;
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(1));
  }
}

std::vector<std::string> MpiCommunicator::Gather(const std::string& mine, int root) {
  // Checkpoint metadata is small (kilobytes per rank), so int counts suffice.
  int my_size = static_cast<int>(mine.size());
  std::vector<int> sizes(rank_ == root ? size_ : 0);
  MPI_Request request;
  MPI_Igather(&my_size, 1, MPI_INT, sizes.data(), 1, MPI_INT, root, comm_, &request);
  Complete(&request);
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
  MPI_Igatherv(mine.data(), my_size, MPI_CHAR, all.data(), sizes.data(), displs.data(), MPI_CHAR,
               root, comm_, &request);
  Complete(&request);
  std::vector<std::string> out;
  for (size_t i = 0; i < sizes.size(); ++i) out.push_back(all.substr(displs[i], sizes[i]));
  return out;
}

void MpiCommunicator::Broadcast(std::string& data, int root) {
  uint64_t size = data.size();
  MPI_Request request;
  MPI_Ibcast(&size, 1, MPI_UINT64_T, root, comm_, &request);
  Complete(&request);
  data.resize(size);
  if (size > 0) {
    if (size > static_cast<uint64_t>(std::numeric_limits<int>::max())) MPI_Abort(comm_, 1);
    MPI_Ibcast(data.data(), static_cast<int>(size), MPI_CHAR, root, comm_, &request);
    Complete(&request);
  }
}

int64_t MpiCommunicator::AllReduceMin(int64_t value) {
  int64_t out = 0;
  MPI_Request request;
  MPI_Iallreduce(&value, &out, 1, MPI_INT64_T, MPI_MIN, comm_, &request);
  Complete(&request);
  return out;
}

absl::StatusOr<std::unique_ptr<Communicator>> MpiCommunicator::Duplicate() {
  int provided = MPI_THREAD_SINGLE;
  MPI_Query_thread(&provided);
  // Agree first: a rank refusing alone would leave the others waiting in MPI_Comm_dup.
  const int64_t lowest = AllReduceMin(provided);
  if (lowest < MPI_THREAD_MULTIPLE) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a background thread needs to make MPI calls, which requires MPI_THREAD_MULTIPLE, but "
        "MPI was initialised with ",
        ThreadLevelName(lowest), provided == lowest ? "" : " on some rank",
        "; initialise it with MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided) "
        "and check that provided == MPI_THREAD_MULTIPLE"));
  }
  MPI_Comm dup = MPI_COMM_NULL;
  MPI_Comm_dup(comm_, &dup);
  return std::unique_ptr<Communicator>(new MpiCommunicator(dup, Owned{}));
}

}  // namespace drocc::runtime
