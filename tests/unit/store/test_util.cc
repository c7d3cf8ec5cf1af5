#include "tests/unit/store/test_util.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "common/status.h"
#include "daemon/store/sqlite_connection.h"
#include "gtest/gtest.h"

namespace drocc::store {

TempDir::TempDir(const std::string& parent) {
  std::string tmpl = (parent.empty() ? ::testing::TempDir() : parent) + "/drocc-store-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string MemoryTempParent() {
  constexpr char kShm[] = "/dev/shm";
  std::error_code ec;
  return std::filesystem::is_directory(kShm, ec) && access(kShm, W_OK) == 0 ? kShm : "";
}

absl::Time T(int64_t seconds) { return absl::FromUnixSeconds(1'767'225'600 + seconds); }

queue::Job MakeJob(uint32_t uid, std::string project, int64_t submit_s,
                   std::string idempotency_key) {
  queue::Job job;
  job.uid = uid;
  job.gid = uid + 1;
  job.user = "user" + std::to_string(uid);
  job.project = project;
  job.state = queue::JobState::kPending;
  job.reason = "waiting for budget";
  job.submit_time = T(submit_s);
  job.idempotency_key = std::move(idempotency_key);
  job.spec.name = "train-" + std::to_string(submit_s);
  job.spec.project = project;
  job.spec.partition = "gpu";
  job.spec.script = "#!/bin/bash\nsrun python train.py --lr 0.1 \"$@\"\n";
  job.spec.args = {"--epochs", "3"};
  job.spec.workdir = "/home/user/ml";
  job.spec.environment = {"OMP_NUM_THREADS=4", "EMPTY="};
  job.spec.nodes = 2;
  job.spec.ntasks_per_node = 4;
  job.spec.gpus_per_node = 4;
  job.spec.mem_mb = 64'000;
  job.spec.time_limit_s = 3600;
  job.spec.signal = {.signal = 10, .seconds_before = 120, .batch_only = true};
  job.spec.labels = {{"team", "vision"}, {"run", "42"}};
  return job;
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t FirstDifference(const std::string& a, const std::string& b) {
  const size_t n = std::min(a.size(), b.size());
  return static_cast<size_t>(std::mismatch(a.begin(), a.begin() + n, b.begin()).first - a.begin());
}

absl::StatusOr<std::string> QueryText(const std::string& path, const std::string& sql) {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                   Connection::Open(path, {.create = false, .read_only = true}));
  ASSIGN_OR_RETURN(Statement stmt, conn->Prepare(sql));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::NotFoundError("no row");
  return stmt.Text(0);
}

}  // namespace drocc::store
