#pragma once

// The runtime's only contact with MPI. The checkpoint and staging code talk to a Communicator,
// so they run unchanged on MPI (MpiCommunicator) and in a single process without MPI at all
// (LocalCommunicator: unit tests, crash tests that fork, serial programs).
//
// The first five methods are what an implementation must provide; the others have default
// implementations built on Gather and Broadcast (correct, not fast), which MpiCommunicator
// replaces with MPI's own collectives.
//
// Every method is collective: all ranks of the communicator call it, in the same order.
// Not thread-safe: call from one thread per rank. A Duplicate() is the exception that lets a
// second thread communicate: it may be used from another thread at the same time as the
// original (each of the two still from one thread).

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace drocc::runtime {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int Rank() const = 0;
  virtual int Size() const = 0;
  // Root receives every rank's `mine`, in rank order; other ranks receive an empty vector.
  virtual std::vector<std::string> Gather(const std::string& mine, int root) = 0;
  // After the call every rank's `data` equals root's.
  virtual void Broadcast(std::string& data, int root) = 0;
  // The minimum of `value` over all ranks, on every rank.
  virtual int64_t AllReduceMin(int64_t value) = 0;
  // A communicator over the same ranks, independent of this one, for a background thread
  // (the Checkpointer's asynchronous saves): it may be used concurrently with this one, and
  // waits for the other ranks without keeping a core busy. Every rank gets the same outcome.
  // Implementations that cannot provide one return an error (this default: Unimplemented).
  virtual absl::StatusOr<std::unique_ptr<Communicator>> Duplicate();

  // Every rank's `mine`, in rank order, on every rank.
  virtual std::vector<std::string> AllGather(const std::string& mine);
  // Bulk data: every rank's `bytes` bytes at `mine`, concatenated in rank order into `all`
  // (which holds `capacity` bytes) on every rank, and in `sizes` each rank's byte count. The
  // caller bounds what each rank contributes so that the total fits `capacity`, and stays
  // below 2 GiB; if it does not, every rank gets the same InternalError and `all` is untouched.
  virtual absl::Status AllGatherBytes(const void* mine, size_t bytes, char* all, size_t capacity,
                                      std::vector<size_t>& sizes);
  // The maximum of `value` over all ranks, on every rank.
  virtual int64_t AllReduceMax(int64_t value);
  // Element-wise sum (bitwise or) of `values` over all ranks, in place, on every rank. Every
  // rank passes the same number of elements.
  virtual void AllReduceSum(std::vector<uint64_t>& values);
  virtual void AllReduceOr(std::vector<uint64_t>& values);
  // Returns once every rank has called it. MpiCommunicator waits without keeping a core busy,
  // so ranks that only wait for others (staging's non-leaders) leave the cores to them.
  virtual void Barrier();
  // The ranks that pass the same `color` (>= 0) form a new communicator, ordered by `key` and
  // then by rank here; a rank passing a negative color gets null. Collective over this
  // communicator. The default handles a world of one rank and is Unimplemented otherwise.
  virtual absl::StatusOr<std::unique_ptr<Communicator>> Split(int color, int key);
};

// A Communicator over an MPI communicator. MPI must be initialised before the first call
// and stay so until the last; the MPI_Comm is not owned. MPI errors abort the job (MPI's
// default error handler), as they would in the training program itself.
class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(MPI_Comm comm);
  ~MpiCommunicator() override;
  int Rank() const override { return rank_; }
  int Size() const override { return size_; }
  std::vector<std::string> Gather(const std::string& mine, int root) override;
  // Any size: data above 1 GiB goes in several MPI calls.
  void Broadcast(std::string& data, int root) override;
  int64_t AllReduceMin(int64_t value) override;
  std::vector<std::string> AllGather(const std::string& mine) override;
  absl::Status AllGatherBytes(const void* mine, size_t bytes, char* all, size_t capacity,
                              std::vector<size_t>& sizes) override;
  int64_t AllReduceMax(int64_t value) override;
  void AllReduceSum(std::vector<uint64_t>& values) override;
  void AllReduceOr(std::vector<uint64_t>& values) override;
  // MPI_Ibarrier, then MPI_Test with short sleeps.
  void Barrier() override;
  // MPI_Comm_split; the new communicator is owned (freed by its destructor).
  absl::StatusOr<std::unique_ptr<Communicator>> Split(int color, int key) override;
  // MPI_Comm_dup, owned (freed by the destructor, unless MPI is finalized by then). MPI calls
  // from two threads at once need MPI_THREAD_MULTIPLE: if any rank's MPI was initialised with
  // less (MPI_Init, or MPI_Init_thread providing less), every rank gets FailedPrecondition.
  // The duplicate waits for collectives by polling with short sleeps instead of spinning.
  absl::StatusOr<std::unique_ptr<Communicator>> Duplicate() override;

 private:
  // An MPI_Comm this object frees; `poll`: waits in Complete() with MPI_Test and sleeps.
  MpiCommunicator(MPI_Comm comm, bool poll);
  // Completes a nonblocking collective: MPI_Wait, or (poll_, or `poll`) MPI_Test and sleep.
  void Complete(MPI_Request* request, bool poll = false);
  // The reduction of `value` over all ranks with `op`, on every rank.
  int64_t AllReduceScalar(int64_t value, MPI_Op op);
  // Element-wise reduction of `values` with `op`, in place.
  void AllReduceVector(std::vector<uint64_t>& values, MPI_Op op);

  MPI_Comm comm_;
  bool owned_ = false;  // from Duplicate() or Split(): freed by the destructor
  bool poll_ = false;   // a Duplicate(): polls in Complete()
  int rank_ = 0;
  int size_ = 1;
};

// A world of one rank; needs no MPI_Init.
class LocalCommunicator final : public Communicator {
 public:
  int Rank() const override { return 0; }
  int Size() const override { return 1; }
  std::vector<std::string> Gather(const std::string& mine, int) override { return {mine}; }
  void Broadcast(std::string&, int) override {}
  int64_t AllReduceMin(int64_t value) override { return value; }
  absl::StatusOr<std::unique_ptr<Communicator>> Duplicate() override {
    return std::make_unique<LocalCommunicator>();
  }
  std::vector<std::string> AllGather(const std::string& mine) override { return {mine}; }
  int64_t AllReduceMax(int64_t value) override { return value; }
  void AllReduceSum(std::vector<uint64_t>&) override {}
  void AllReduceOr(std::vector<uint64_t>&) override {}
  void Barrier() override {}
};

}  // namespace drocc::runtime
