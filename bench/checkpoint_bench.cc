// checkpoint_bench: a drocc checkpoint beside the alternatives, in one run, in the same directory
// (SPEC §9, issue 5 acceptance 5). Every rank holds its slice of a distributed array of doubles
// (--mib-per-rank) and a small replicated item (--replicated-kib). After one warm-up round that
// is not counted, each round measures, in an order that rotates from round to round so that
// drift in the disk's speed falls on every method alike:
//   - memcpy of the rank's state into a preallocated, touched buffer, malloc'd and (like the
//     Checkpointer's host buffer) huge-page backed: the floor of any stall; right after, the
//     stall of a drocc asynchronous Save (until it returns) and its end to end time (Save +
//     Wait, durable);
//   - drocc synchronous Save, until the checkpoint is committed and durable;
//   - dd if=/dev/zero bs=4M conv=fsync of the same bytes: one stream from rank 0 (the storage's
//     sequential write bandwidth) and, with more than one rank, one dd per rank at once;
//   - parallel HDF5: a 1-D dataset, a hyperslab per rank, collective transfer, H5Fflush (which
//     calls MPI_File_sync) and close;
//   - MPI-IO: MPI_File_write_at_all, MPI_File_sync, close.
// Every write is fsync'ed. A time is the slowest rank's, from a barrier. Between measurements,
// outside the timing, the files are deleted, sync(2) runs and every rank updates its whole
// state (a training step). Prints the median of the rounds.
//
//   mpirun -n 2 checkpoint_bench [--mib-per-rank 256] [--rounds 5] [--dir DIR] [--json]

#include <fcntl.h>
#include <mpi.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "drocc/runtime/checkpoint.h"
#include "drocc/runtime/communicator.h"
#include "runtime/src/checkpoint/host_buffer.h"

#ifdef DROCC_HAVE_HDF5
#include <hdf5.h>
#endif

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using drocc::runtime::Checkpointer;
using drocc::runtime::CheckpointOptions;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr double kStallTarget = 1.2;  // async stall / memcpy, at most
constexpr double kWriteTarget = 0.9;  // drocc write bandwidth / dd, at least
#ifdef DROCC_HAVE_HDF5
constexpr bool kHaveHdf5 = true;
#else
constexpr bool kHaveHdf5 = false;
#endif

struct Options {
  uint64_t mib_per_rank = 256;
  uint64_t replicated_kib = 4;
  int rounds = 5;
  std::string dir;  // where the run's own directory is made; default $TMPDIR or /tmp
  std::string dd = "dd";
  bool json = false;
};

int Rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int Size() {
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

// The run's directory once made, so that a failure does not leave gigabytes behind.
std::string* run_root = nullptr;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "checkpoint_bench: rank %d: %s\n", Rank(), what.c_str());
  if (run_root != nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(*run_root, ec);
  }
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::exit(1);  // not reached
}

void Check(const absl::Status& s, const std::string& what) {
  if (!s.ok()) Fail(absl::StrCat(what, ": ", s.message()));
}

double MaxOverRanks(double v) {
  MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return v;
}

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The slowest rank's time for `f`, all ranks starting together.
double Timed(const std::function<void()>& f) {
  MPI_Barrier(MPI_COMM_WORLD);
  const auto t0 = Clock::now();
  f();
  return MaxOverRanks(Since(t0));
}

// What every rank checkpoints.
struct State {
  std::vector<double> slice;     // elements [offset, offset + slice.size()) of the array
  std::vector<char> replicated;  // identical on every rank
  uint64_t offset = 0;
  uint64_t global_count = 0;
  uint64_t slice_bytes() const { return slice.size() * sizeof(double); }
  // What one checkpoint holds: every slice, and the replicated item once.
  uint64_t total_bytes() const { return global_count * sizeof(double) + replicated.size(); }
};

State MakeState(const Options& o) {
  State s;
  const uint64_t count = o.mib_per_rank * kMiB / sizeof(double);
  s.offset = count * static_cast<uint64_t>(Rank());
  s.global_count = count * static_cast<uint64_t>(Size());
  s.slice.resize(count);  // value-initialised: every page is touched here
  for (uint64_t i = 0; i < count; ++i) s.slice[i] = static_cast<double>(s.offset + i) * 0.5;
  s.replicated.resize(o.replicated_kib * 1024);
  for (size_t i = 0; i < s.replicated.size(); ++i) s.replicated[i] = static_cast<char>(i * 7);
  return s;
}

// A training step between two checkpoints: every element changes. A real program saves state
// it has just computed on; without this the state would sit untouched between measurements,
// and in a VM memory that sat idle can be much slower to read again (see docs/benchmarks.md).
void TrainingStep(State& s) {
  for (double& x : s.slice) x += 1.0;
}

// The run's own directory (rank 0 makes it, every rank must see it) and what lives in it.
struct Workdir {
  std::string root;
  std::string sync_dir;   // the synchronous Checkpointer's directory
  std::string async_dir;  // the asynchronous one's
  std::string File(const std::string& name) const { return root + "/" + name; }
};

Workdir MakeWorkdir(const Options& o) {
  std::string root;
  if (Rank() == 0) {
    std::string base = o.dir;
    if (base.empty()) base = getenv("TMPDIR") != nullptr ? getenv("TMPDIR") : "/tmp";
    std::string tmpl = base + "/drocc-ckpt-bench.XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      Fail(absl::StrCat("cannot create a directory under ", base, ": ", std::strerror(errno),
                        "; pass --dir with a writable directory"));
    }
    root = tmpl;
  }
  uint64_t n = root.size();
  MPI_Bcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  root.resize(n);
  MPI_Bcast(root.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    Fail(absl::StrCat(root,
                      " is not visible on this rank; pass --dir on a filesystem that every "
                      "rank sees"));
  }
  return {.root = root, .sync_dir = root + "/drocc-sync", .async_dir = root + "/drocc-async"};
}

// Deletes everything the last measurement wrote (the checkpoint directories stay, empty) and
// lets the kernel write back and forget it, so the next measurement starts from the same state.
void Settle(const Workdir& w) {
  if (Rank() == 0) {
    std::error_code ec;
    for (const fs::directory_entry& e : fs::directory_iterator(w.root, ec)) {
      const std::string p = e.path().string();
      if (p == w.sync_dir || p == w.async_dir) {
        for (const fs::directory_entry& c : fs::directory_iterator(p, ec)) fs::remove_all(c, ec);
      } else {
        fs::remove_all(e, ec);
      }
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  ::sync();
  MPI_Barrier(MPI_COMM_WORLD);
}

std::string FilesystemOf(const std::string& path) {
  struct statfs st;
  if (::statfs(path.c_str(), &st) != 0) return "unknown";
  switch (static_cast<unsigned long>(st.f_type)) {
    case 0xEF53:
      return "ext2/3/4";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x01021994:
      return "tmpfs (fsync does not reach a disk)";
    case 0x794C7630:
      return "overlayfs";
    case 0x6969:
      return "nfs";
    case 0x0BD00BD0:
      return "lustre";
    case 0x47504653:
      return "gpfs";
    default:
      return absl::StrFormat("f_type 0x%x", static_cast<unsigned long>(st.f_type));
  }
}

// ---- the methods ------------------------------------------------------------------------

// dd's block size for `bytes` (a whole number of MiB): 4 MiB when it divides them.
uint64_t DdBlock(uint64_t bytes) { return bytes % (4 * kMiB) == 0 ? 4 * kMiB : kMiB; }

// dd if=/dev/zero of=PATH bs=4M count=N conv=fsync, without a shell; seconds from spawn to exit.
double RunDd(const Options& o, const std::string& path, uint64_t bytes) {
  const uint64_t bs = DdBlock(bytes);
  std::vector<std::string> args = {o.dd,
                                   "if=/dev/zero",
                                   "of=" + path,
                                   absl::StrCat("bs=", bs / kMiB, "M"),
                                   absl::StrCat("count=", bytes / bs),
                                   "conv=fsync"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) Fail(absl::StrCat("pipe: ", std::strerror(errno)));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, out[1], 2);
  pid_t pid = 0;
  const auto t0 = Clock::now();
  const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    Fail(absl::StrCat("cannot run ", o.dd, ": ", std::strerror(rc),
                      "; install coreutils or pass --dd"));
  }
  std::string said;  // dd's statistics; a few hundred bytes, read while it runs
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    said.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const double seconds = Since(t0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    Fail(absl::StrCat(absl::StrJoin(args, " "), " failed: ", said));
  }
  return seconds;
}

// One dd of every byte of the checkpoint, from rank 0: the storage's sequential bandwidth.
double TimeDdSingle(const Options& o, const Workdir& w, uint64_t bytes) {
  return Timed([&] {
    if (Rank() == 0) RunDd(o, w.File("dd.bin"), bytes);
  });
}

// One dd per rank at once, each of its rank's share: the same parallelism as the shards.
double TimeDdParallel(const Options& o, const Workdir& w, uint64_t bytes_per_rank) {
  return Timed([&] { RunDd(o, w.File(absl::StrCat("dd-", Rank(), ".bin")), bytes_per_rank); });
}

void CheckMpi(int rc, const std::string& what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  Fail(absl::StrCat(what, ": ", std::string(msg, static_cast<size_t>(len))));
}

// The replicated item at offset 0 (from rank 0), then every slice after it; sync; close.
double TimeMpiIo(const Workdir& w, State& s) {
  if (s.slice.size() > static_cast<uint64_t>(INT_MAX)) {
    Fail("the slice has more than INT_MAX doubles; lower --mib-per-rank");
  }
  const std::string path = w.File("mpiio.bin");
  return Timed([&] {
    MPI_File fh;
    CheckMpi(MPI_File_open(MPI_COMM_WORLD, path.c_str(), MPI_MODE_CREATE | MPI_MODE_WRONLY,
                           MPI_INFO_NULL, &fh),
             "MPI_File_open " + path);
    const int rep = Rank() == 0 ? static_cast<int>(s.replicated.size()) : 0;
    CheckMpi(MPI_File_write_at_all(fh, 0, s.replicated.data(), rep, MPI_BYTE, MPI_STATUS_IGNORE),
             "MPI_File_write_at_all (replicated)");
    const MPI_Offset at = static_cast<MPI_Offset>(s.replicated.size() + s.offset * sizeof(double));
    CheckMpi(MPI_File_write_at_all(fh, at, s.slice.data(), static_cast<int>(s.slice.size()),
                                   MPI_DOUBLE, MPI_STATUS_IGNORE),
             "MPI_File_write_at_all (slices)");
    CheckMpi(MPI_File_sync(fh), "MPI_File_sync");
    CheckMpi(MPI_File_close(&fh), "MPI_File_close");
  });
}

#ifdef DROCC_HAVE_HDF5
template <typename T>
T H5(T id, const char* what) {
  if (id < 0) Fail(absl::StrCat(what, " failed (HDF5's error stack is above)"));
  return id;
}

// Writes `count` elements at `offset` of a new 1-D dataset of `global` elements, collectively.
// A rank with nothing to write selects nothing but still takes part.
void H5WriteSlice(hid_t file, hid_t dxpl, const char* name, hid_t type, hsize_t global,
                  hsize_t offset, hsize_t count, const void* data) {
  hid_t dcpl = H5(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate");
  // A checkpoint overwrites every element: no fill pass (what a tuned writer would set).
  H5(H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER), "H5Pset_fill_time");
  hid_t fspace = H5(H5Screate_simple(1, &global, nullptr), "H5Screate_simple");
  hid_t dset =
      H5(H5Dcreate2(file, name, type, fspace, H5P_DEFAULT, dcpl, H5P_DEFAULT), "H5Dcreate2");
  hid_t mspace = H5(H5Screate_simple(1, &count, nullptr), "H5Screate_simple");
  if (count > 0) {
    H5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &offset, nullptr, &count, nullptr),
       "H5Sselect_hyperslab");
  } else {
    H5(H5Sselect_none(fspace), "H5Sselect_none");
    H5(H5Sselect_none(mspace), "H5Sselect_none");
  }
  H5(H5Dwrite(dset, type, mspace, fspace, dxpl, data), "H5Dwrite");
  H5Sclose(mspace);
  H5Dclose(dset);
  H5Sclose(fspace);
  H5Pclose(dcpl);
}

// One file: "replicated" (bytes, from rank 0) and "x" (the array, a hyperslab per rank), both
// with H5FD_MPIO_COLLECTIVE; then H5Fflush, which makes the MPI-IO driver call MPI_File_sync
// (fsync underneath), and H5Fclose.
double TimeHdf5(const Workdir& w, State& s) {
  const std::string path = w.File("hdf5.h5");
  return Timed([&] {
    hid_t fapl = H5(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate");
    H5(H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL), "H5Pset_fapl_mpio");
    hid_t file = H5(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), "H5Fcreate");
    hid_t dxpl = H5(H5Pcreate(H5P_DATASET_XFER), "H5Pcreate");
    H5(H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE), "H5Pset_dxpl_mpio");
    H5WriteSlice(file, dxpl, "replicated", H5T_NATIVE_UCHAR, s.replicated.size(), 0,
                 Rank() == 0 ? s.replicated.size() : 0, s.replicated.data());
    H5WriteSlice(file, dxpl, "x", H5T_NATIVE_DOUBLE, s.global_count, s.offset, s.slice.size(),
                 s.slice.data());
    H5(H5Fflush(file, H5F_SCOPE_GLOBAL), "H5Fflush");
    H5(H5Fclose(file), "H5Fclose");
    H5Pclose(dxpl);
    H5Pclose(fapl);
  });
}
#endif

std::unique_ptr<Checkpointer> MakeCheckpointer(CheckpointOptions options,
                                               drocc::runtime::Communicator* comm, State& s,
                                               absl::Status* refused) {
  absl::StatusOr<std::unique_ptr<Checkpointer>> c = Checkpointer::Create(std::move(options), comm);
  if (!c.ok()) {
    *refused = c.status();
    return nullptr;
  }
  Check((*c)->RegisterReplicated("replicated", s.replicated.data(), s.replicated.size()),
        "RegisterReplicated");
  Check((*c)->RegisterDistributed("x", s.slice.data(), sizeof(double), s.global_count, s.offset,
                                  s.slice.size()),
        "RegisterDistributed");
  return std::move(*c);
}

// ---- results ----------------------------------------------------------------------------

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0 : n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Series {
  std::string name;
  uint64_t bytes = 0;           // written (or copied) per measurement, all ranks together
  std::vector<double> seconds;  // one per round
  double Median() const { return ::Median(seconds); }
  double Min() const { return *std::min_element(seconds.begin(), seconds.end()); }
  double Max() const { return *std::max_element(seconds.begin(), seconds.end()); }
  double MBps() const { return static_cast<double>(bytes) / Median() / 1e6; }
};

// The median over rounds of a's bandwidth / b's, each pair measured in the same round: drift
// in the machine's speed from one round to the next cancels out of it. For times (a stall
// against a memcpy), pass the series the other way round.
double PairedRatio(const Series& a, const Series& b) {
  std::vector<double> r;
  for (size_t i = 0; i < a.seconds.size() && i < b.seconds.size(); ++i) {
    r.push_back(static_cast<double>(a.bytes) / a.seconds[i] /
                (static_cast<double>(b.bytes) / b.seconds[i]));
  }
  return Median(std::move(r));
}

std::string Duration(double s) {
  return s < 1 ? absl::StrFormat("%.1f ms", s * 1e3) : absl::StrFormat("%.3f s", s);
}

struct Ratio {
  std::string name;  // "drocc_write/dd"
  double value;      // of the medians
  double paired;     // the median of the per-round ratios (PairedRatio)
  std::string note;  // the target, or what it compares
};

struct Report {
  int ranks = 0;
  Options options;
  uint64_t state_bytes = 0;
  uint64_t replicated_bytes = 0;
  std::string dir, filesystem, async_status;
  double seconds = 0;
  std::vector<double> load;  // 1-minute load average before and after
  std::vector<Series> rows;
  std::vector<Ratio> ratios;
};

void PrintJson(const Report& r) {
  nlohmann::json j = {{"ranks", r.ranks},
                      {"mib_per_rank", r.options.mib_per_rank},
                      {"replicated_bytes", r.replicated_bytes},
                      {"rounds", r.options.rounds},
                      {"dir", r.dir},
                      {"filesystem", r.filesystem},
                      {"async", r.async_status},
                      {"hdf5", kHaveHdf5 ? "built" : "not built"},
                      {"seconds", r.seconds},
                      {"loadavg_1min", r.load}};
  for (const Series& s : r.rows) {
    j["results"].push_back({{"name", s.name},
                            {"bytes", s.bytes},
                            {"seconds", s.seconds},
                            {"median_s", s.Median()},
                            {"mb_per_s", s.MBps()}});
  }
  for (const Ratio& x : r.ratios) {
    j["ratios"][x.name] = {{"value", x.value}, {"per_round_median", x.paired}, {"note", x.note}};
  }
  std::printf("%s\n", j.dump(2).c_str());
}

void PrintTable(const Report& r) {
  std::printf(
      "checkpoint_bench: %d rank(s) x %llu MiB + %llu B replicated = %.1f MiB per checkpoint; "
      "median of %d rounds (+1 warm-up); %.0f s in all\n",
      r.ranks, static_cast<unsigned long long>(r.options.mib_per_rank),
      static_cast<unsigned long long>(r.replicated_bytes),
      static_cast<double>(r.state_bytes) / kMiB, r.options.rounds, r.seconds);
  std::printf("dir: %s (%s); 1-minute load average %.1f before, %.1f after\n", r.dir.c_str(),
              r.filesystem.c_str(), r.load[0], r.load[1]);
  std::printf("\n%-38s %11s %23s %12s\n", "method", "median", "min - max", "MB/s");
  for (const Series& s : r.rows) {
    std::printf("%-38s %11s %23s %12.0f\n", s.name.c_str(), Duration(s.Median()).c_str(),
                absl::StrCat(Duration(s.Min()), " - ", Duration(s.Max())).c_str(), s.MBps());
  }
  std::printf("\n");
  if (r.async_status != "available") std::printf("async: %s\n", r.async_status.c_str());
  if (!kHaveHdf5) std::printf("hdf5: not built (parallel HDF5 was not found when configuring)\n");
  if (r.async_status != "available") {
    std::printf("ratio async_stall/memcpy = n/a (async not available)\n");
  }
  for (const Ratio& x : r.ratios) {
    std::printf("ratio %s = %.2f%s [per-round median %.2f]\n", x.name.c_str(), x.value,
                x.note.empty() ? "" : absl::StrCat(" (", x.note, ")").c_str(), x.paired);
  }
}

}  // namespace

int main(int argc, char** argv) {
  // An asynchronous Checkpointer's background thread makes MPI calls of its own. With less
  // than MPI_THREAD_MULTIPLE, Create refuses async and says why, and the rest still runs.
  int provided = MPI_THREAD_SINGLE;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  Options o;
  CLI::App app{
      "checkpoint_bench: drocc checkpoint stall and bandwidth beside memcpy, dd, "
      "parallel HDF5 and MPI-IO, in one run on the same directory"};
  app.add_option("--mib-per-rank", o.mib_per_rank, "MiB of the distributed array on each rank")
      ->check(CLI::Range(uint64_t{1}, uint64_t{16383}));
  app.add_option("--replicated-kib", o.replicated_kib, "KiB of the replicated item");
  app.add_option("--rounds", o.rounds, "measured rounds (plus one warm-up round)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--dir", o.dir,
                 "where to make the run's directory (default $TMPDIR or /tmp); use a shared "
                 "filesystem when ranks run on several nodes");
  app.add_option("--dd", o.dd, "the dd to run");
  app.add_flag("--json", o.json, "print the results as one JSON object instead of a table");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = Rank() == 0 ? app.exit(e) : e.get_exit_code();
    MPI_Finalize();
    return rc;
  }

  const int rank = Rank(), size = Size();
  State state = MakeState(o);
  Workdir w = MakeWorkdir(o);
  run_root = &w.root;
  drocc::runtime::MpiCommunicator comm(MPI_COMM_WORLD);
  absl::Status refused;
  std::unique_ptr<Checkpointer> sync_ckpt =
      MakeCheckpointer({.directory = w.sync_dir, .keep_last = 1}, &comm, state, &refused);
  Check(refused, "Checkpointer::Create (synchronous)");
  absl::Status async_refused;
  std::unique_ptr<Checkpointer> async_ckpt = MakeCheckpointer(
      {.directory = w.async_dir, .keep_last = 1, .async = true}, &comm, state, &async_refused);

  // The memcpy baselines' buffers, touched now so their page faults count against nobody
  // (the asynchronous Checkpointer's host buffer is allocated, and prefaulted, by the warm-up
  // round's Save): a malloc'd one, and one of the kind the Checkpointer copies into
  // (anonymous memory advised to huge pages), so the baseline has the same page size.
  std::vector<double> copy_slice(state.slice.size(), 1.0);
  std::vector<char> copy_replicated(state.replicated.size(), 1);
  drocc::runtime::checkpoint::HostBuffer copy_huge;
  Check(copy_huge.Reserve(state.slice_bytes() + state.replicated.size(), 0),
        "allocating the huge-page memcpy buffer");
  std::memset(copy_huge.data(), 1, copy_huge.capacity());

  Series memcpy_s{"memcpy into a malloc'd buffer", state.total_bytes(), {}};
  Series memcpy_huge{"memcpy into a huge-page buffer", state.total_bytes(), {}};
  Series stall{"drocc async Save: stall", state.total_bytes(), {}};
  Series async_e2e{"drocc async Save + Wait (durable)", state.total_bytes(), {}};
  Series drocc_sync{"drocc sync Save (durable)", state.total_bytes(), {}};
  const uint64_t dd_bytes = state.global_count * sizeof(double);
  Series dd{
      absl::StrFormat("dd bs=%dM conv=fsync, 1 stream", DdBlock(dd_bytes) / kMiB), dd_bytes, {}};
  Series dd_par{absl::StrFormat("dd conv=fsync, %d at once", size), dd_bytes, {}};
  Series mpiio{"MPI-IO write_at_all + sync", state.total_bytes(), {}};
  Series hdf5{"parallel HDF5 (collective), to close", state.total_bytes(), {}};

  int64_t step = 0;
  using Method = std::function<void(bool record)>;
  std::vector<Method> methods;
  methods.push_back([&](bool record) {
    const double t = Timed([&] {
      std::memcpy(copy_slice.data(), state.slice.data(), state.slice_bytes());
      std::memcpy(copy_replicated.data(), state.replicated.data(), state.replicated.size());
    });
    if (record) memcpy_s.seconds.push_back(t);
    const double th = Timed([&] {
      std::memcpy(copy_huge.data(), state.replicated.data(), state.replicated.size());
      std::memcpy(copy_huge.data() + state.replicated.size(), state.slice.data(),
                  state.slice_bytes());
    });
    if (record) memcpy_huge.seconds.push_back(th);
    if (async_ckpt == nullptr) return;
    MPI_Barrier(MPI_COMM_WORLD);
    const auto t0 = Clock::now();
    Check(async_ckpt->Save(step++), "asynchronous Save");
    const double st = MaxOverRanks(Since(t0));
    Check(async_ckpt->Wait(), "Wait after an asynchronous Save");
    const double e2e = MaxOverRanks(Since(t0));
    if (record) {
      stall.seconds.push_back(st);
      async_e2e.seconds.push_back(e2e);
    }
  });
  methods.push_back([&](bool record) {
    const double t = Timed([&] { Check(sync_ckpt->Save(step++), "synchronous Save"); });
    if (record) drocc_sync.seconds.push_back(t);
  });
  methods.push_back([&](bool record) {
    const double t = TimeDdSingle(o, w, dd_bytes);
    if (record) dd.seconds.push_back(t);
  });
  if (size > 1) {
    methods.push_back([&](bool record) {
      const double t = TimeDdParallel(o, w, state.slice_bytes());
      if (record) dd_par.seconds.push_back(t);
    });
  }
  methods.push_back([&](bool record) {
    const double t = TimeMpiIo(w, state);
    if (record) mpiio.seconds.push_back(t);
  });
#ifdef DROCC_HAVE_HDF5
  methods.push_back([&](bool record) {
    const double t = TimeHdf5(w, state);
    if (record) hdf5.seconds.push_back(t);
  });
#endif

  // Other work on the machine (CPU or disk) shows in the numbers; say how busy it was.
  double load_before[1] = {-1}, load_after[1] = {-1};
  getloadavg(load_before, 1);
  const auto run_started = Clock::now();
  for (int round = 0; round <= o.rounds; ++round) {  // round 0 is the warm-up
    for (size_t i = 0; i < methods.size(); ++i) {
      Settle(w);
      TrainingStep(state);
      methods[(i + static_cast<size_t>(round)) % methods.size()](round > 0);
    }
  }
  Settle(w);
  const double run_seconds = Since(run_started);
  getloadavg(load_after, 1);
  const std::string filesystem = FilesystemOf(w.root);
  const std::string async_status =
      async_ckpt != nullptr ? "available"
                            : absl::StrCat("not available (", async_refused.message(), ")");
  async_ckpt.reset();
  sync_ckpt.reset();
  if (rank == 0) {
    std::error_code ec;
    fs::remove_all(w.root, ec);
  }
  run_root = nullptr;

  if (rank == 0) {
    Report report{.ranks = size,
                  .options = o,
                  .state_bytes = state.total_bytes(),
                  .replicated_bytes = state.replicated.size(),
                  .dir = w.root,
                  .filesystem = filesystem,
                  .async_status = async_status,
                  .seconds = run_seconds,
                  .load = {load_before[0], load_after[0]}};
    for (const Series* r :
         {&memcpy_s, &memcpy_huge, &stall, &async_e2e, &drocc_sync, &dd, &dd_par, &mpiio, &hdf5}) {
      if (!r->seconds.empty()) report.rows.push_back(*r);
    }
    // The stricter baseline for the stall: whichever memcpy was faster.
    const Series& floor = memcpy_huge.Median() < memcpy_s.Median() ? memcpy_huge : memcpy_s;
    auto ratio = [&](std::string name, const Series& a, const Series& b, std::string note) {
      if (a.seconds.empty() || b.seconds.empty()) return;
      report.ratios.push_back(
          {std::move(name), a.MBps() / b.MBps(), PairedRatio(a, b), std::move(note)});
    };
    // A stall is a time: memcpy's "bandwidth" over the stall's is stall / memcpy.
    ratio(
        "async_stall/memcpy", floor, stall,
        absl::StrFormat("target <= %.1f; against the faster memcpy, %s", kStallTarget, floor.name));
    const std::string write_target = absl::StrFormat("target >= %.1f", kWriteTarget);
    ratio("drocc_write/dd", drocc_sync, dd, write_target);
    ratio("drocc_async_write/dd", async_e2e, dd, write_target);
    ratio("drocc_write/dd_parallel", drocc_sync, dd_par,
          absl::StrFormat("%d dd at once, one per rank", size));
    ratio("mpiio/drocc_write", mpiio, drocc_sync, "");
    ratio("hdf5/drocc_write", hdf5, drocc_sync, "");
    if (o.json) {
      PrintJson(report);
    } else {
      PrintTable(report);
    }
  }
  MPI_Finalize();
  return 0;
}
