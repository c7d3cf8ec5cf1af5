#pragma once

// Helpers shared by the store tests.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/queue/job.h"

namespace drocc::store {

// A fresh directory under `parent` (empty: the test temp dir), removed with everything in it
// on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& parent = "");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// /dev/shm when it is a writable directory, else "" (the test temp dir): for tests that write
// many small databases and test what droccd does, not what the disk does (no fsync cost).
std::string MemoryTempParent();

// 2026-01-01 plus `seconds`: whole seconds, so they survive the store's microseconds.
absl::Time T(int64_t seconds);

// A PENDING job of `uid` in `project`, submitted at T(submit_s), with a spec that uses every
// kind of field (script, environment, labels, signal).
queue::Job MakeJob(uint32_t uid = 1000, std::string project = "ml-lab", int64_t submit_s = 0,
                   std::string idempotency_key = "");

// The whole file at `path` ("" if it cannot be read).
std::string ReadBytes(const std::string& path);

// The offset of the first byte where `a` and `b` differ (the shorter one's size when one
// is a prefix of the other).
size_t FirstDifference(const std::string& a, const std::string& b);

// The first column of the first row of `sql`, as text ("" for NULL), read through a fresh
// connection to the database at `path` (not the store's); NOT_FOUND when there is no row.
absl::StatusOr<std::string> QueryText(const std::string& path, const std::string& sql);

}  // namespace drocc::store
