// The C API (checkpoint_c.h) in one process without MPI: every error path returns its code
// and a message that names the function and says what to do, NULL handles and pointers never
// crash, nothing thrown crosses the boundary; and what the C layer adds to the C++ one
// (options, callbacks through the sink, restore's out parameters, on_commit, stats, signals)
// works. The MPI side (create from an MPI_Comm, many ranks) is ckpt_c_train.c's.

#include "drocc/runtime/checkpoint_c.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "runtime/src/capi/errors.h"
#include "tests/unit/runtime/test_dir.h"

namespace drocc::runtime::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

std::string LastError() { return drocc_ckpt_last_error(); }

// Options with defaults and `dir`.
drocc_ckpt_options_t Options(const std::string& dir) {
  drocc_ckpt_options_t o;
  EXPECT_EQ(drocc_ckpt_options_init(&o, sizeof o), DROCC_CKPT_OK) << LastError();
  o.directory = dir.c_str();
  return o;
}

// Per-rank state behind callbacks: its bytes, written to the sink in pieces of 3.
struct Blob {
  std::string bytes;
  int save_rc = DROCC_CKPT_OK;  // what the callbacks return
  int load_rc = DROCC_CKPT_OK;
  const char* message = nullptr;  // set before failing, if not NULL
  int loads = 0;
};

int SaveBlob(void* user, drocc_ckpt_sink_t* sink) {
  auto* b = static_cast<Blob*>(user);
  if (b->save_rc != DROCC_CKPT_OK) {
    if (b->message != nullptr) drocc_ckpt_set_callback_error(b->message);
    return b->save_rc;
  }
  for (size_t i = 0; i < b->bytes.size(); i += 3) {
    const int rc =
        drocc_ckpt_sink_write(sink, b->bytes.data() + i, std::min<size_t>(3, b->bytes.size() - i));
    if (rc != DROCC_CKPT_OK) return rc;
  }
  return DROCC_CKPT_OK;
}

int LoadBlob(void* user, const void* data, uint64_t bytes) {
  auto* b = static_cast<Blob*>(user);
  ++b->loads;
  if (b->load_rc != DROCC_CKPT_OK) {
    if (b->message != nullptr) drocc_ckpt_set_callback_error(b->message);
    return b->load_rc;
  }
  if (bytes > 0 && data == nullptr) return DROCC_CKPT_INTERNAL;
  b->bytes.assign(static_cast<const char*>(data), bytes);
  return DROCC_CKPT_OK;
}

// A serial checkpointer over `dir` with a replicated double, a distributed array and a blob.
struct Model {
  double lr = 0;
  std::vector<int32_t> x = std::vector<int32_t>(100);
  Blob blob;
  drocc_ckpt_t* c = nullptr;

  explicit Model(const std::string& dir, drocc_ckpt_options_t o = {}) {
    if (o.struct_size == 0) o = Options(dir);
    EXPECT_EQ(drocc_ckpt_create_serial(&o, &c), DROCC_CKPT_OK) << LastError();
    if (c == nullptr) return;
    EXPECT_EQ(drocc_ckpt_register_replicated(c, "lr", &lr, sizeof lr), DROCC_CKPT_OK);
    EXPECT_EQ(
        drocc_ckpt_register_distributed(c, "x", x.data(), sizeof(int32_t), x.size(), 0, x.size()),
        DROCC_CKPT_OK);
    EXPECT_EQ(drocc_ckpt_register_callback(c, "blob", SaveBlob, LoadBlob, &blob), DROCC_CKPT_OK);
  }
  ~Model() { EXPECT_EQ(drocc_ckpt_destroy(&c), DROCC_CKPT_OK); }
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  void Fill(int step) {
    lr = 1.0 / (step + 1);
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<int32_t>(i * 31 + step);
    blob.bytes = "blob of step " + std::to_string(step);
  }
};

TEST(CheckpointCTest, StatusCodesAreAbslCodes) {
  static_assert(DROCC_CKPT_OK == static_cast<int>(absl::StatusCode::kOk));
  static_assert(DROCC_CKPT_INVALID_ARGUMENT ==
                static_cast<int>(absl::StatusCode::kInvalidArgument));
  static_assert(DROCC_CKPT_FAILED_PRECONDITION ==
                static_cast<int>(absl::StatusCode::kFailedPrecondition));
  static_assert(DROCC_CKPT_DATA_LOSS == static_cast<int>(absl::StatusCode::kDataLoss));
  static_assert(DROCC_CKPT_UNAUTHENTICATED == static_cast<int>(absl::StatusCode::kUnauthenticated));
  for (int code = DROCC_CKPT_OK; code <= DROCC_CKPT_UNAUTHENTICATED; ++code) {
    EXPECT_EQ(drocc_ckpt_status_name(code),
              absl::StatusCodeToString(static_cast<absl::StatusCode>(code)));
  }
  EXPECT_STREQ(drocc_ckpt_status_name(-1), "UNKNOWN");
  EXPECT_STREQ(drocc_ckpt_status_name(17), "UNKNOWN");
}

TEST(CheckpointCTest, OptionsInitSetsTheDefaults) {
  drocc_ckpt_options_t o;
  std::memset(&o, 0xab, sizeof o);
  ASSERT_EQ(drocc_ckpt_options_init(&o, sizeof o), DROCC_CKPT_OK);
  EXPECT_THAT(LastError(), IsEmpty());
  EXPECT_EQ(o.struct_size, sizeof o);
  EXPECT_EQ(o.directory, nullptr);
  EXPECT_EQ(o.keep_last, 3);
  EXPECT_EQ(o.async, 0);
  EXPECT_EQ(o.async_buffer_bytes, 0u);
  EXPECT_EQ(o.when_busy, DROCC_CKPT_WHEN_BUSY_WAIT);
  EXPECT_EQ(o.node_local_directory, nullptr);
  EXPECT_EQ(o.on_commit, nullptr);
  EXPECT_EQ(o.on_commit_user_data, nullptr);
  EXPECT_EQ(o.handle_signals, 0);
  EXPECT_EQ(o.requeue_on_stop, 1);
  EXPECT_EQ(o.report_to_daemon, 0);
  EXPECT_EQ(o.stop_signals, nullptr);
}

TEST(CheckpointCTest, OptionsInitRefusesNullAndUnknownSizes) {
  EXPECT_EQ(drocc_ckpt_options_init(nullptr, sizeof(drocc_ckpt_options_t)),
            DROCC_CKPT_INVALID_ARGUMENT);
  EXPECT_THAT(LastError(), AllOf(StartsWith("drocc_ckpt_options_init: options is NULL"),
                                 HasSubstr("drocc_ckpt_options_t")));
  drocc_ckpt_options_t o;
  for (size_t size : {size_t{0}, size_t{8}, sizeof o - 1, sizeof o + 8}) {
    EXPECT_EQ(drocc_ckpt_options_init(&o, size), DROCC_CKPT_INVALID_ARGUMENT) << size;
    EXPECT_THAT(LastError(), AllOf(HasSubstr("struct_size is " + std::to_string(size)),
                                   HasSubstr("pass sizeof")));
  }
}

TEST(CheckpointCTest, CreateRefusesBadOptionsAndLeavesNoHandle) {
  TestDir dir;
  drocc_ckpt_t* c = nullptr;
  auto expect_refused = [&](const drocc_ckpt_options_t* o, int code, const std::string& text) {
    c = reinterpret_cast<drocc_ckpt_t*>(0x1);  // must be reset, not left dangling
    EXPECT_EQ(drocc_ckpt_create_serial(o, &c), code) << text;
    EXPECT_EQ(c, nullptr);
    EXPECT_THAT(LastError(), HasSubstr(text));
  };
  expect_refused(nullptr, DROCC_CKPT_INVALID_ARGUMENT,
                 "drocc_ckpt_create_serial: options is NULL; fill a drocc_ckpt_options_t with "
                 "drocc_ckpt_options_init first");
  drocc_ckpt_options_t o;
  std::memset(&o, 0, sizeof o);  // not initialised
  expect_refused(&o, DROCC_CKPT_INVALID_ARGUMENT,
                 "options.struct_size (was drocc_ckpt_options_init called on it?) is 0 bytes");
  o = Options(dir.path());
  o.directory = nullptr;
  expect_refused(&o, DROCC_CKPT_INVALID_ARGUMENT, "options.directory is not set");
  o.directory = "";
  expect_refused(&o, DROCC_CKPT_INVALID_ARGUMENT, "options.directory is not set");
  o = Options(dir.path());
  o.when_busy = 7;
  expect_refused(&o, DROCC_CKPT_INVALID_ARGUMENT,
                 "options.when_busy is 7; use DROCC_CKPT_WHEN_BUSY_WAIT (0) or "
                 "DROCC_CKPT_WHEN_BUSY_SKIP (1)");
  o = Options(dir.path());
  o.keep_last = -1;
  expect_refused(&o, DROCC_CKPT_INVALID_ARGUMENT, "keep_last must be >= 0");
  o = Options(dir.path());
  o.stop_signals = "USR1,KILL";
  expect_refused(&o, DROCC_CKPT_INVALID_ARGUMENT, "options.stop_signals: ");
  o = Options(dir.path());
  EXPECT_EQ(drocc_ckpt_create_serial(&o, nullptr), DROCC_CKPT_INVALID_ARGUMENT);
  EXPECT_THAT(LastError(), StartsWith("drocc_ckpt_create_serial: out is NULL"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/ckpt-000000000000"));
}

TEST(CheckpointCTest, CreateOverMpiNeedsMpiInitialised) {
  // This test program never calls MPI_Init.
  TestDir dir;
  drocc_ckpt_options_t o = Options(dir.path());
  drocc_ckpt_t* c = reinterpret_cast<drocc_ckpt_t*>(0x1);
  EXPECT_EQ(drocc_ckpt_create(&o, MPI_COMM_WORLD, &c), DROCC_CKPT_FAILED_PRECONDITION);
  EXPECT_EQ(c, nullptr);
  EXPECT_THAT(LastError(), AllOf(StartsWith("drocc_ckpt_create: MPI is not initialised"),
                                 HasSubstr("MPI_Init"), HasSubstr("drocc_ckpt_create_serial")));
  c = reinterpret_cast<drocc_ckpt_t*>(0x1);
  EXPECT_EQ(drocc_ckpt_create_f(&o, 0, &c), DROCC_CKPT_FAILED_PRECONDITION);
  EXPECT_EQ(c, nullptr);
  EXPECT_THAT(LastError(), StartsWith("drocc_ckpt_create_f: MPI is not initialised"));
  EXPECT_EQ(drocc_ckpt_create(&o, MPI_COMM_WORLD, nullptr), DROCC_CKPT_FAILED_PRECONDITION);
}

TEST(CheckpointCTest, NullHandlesAreRefusedWithoutCrashing) {
  double d = 0;
  int flag = 0;
  int64_t n = 0;
  const char* line = nullptr;
  drocc_ckpt_stats_t stats;
  const std::vector<std::pair<std::string, int>> calls = {
      {"drocc_ckpt_register_replicated",
       drocc_ckpt_register_replicated(nullptr, "d", &d, sizeof d)},
      {"drocc_ckpt_register_distributed",
       drocc_ckpt_register_distributed(nullptr, "d", &d, sizeof d, 1, 0, 1)},
      {"drocc_ckpt_register_callback",
       drocc_ckpt_register_callback(nullptr, "b", SaveBlob, LoadBlob, nullptr)},
      {"drocc_ckpt_save", drocc_ckpt_save(nullptr, 1)},
      {"drocc_ckpt_wait", drocc_ckpt_wait(nullptr)},
      {"drocc_ckpt_restore", drocc_ckpt_restore(nullptr, &flag, &n)},
      {"drocc_ckpt_skipped_count", drocc_ckpt_skipped_count(nullptr, &n)},
      {"drocc_ckpt_skipped_line", drocc_ckpt_skipped_line(nullptr, 0, &line)},
      {"drocc_ckpt_should_stop", drocc_ckpt_should_stop(nullptr, 1, &flag)},
      {"drocc_ckpt_get_stats", drocc_ckpt_get_stats(nullptr, &stats, sizeof stats)},
  };
  for (const auto& [name, rc] : calls) {
    EXPECT_EQ(rc, DROCC_CKPT_INVALID_ARGUMENT) << name;
  }
  // The message is that of the last call.
  EXPECT_EQ(LastError(),
            "drocc_ckpt_get_stats: the checkpointer handle is NULL; create it with "
            "drocc_ckpt_create (or _create_f, _create_serial) and check that it returned "
            "DROCC_CKPT_OK");
  EXPECT_EQ(drocc_ckpt_save(nullptr, 1), DROCC_CKPT_INVALID_ARGUMENT);
  EXPECT_THAT(LastError(), StartsWith("drocc_ckpt_save: the checkpointer handle is NULL"));
  // Destroying nothing is fine, as free(NULL) is.
  EXPECT_EQ(drocc_ckpt_destroy(nullptr), DROCC_CKPT_OK);
  drocc_ckpt_t* none = nullptr;
  EXPECT_EQ(drocc_ckpt_destroy(&none), DROCC_CKPT_OK);
  EXPECT_THAT(LastError(), IsEmpty());
  EXPECT_EQ(drocc_ckpt_sink_write(nullptr, "x", 1), DROCC_CKPT_INVALID_ARGUMENT);
  EXPECT_THAT(LastError(), StartsWith("drocc_ckpt_sink_write: the sink is NULL"));
}

TEST(CheckpointCTest, BadArgumentsOnAHandle) {
  TestDir dir;
  drocc_ckpt_options_t o = Options(dir.path());
  drocc_ckpt_t* c = nullptr;
  ASSERT_EQ(drocc_ckpt_create_serial(&o, &c), DROCC_CKPT_OK) << LastError();
  double d = 0;
  EXPECT_EQ(drocc_ckpt_register_replicated(c, nullptr, &d, sizeof d), DROCC_CKPT_INVALID_ARGUMENT);
  EXPECT_THAT(LastError(), StartsWith("drocc_ckpt_register_replicated: the item name is NULL"));
  EXPECT_EQ(drocc_ckpt_register_replicated(c, "", &d, sizeof d), DROCC_CKPT_INVALID_ARGUMENT);
  EXPECT_THAT(LastError(), HasSubstr("needs a name"));
  EXPECT_EQ(drocc_ckpt_register_replicated(c, "d", nullptr, 8), DROCC_CKPT_INVALID_ARGUMENT);
  EXPECT_THAT(LastError(), HasSubstr("replicated item \"d\": no data"));
  EXPECT_EQ(drocc_ckpt_register_distributed(c, "a", &d, sizeof d, 10, 8, 4),
            DROCC_CKPT_INVALID_ARGUMENT);
  EXPECT_THAT(LastError(), HasSubstr("slice [8, 12) lies outside the array of 10 elements"));
  EXPECT_EQ(drocc_ckpt_register_distributed(c, "a", &d, 0, 1, 0, 1), DROCC_CKPT_INVALID_ARGUMENT);
  EXPECT_THAT(LastError(), HasSubstr("element_size must be > 0"));
  EXPECT_EQ(drocc_ckpt_register_callback(c, "b", SaveBlob, nullptr, nullptr),
            DROCC_CKPT_INVALID_ARGUMENT);
  EXPECT_THAT(LastError(), HasSubstr("needs both a save and a load function"));
  EXPECT_EQ(drocc_ckpt_register_replicated(c, "d", &d, sizeof d), DROCC_CKPT_OK);
  EXPECT_THAT(LastError(), IsEmpty());  // a success clears the message
  EXPECT_EQ(drocc_ckpt_register_replicated(c, "d", &d, sizeof d), DROCC_CKPT_ALREADY_EXISTS);
  EXPECT_THAT(LastError(), HasSubstr("\"d\" is already registered"));

  EXPECT_EQ(drocc_ckpt_save(c, -1), DROCC_CKPT_INVALID_ARGUMENT);
  EXPECT_THAT(LastError(), HasSubstr("step -1 is negative"));
  int restored = 7;
  int64_t step = 7;
  EXPECT_EQ(drocc_ckpt_restore(c, nullptr, &step), DROCC_CKPT_INVALID_ARGUMENT);
  EXPECT_THAT(LastError(), StartsWith("drocc_ckpt_restore: restored is NULL"));
  EXPECT_EQ(drocc_ckpt_restore(c, &restored, nullptr), DROCC_CKPT_INVALID_ARGUMENT);
  EXPECT_THAT(LastError(), StartsWith("drocc_ckpt_restore: step is NULL"));
  EXPECT_EQ(drocc_ckpt_restore(c, &restored, &step), DROCC_CKPT_OK);  // nothing saved yet
  EXPECT_EQ(restored, 0);
  EXPECT_EQ(step, -1);
  int64_t count = -1;
  EXPECT_EQ(drocc_ckpt_skipped_count(c, &count), DROCC_CKPT_OK);
  EXPECT_EQ(count, 0);
  EXPECT_EQ(drocc_ckpt_skipped_count(c, nullptr), DROCC_CKPT_INVALID_ARGUMENT);
  const char* line = "unchanged";
  EXPECT_EQ(drocc_ckpt_skipped_line(c, 0, &line), DROCC_CKPT_OUT_OF_RANGE);
  EXPECT_EQ(line, nullptr);
  EXPECT_THAT(LastError(), HasSubstr("index 0 is outside [0, drocc_ckpt_skipped_count) = [0, 0)"));
  EXPECT_EQ(drocc_ckpt_skipped_line(c, -1, &line), DROCC_CKPT_OUT_OF_RANGE);
  EXPECT_EQ(drocc_ckpt_skipped_line(c, 0, nullptr), DROCC_CKPT_INVALID_ARGUMENT);
  EXPECT_EQ(drocc_ckpt_should_stop(c, 1, nullptr), DROCC_CKPT_INVALID_ARGUMENT);
  drocc_ckpt_stats_t stats;
  EXPECT_EQ(drocc_ckpt_get_stats(c, nullptr, sizeof stats), DROCC_CKPT_INVALID_ARGUMENT);
  EXPECT_EQ(drocc_ckpt_get_stats(c, &stats, 4), DROCC_CKPT_INVALID_ARGUMENT);
  EXPECT_THAT(LastError(), HasSubstr("struct_size is 4 bytes"));
  EXPECT_EQ(drocc_ckpt_destroy(&c), DROCC_CKPT_OK);
  EXPECT_EQ(c, nullptr);
}

TEST(CheckpointCTest, TheMessageIsPerThread) {
  EXPECT_EQ(drocc_ckpt_wait(nullptr), DROCC_CKPT_INVALID_ARGUMENT);
  std::string other;
  std::thread([&] {
    other = LastError();
    EXPECT_EQ(drocc_ckpt_save(nullptr, 0), DROCC_CKPT_INVALID_ARGUMENT);
  }).join();
  EXPECT_THAT(other, IsEmpty());
  EXPECT_THAT(LastError(), StartsWith("drocc_ckpt_wait: "));
}

TEST(CheckpointCTest, NothingThrownCrossesTheBoundary) {
  using capi::Guard;
  EXPECT_EQ(Guard("f", []() -> absl::Status { throw std::runtime_error("boom"); }),
            DROCC_CKPT_INTERNAL);
  EXPECT_EQ(LastError(), "f: boom");
  EXPECT_EQ(Guard("f", []() -> absl::Status { throw std::bad_alloc(); }),
            DROCC_CKPT_RESOURCE_EXHAUSTED);
  EXPECT_THAT(LastError(), HasSubstr("out of memory"));
  EXPECT_EQ(Guard("f", []() -> absl::Status { throw 42; }), DROCC_CKPT_INTERNAL);
  EXPECT_THAT(LastError(), HasSubstr("unknown exception"));
  EXPECT_EQ(Guard("f", [] { return absl::NotFoundError("gone"); }), DROCC_CKPT_NOT_FOUND);
  EXPECT_EQ(LastError(), "gone");
}

// One commit as on_commit saw it.
struct Commits {
  std::vector<int64_t> steps;
  std::vector<std::string> paths;
  int ranks = 0;
};

void OnCommit(const drocc_ckpt_commit_info_t* info, void* user) {
  auto* c = static_cast<Commits*>(user);
  c->steps.push_back(info->step);
  c->paths.push_back(info->path);
  c->ranks = info->ranks;
}

TEST(CheckpointCTest, SavesAndRestoresEveryKindOfState) {
  TestDir dir;
  Commits commits;
  drocc_ckpt_options_t o = Options(dir.path());
  o.keep_last = 2;
  o.on_commit = OnCommit;
  o.on_commit_user_data = &commits;
  {
    Model m(dir.path(), o);
    for (int step : {10, 20, 30}) {
      m.Fill(step);
      ASSERT_EQ(drocc_ckpt_save(m.c, step), DROCC_CKPT_OK) << LastError();
    }
    ASSERT_EQ(drocc_ckpt_wait(m.c), DROCC_CKPT_OK);
    drocc_ckpt_stats_t s;
    std::memset(&s, 0xab, sizeof s);
    ASSERT_EQ(drocc_ckpt_get_stats(m.c, &s, sizeof s), DROCC_CKPT_OK);
    EXPECT_EQ(s.struct_size, sizeof s);
    EXPECT_EQ(s.saves_started, 3);
    EXPECT_EQ(s.saves_committed, 3);
    EXPECT_EQ(s.saves_failed, 0);
    EXPECT_EQ(s.saves_skipped, 0);
    EXPECT_EQ(s.last_committed_step, 30);
    EXPECT_EQ(s.last_save_skipped, 0);
  }
  EXPECT_EQ(commits.steps, (std::vector<int64_t>{10, 20, 30}));
  EXPECT_EQ(commits.paths.back(), dir.path() + "/ckpt-000000000030");
  EXPECT_EQ(commits.ranks, 1);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/ckpt-000000000010"));  // keep_last = 2

  Model want(dir.path());
  want.Fill(30);
  Model m(dir.path());
  int restored = 0;
  int64_t step = -1;
  ASSERT_EQ(drocc_ckpt_restore(m.c, &restored, &step), DROCC_CKPT_OK) << LastError();
  EXPECT_EQ(restored, 1);
  EXPECT_EQ(step, 30);
  EXPECT_EQ(m.lr, want.lr);
  EXPECT_EQ(m.x, want.x);
  EXPECT_EQ(m.blob.bytes, want.blob.bytes);
}

TEST(CheckpointCTest, EmptyCallbackStateLoadsAsNothing) {
  TestDir dir;
  {
    Model m(dir.path());
    m.Fill(1);
    m.blob.bytes.clear();
    ASSERT_EQ(drocc_ckpt_save(m.c, 1), DROCC_CKPT_OK) << LastError();
  }
  Model m(dir.path());
  m.blob.bytes = "not restored yet";
  int restored = 0;
  int64_t step = -1;
  ASSERT_EQ(drocc_ckpt_restore(m.c, &restored, &step), DROCC_CKPT_OK) << LastError();
  EXPECT_EQ(restored, 1);
  EXPECT_EQ(m.blob.loads, 1);
  EXPECT_THAT(m.blob.bytes, IsEmpty());
}

TEST(CheckpointCTest, AFailingSaveCallbackFailsTheSaveWithItsCodeAndMessage) {
  TestDir dir;
  Model m(dir.path());
  m.Fill(1);
  m.blob.save_rc = DROCC_CKPT_UNAVAILABLE;
  m.blob.message = "the RNG service is down";
  EXPECT_EQ(drocc_ckpt_save(m.c, 1), DROCC_CKPT_UNAVAILABLE);
  EXPECT_THAT(LastError(), HasSubstr("save callback \"blob\" failed: the RNG service is down"));
  // Without a message, and with a number that is no status code.
  m.blob.save_rc = 99;
  m.blob.message = nullptr;
  EXPECT_EQ(drocc_ckpt_save(m.c, 2), DROCC_CKPT_UNKNOWN);
  EXPECT_THAT(LastError(), HasSubstr("the callback returned 99 (UNKNOWN) without a message"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/ckpt-000000000001/MANIFEST.json"));
  // The message of one failure does not stick to the next.
  m.blob.save_rc = DROCC_CKPT_ABORTED;
  EXPECT_EQ(drocc_ckpt_save(m.c, 3), DROCC_CKPT_ABORTED);
  EXPECT_THAT(LastError(), HasSubstr("the callback returned 10 (ABORTED) without a message"));
  // Outside a callback, setting a callback error changes nothing.
  drocc_ckpt_set_callback_error("stray");
  drocc_ckpt_set_callback_error(nullptr);
  m.blob.save_rc = DROCC_CKPT_OK;
  EXPECT_EQ(drocc_ckpt_save(m.c, 4), DROCC_CKPT_OK) << LastError();
  EXPECT_THAT(LastError(), IsEmpty());
}

TEST(CheckpointCTest, AFailingLoadCallbackPassesOverThatCheckpoint) {
  TestDir dir;
  {
    Model m(dir.path());
    m.Fill(1);
    ASSERT_EQ(drocc_ckpt_save(m.c, 1), DROCC_CKPT_OK);
    m.Fill(2);
    m.blob.bytes = "corrupt";
    ASSERT_EQ(drocc_ckpt_save(m.c, 2), DROCC_CKPT_OK);
  }
  // A load callback that refuses what step 2 saved: restore falls back to step 1.
  auto refuse_corrupt = [](void* user, const void* data, uint64_t bytes) -> int {
    if (std::string(static_cast<const char*>(data), bytes) == "corrupt") {
      drocc_ckpt_set_callback_error("blob: the saved state is corrupt");
      return DROCC_CKPT_DATA_LOSS;
    }
    return LoadBlob(user, data, bytes);
  };
  TestDir other;
  drocc_ckpt_options_t o = Options(dir.path());
  drocc_ckpt_t* c = nullptr;
  ASSERT_EQ(drocc_ckpt_create_serial(&o, &c), DROCC_CKPT_OK);
  Model want(other.path());
  want.Fill(1);
  Model m(other.path());  // only its memory is used
  ASSERT_EQ(drocc_ckpt_register_replicated(c, "lr", &m.lr, sizeof m.lr), DROCC_CKPT_OK);
  ASSERT_EQ(drocc_ckpt_register_distributed(c, "x", m.x.data(), sizeof(int32_t), m.x.size(), 0,
                                            m.x.size()),
            DROCC_CKPT_OK);
  ASSERT_EQ(drocc_ckpt_register_callback(c, "blob", SaveBlob, refuse_corrupt, &m.blob),
            DROCC_CKPT_OK);
  int restored = 0;
  int64_t step = -1, count = 0;
  ASSERT_EQ(drocc_ckpt_restore(c, &restored, &step), DROCC_CKPT_OK) << LastError();
  EXPECT_EQ(restored, 1);
  EXPECT_EQ(step, 1);
  EXPECT_EQ(m.blob.bytes, want.blob.bytes);
  EXPECT_EQ(m.x, want.x);
  ASSERT_EQ(drocc_ckpt_skipped_count(c, &count), DROCC_CKPT_OK);
  ASSERT_EQ(count, 1);
  const char* line = nullptr;
  ASSERT_EQ(drocc_ckpt_skipped_line(c, 0, &line), DROCC_CKPT_OK);
  EXPECT_THAT(
      line, AllOf(StartsWith("ckpt-000000000002"), HasSubstr("blob: the saved state is corrupt")));
  EXPECT_EQ(drocc_ckpt_destroy(&c), DROCC_CKPT_OK);
}

TEST(CheckpointCTest, ACallbackThatThrowsFailsWithoutUnwindingThroughC) {
  TestDir dir;
  drocc_ckpt_options_t o = Options(dir.path());
  drocc_ckpt_t* c = nullptr;
  ASSERT_EQ(drocc_ckpt_create_serial(&o, &c), DROCC_CKPT_OK);
  auto throws = [](void*, drocc_ckpt_sink_t*) -> int { throw std::runtime_error("oops"); };
  ASSERT_EQ(drocc_ckpt_register_callback(c, "t", throws, LoadBlob, nullptr), DROCC_CKPT_OK);
  EXPECT_EQ(drocc_ckpt_save(c, 1), DROCC_CKPT_INTERNAL);
  EXPECT_THAT(LastError(), HasSubstr("the callback threw a C++ exception (oops)"));
  EXPECT_EQ(drocc_ckpt_destroy(&c), DROCC_CKPT_OK);
}

TEST(CheckpointCTest, RestoringDifferentStateIsAnError) {
  TestDir dir;
  {
    Model m(dir.path());
    m.Fill(1);
    ASSERT_EQ(drocc_ckpt_save(m.c, 1), DROCC_CKPT_OK);
  }
  drocc_ckpt_options_t o = Options(dir.path());
  drocc_ckpt_t* c = nullptr;
  ASSERT_EQ(drocc_ckpt_create_serial(&o, &c), DROCC_CKPT_OK);
  double lr = 0;
  ASSERT_EQ(drocc_ckpt_register_replicated(c, "lr", &lr, sizeof lr), DROCC_CKPT_OK);
  int restored = 7;
  int64_t step = 7;
  EXPECT_EQ(drocc_ckpt_restore(c, &restored, &step), DROCC_CKPT_FAILED_PRECONDITION);
  EXPECT_EQ(restored, 0);
  EXPECT_EQ(step, -1);
  EXPECT_THAT(LastError(), HasSubstr("holds items [lr, x, blob] but [lr] are registered"));
  EXPECT_EQ(drocc_ckpt_destroy(&c), DROCC_CKPT_OK);
}

TEST(CheckpointCTest, AStopSignalEndsTheRunWithAFinalCheckpoint) {
  // The C options reach job control: stop_signals picks SIGUSR2, and should_stop saves.
  ASSERT_EQ(::getenv("DROCC_CHECKPOINT_SIGNAL"), nullptr) << "would override stop_signals";
  TestDir dir;
  drocc_ckpt_options_t o = Options(dir.path());
  o.handle_signals = 1;
  o.requeue_on_stop = 0;
  o.stop_signals = "usr2";
  Model m(dir.path(), o);
  m.Fill(4);
  int stop = -1;
  ASSERT_EQ(drocc_ckpt_should_stop(m.c, 4, &stop), DROCC_CKPT_OK) << LastError();
  EXPECT_EQ(stop, 0);
  ASSERT_EQ(::raise(SIGUSR2), 0);
  m.Fill(5);
  ASSERT_EQ(drocc_ckpt_should_stop(m.c, 5, &stop), DROCC_CKPT_OK) << LastError();
  EXPECT_EQ(stop, 1);
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/ckpt-000000000005/MANIFEST.json"));
  drocc_ckpt_stats_t s;
  ASSERT_EQ(drocc_ckpt_get_stats(m.c, &s, sizeof s), DROCC_CKPT_OK);
  EXPECT_EQ(s.last_committed_step, 5);
}

}  // namespace
}  // namespace drocc::runtime::testing
