#include "drocc/runtime/communicator.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

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

// The message of AllGatherBytes when the contributions do not fit.
absl::Status TooLarge(uint64_t total, size_t capacity) {
  return absl::InternalError(absl::StrCat(
      "AllGatherBytes: the ranks contributed ", total, " bytes together, more than the ", capacity,
      " bytes the caller provided (or more than 2 GiB); bound each rank's part"));
}

constexpr uint64_t kMaxGatherBytes = uint64_t{1} << 31;  // int displacements

// Length-prefixed strings in one string, for the default collectives.
std::string Pack(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    const uint64_t n = p.size();
    out.append(reinterpret_cast<const char*>(&n), sizeof n);
    out.append(p);
  }
  return out;
}

std::vector<std::string> Unpack(absl::string_view packed) {
  std::vector<std::string> out;
  while (packed.size() >= sizeof(uint64_t)) {
    uint64_t n = 0;
    std::memcpy(&n, packed.data(), sizeof n);
    packed.remove_prefix(sizeof n);
    n = std::min<uint64_t>(n, packed.size());
    out.emplace_back(packed.substr(0, n));
    packed.remove_prefix(n);
  }
  return out;
}

// Every rank's `values`, as raw bytes, on every rank (the default reductions).
std::vector<std::string> GatherValues(Communicator& comm, const std::vector<uint64_t>& values) {
  return comm.AllGather(
      std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(uint64_t)));
}

template <typename Op>
void ReduceGathered(const std::vector<std::string>& all, std::vector<uint64_t>& values, Op op) {
  for (size_t r = 0; r < all.size(); ++r) {
    const size_t n = std::min(values.size(), all[r].size() / sizeof(uint64_t));
    for (size_t i = 0; i < n; ++i) {
      uint64_t v = 0;
      std::memcpy(&v, all[r].data() + i * sizeof v, sizeof v);
      values[i] = r == 0 ? v : op(values[i], v);
    }
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Communicator>> Communicator::Duplicate() {
  return absl::UnimplementedError(
      "this Communicator cannot be duplicated for a background thread; implement "
      "Communicator::Duplicate() or use MpiCommunicator/LocalCommunicator");
}

std::vector<std::string> Communicator::AllGather(const std::string& mine) {
  std::string packed;
  if (std::vector<std::string> all = Gather(mine, 0); Rank() == 0) packed = Pack(all);
  Broadcast(packed, 0);
  return Unpack(packed);
}

absl::Status Communicator::AllGatherBytes(const void* mine, size_t bytes, char* all,
                                          size_t capacity, std::vector<size_t>& sizes) {
  const std::vector<std::string> parts =
      AllGather(std::string(static_cast<const char*>(mine), bytes));
  uint64_t total = 0;
  for (const std::string& p : parts) total += p.size();
  if (total > capacity || total >= kMaxGatherBytes) return TooLarge(total, capacity);
  sizes.clear();
  for (const std::string& p : parts) {
    std::memcpy(all, p.data(), p.size());
    all += p.size();
    sizes.push_back(p.size());
  }
  return absl::OkStatus();
}

int64_t Communicator::AllReduceMax(int64_t value) {
  // -min(-x) = max(x), except for INT64_MIN, which has no negation.
  return -AllReduceMin(-std::max(value, -std::numeric_limits<int64_t>::max()));
}

void Communicator::AllReduceSum(std::vector<uint64_t>& values) {
  ReduceGathered(GatherValues(*this, values), values, [](uint64_t a, uint64_t b) { return a + b; });
}

void Communicator::AllReduceOr(std::vector<uint64_t>& values) {
  ReduceGathered(GatherValues(*this, values), values, [](uint64_t a, uint64_t b) { return a | b; });
}

void Communicator::Barrier() { AllReduceMin(0); }

absl::StatusOr<std::unique_ptr<Communicator>> Communicator::Split(int color, int) {
  if (Size() != 1) {
    return absl::UnimplementedError(
        "this Communicator cannot be split; implement Communicator::Split() or use "
        "MpiCommunicator/LocalCommunicator");
  }
  if (color < 0) return std::unique_ptr<Communicator>();
  return std::unique_ptr<Communicator>(std::make_unique<LocalCommunicator>());
}

MpiCommunicator::MpiCommunicator(MPI_Comm comm) : comm_(comm) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

MpiCommunicator::MpiCommunicator(MPI_Comm comm, bool poll) : MpiCommunicator(comm) {
  owned_ = true;
  poll_ = poll;
}

MpiCommunicator::~MpiCommunicator() {
  if (!owned_) return;
  // Freeing after MPI_Finalize is erroneous; by then MPI has released it anyway.
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Comm_free(&comm_);
}

void MpiCommunicator::Complete(MPI_Request* request, bool poll) {
  if (!poll_ && !poll) {
    MPI_Wait(request, MPI_STATUS_IGNORE);
    return;
  }
  // The duplicate serves a background thread that waits for the other ranks' background
  // threads, possibly for seconds; MPI_Wait would spin on a core the training needs (or, in a
  // Barrier, the I/O of the ranks being waited for).
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
  constexpr uint64_t kPiece = uint64_t{1} << 30;  // MPI counts are int
  for (uint64_t offset = 0; offset < size; offset += kPiece) {
    const int n = static_cast<int>(std::min(kPiece, size - offset));
    MPI_Ibcast(data.data() + offset, n, MPI_CHAR, root, comm_, &request);
    Complete(&request);
  }
}

int64_t MpiCommunicator::AllReduceScalar(int64_t value, MPI_Op op) {
  int64_t out = 0;
  MPI_Request request;
  MPI_Iallreduce(&value, &out, 1, MPI_INT64_T, op, comm_, &request);
  Complete(&request);
  return out;
}

int64_t MpiCommunicator::AllReduceMin(int64_t value) { return AllReduceScalar(value, MPI_MIN); }

std::vector<std::string> MpiCommunicator::AllGather(const std::string& mine) {
  // Names and lists of indices: small, so int counts suffice.
  const int my_size = static_cast<int>(mine.size());
  std::vector<int> sizes(size_);
  MPI_Request request;
  MPI_Iallgather(&my_size, 1, MPI_INT, sizes.data(), 1, MPI_INT, comm_, &request);
  Complete(&request);
  std::vector<int> displs(size_);
  int total = 0;
  for (int r = 0; r < size_; ++r) {
    displs[r] = total;
    total += sizes[r];
  }
  std::string all(total, '\0');
  MPI_Iallgatherv(mine.data(), my_size, MPI_CHAR, all.data(), sizes.data(), displs.data(), MPI_CHAR,
                  comm_, &request);
  Complete(&request);
  std::vector<std::string> out;
  out.reserve(size_);
  for (int r = 0; r < size_; ++r) out.push_back(all.substr(displs[r], sizes[r]));
  return out;
}

absl::Status MpiCommunicator::AllGatherBytes(const void* mine, size_t bytes, char* all,
                                             size_t capacity, std::vector<size_t>& sizes) {
  // Each rank's count fits an int by itself or the total would not; send the true size.
  const uint64_t my_size = bytes;
  std::vector<uint64_t> all_sizes(size_);
  MPI_Request request;
  MPI_Iallgather(&my_size, 1, MPI_UINT64_T, all_sizes.data(), 1, MPI_UINT64_T, comm_, &request);
  Complete(&request);
  uint64_t total = 0;
  for (uint64_t s : all_sizes) total += s;
  if (total > capacity || total >= kMaxGatherBytes) return TooLarge(total, capacity);
  std::vector<int> counts(size_), displs(size_);
  sizes.assign(all_sizes.begin(), all_sizes.end());
  int offset = 0;
  for (int r = 0; r < size_; ++r) {
    counts[r] = static_cast<int>(all_sizes[r]);
    displs[r] = offset;
    offset += counts[r];
  }
  MPI_Iallgatherv(mine, static_cast<int>(bytes), MPI_BYTE, all, counts.data(), displs.data(),
                  MPI_BYTE, comm_, &request);
  Complete(&request);
  return absl::OkStatus();
}

int64_t MpiCommunicator::AllReduceMax(int64_t value) { return AllReduceScalar(value, MPI_MAX); }

void MpiCommunicator::AllReduceVector(std::vector<uint64_t>& values, MPI_Op op) {
  constexpr size_t kPiece = size_t{1} << 27;  // int counts
  for (size_t offset = 0; offset < values.size(); offset += kPiece) {
    const int n = static_cast<int>(std::min(kPiece, values.size() - offset));
    MPI_Request request;
    MPI_Iallreduce(MPI_IN_PLACE, values.data() + offset, n, MPI_UINT64_T, op, comm_, &request);
    Complete(&request);
  }
}

void MpiCommunicator::AllReduceSum(std::vector<uint64_t>& values) {
  AllReduceVector(values, MPI_SUM);
}

void MpiCommunicator::AllReduceOr(std::vector<uint64_t>& values) {
  AllReduceVector(values, MPI_BOR);
}

void MpiCommunicator::Barrier() {
  MPI_Request request;
  MPI_Ibarrier(comm_, &request);
  Complete(&request, /*poll=*/true);
}

absl::StatusOr<std::unique_ptr<Communicator>> MpiCommunicator::Split(int color, int key) {
  MPI_Comm part = MPI_COMM_NULL;
  MPI_Comm_split(comm_, color < 0 ? MPI_UNDEFINED : color, key, &part);
  if (part == MPI_COMM_NULL) return std::unique_ptr<Communicator>();
  return std::unique_ptr<Communicator>(new MpiCommunicator(part, /*poll=*/false));
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
  return std::unique_ptr<Communicator>(new MpiCommunicator(dup, /*poll=*/true));
}

}  // namespace drocc::runtime
