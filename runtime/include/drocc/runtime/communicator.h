#pragma once

// The runtime's only contact with MPI. The checkpoint code talks to a Communicator, so it
// runs unchanged on MPI (MpiCommunicator) and in a single process without MPI at all
// (LocalCommunicator: unit tests, crash tests that fork, serial programs).
//
// Every method is collective: all ranks of the communicator call it, in the same order.
// Not thread-safe: call from one thread per rank.

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

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
};

// A Communicator over an MPI communicator. MPI must be initialised before the first call
// and stay so until the last; the MPI_Comm is not owned. MPI errors abort the job (MPI's
// default error handler), as they would in the training program itself.
class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(MPI_Comm comm);
  int Rank() const override { return rank_; }
  int Size() const override { return size_; }
  std::vector<std::string> Gather(const std::string& mine, int root) override;
  void Broadcast(std::string& data, int root) override;
  int64_t AllReduceMin(int64_t value) override;

 private:
  MPI_Comm comm_;
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
};

}  // namespace drocc::runtime
