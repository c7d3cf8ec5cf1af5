#pragma once

// The runtime's only contact with MPI. The checkpoint code talks to a Communicator, so it
// runs unchanged on MPI (MpiCommunicator) and in a single process without MPI at all
// (LocalCommunicator: unit tests, crash tests that fork, serial programs).
//
// Every method is collective: all ranks of the communicator call it, in the same order.
// Not thread-safe: call from one thread per rank. A Duplicate() is the exception that lets a
// second thread communicate: it may be used from another thread at the same time as the
// original (each of the two still from one thread).

#include <mpi.h>

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
  void Broadcast(std::string& data, int root) override;
  int64_t AllReduceMin(int64_t value) override;
  // MPI_Comm_dup, owned (freed by the destructor, unless MPI is finalized by then). MPI calls
  // from two threads at once need MPI_THREAD_MULTIPLE: if any rank's MPI was initialised with
  // less (MPI_Init, or MPI_Init_thread providing less), every rank gets FailedPrecondition.
  // The duplicate waits for collectives by polling with short sleeps instead of spinning.
  absl::StatusOr<std::unique_ptr<Communicator>> Duplicate() override;

 private:
  struct Owned {};
  MpiCommunicator(MPI_Comm comm, Owned);
  // Completes a nonblocking collective: MPI_Wait, or (a duplicate) MPI_Test and sleep.
  void Complete(MPI_Request* request);

  MPI_Comm comm_;
  bool owned_ = false;  // a Duplicate(): freed by the destructor, polls in Complete()
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
};

}  // namespace drocc::runtime
