// submit_bench: durable SubmitJob acknowledgements per second and their latency with 1 and
// 64 concurrent clients, beside sequential `sbatch --hold` of the same count, in one run; and
// the floor of any call from 64 clients here (grpc.health.v1 Check, nothing behind it).
// Run it as an ordinary user against a droccd whose admission is drained, so it measures
// the queue and not Slurm (bench/submit_bench.sh sets all that up).

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "client/lib/connection.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

struct Result {
  std::string what;
  size_t ok = 0;
  size_t errors = 0;
  double seconds = 0;
  std::vector<double> latency_ms;

  double rate() const { return seconds > 0 ? static_cast<double>(ok) / seconds : 0; }
  double Percentile(double p) {
    if (latency_ms.empty()) return 0;
    std::sort(latency_ms.begin(), latency_ms.end());
    size_t i = std::min(latency_ms.size() - 1,
                        static_cast<size_t>(p / 100.0 * static_cast<double>(latency_ms.size())));
    return latency_ms[i];
  }
};

drocc::v1::SubmitJobRequest MakeRequest(const std::string& cwd, size_t n, int client) {
  drocc::v1::SubmitJobRequest req;
  auto* s = req.mutable_spec();
  s->set_name("submit-bench");
  s->set_script("#!/bin/bash\ntrue\n");
  s->set_script_path(cwd + "/bench.sbatch");
  s->set_workdir(cwd);
  s->add_environment("PATH=/usr/bin:/bin");
  s->set_time_limit_s(60);
  s->set_output("/dev/null");
  req.set_idempotency_key(absl::StrFormat("bench-%d-%d-%zu", getpid(), client, n));
  return req;
}

// `health`: grpc.health.v1 Check instead of SubmitJob, answered by gRPC's own health service
// with no store or job manager behind it: the floor of any call to droccd from these clients.
Result RunDrocc(const drocc::client::ServerAddress& addr, size_t count, int clients,
                bool health = false) {
  Result r;
  r.what = absl::StrFormat("%s, %d client%s", health ? "gRPC health Check" : "drocc SubmitJob",
                           clients, clients == 1 ? "" : "s");
  std::string cwd = std::filesystem::current_path();
  std::vector<std::vector<double>> lat(clients);
  std::atomic<size_t> ok{0}, errors{0};
  std::vector<std::unique_ptr<drocc::client::Connection>> conns;
  for (int c = 0; c < clients; ++c) {
    conns.push_back(std::make_unique<drocc::client::Connection>(addr));
    // Connect before the clock starts.
    auto ctx =
        conns.back()->NewContext("/drocc.v1.AdminService/GetAdmissionState", absl::Seconds(10));
    drocc::v1::AdmissionState st;
    if (ctx.ok()) conns.back()->admin().GetAdmissionState(ctx->get(), {}, &st);
  }
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      for (size_t i = c; i < count; i += clients) {
        auto req = MakeRequest(cwd, i, clients * 1000 + c);
        auto t0 = Clock::now();
        auto ctx = conns[c]->NewContext(
            health ? "/grpc.health.v1.Health/Check" : "/drocc.v1.JobService/SubmitJob",
            absl::Seconds(30));
        grpc::Status s(grpc::StatusCode::INTERNAL, "no context");
        if (ctx.ok() && health) {
          grpc::health::v1::HealthCheckResponse resp;
          s = conns[c]->health().Check(ctx->get(), {}, &resp);
        } else if (ctx.ok()) {
          drocc::v1::SubmitJobResponse resp;
          s = conns[c]->jobs().SubmitJob(ctx->get(), req, &resp);
        }
        auto t1 = Clock::now();
        if (s.ok()) {
          ++ok;
          lat[c].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        } else if (errors++ == 0) {
          std::fprintf(stderr, "submit failed: %s\n", conns[c]->Describe(s).c_str());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.ok = ok;
  r.errors = errors;
  for (auto& l : lat) r.latency_ms.insert(r.latency_ms.end(), l.begin(), l.end());
  return r;
}

// Runs argv without a shell; true if it exited 0.
bool Spawn(const std::vector<std::string>& args, bool quiet) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (quiet) posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return false;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

Result RunSbatch(size_t count, const std::string& name) {
  Result r;
  r.what = "sbatch --hold, sequential";
  auto start = Clock::now();
  for (size_t i = 0; i < count; ++i) {
    auto t0 = Clock::now();
    bool ok = Spawn({"sbatch", "--hold", "--parsable", "-J", name, "-t", "1", "-o", "/dev/null",
                     "--wrap", "true"},
                    /*quiet=*/true);
    auto t1 = Clock::now();
    if (ok) {
      ++r.ok;
      r.latency_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    } else {
      ++r.errors;
    }
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"submit_bench: durable drocc submissions vs sequential sbatch --hold"};
  std::string server;
  size_t count = 2000;
  size_t sbatch_count = 0;
  app.add_option("--server", server, "droccd address (drained admission)")->required();
  app.add_option("-n,--count", count, "submissions per measurement (default 2000)");
  app.add_option("--sbatch-count", sbatch_count, "sbatch calls (default: the same count)");
  CLI11_PARSE(app, argc, argv);
  if (sbatch_count == 0) sbatch_count = count;
  auto addr = drocc::client::ResolveServerAddress(server, nullptr);
  if (!addr.ok()) {
    std::fprintf(stderr, "submit_bench: %s\n", std::string(addr.status().message()).c_str());
    return 2;
  }
  std::vector<Result> results;
  results.push_back(RunDrocc(*addr, count, 1));
  results.push_back(RunDrocc(*addr, count, 64));
  results.push_back(RunDrocc(*addr, count, 64, /*health=*/true));
  std::string name = absl::StrFormat("drocc-bench-%d", getpid());
  results.push_back(RunSbatch(sbatch_count, name));
  Spawn({"scancel", "--name", name}, false);  // the held jobs

  std::printf("\n%-30s %8s %7s %12s %10s %10s\n", "what", "ok", "errors", "per second", "p50 ms",
              "p99 ms");
  for (auto& r : results) {
    std::printf("%-30s %8zu %7zu %12.1f %10.2f %10.2f\n", r.what.c_str(), r.ok, r.errors, r.rate(),
                r.Percentile(50), r.Percentile(99));
  }
  double sbatch = results[3].rate();
  if (sbatch > 0) {
    std::printf("\nratio drocc (1 client) / sequential sbatch:   %.1fx\n",
                results[0].rate() / sbatch);
    std::printf("ratio drocc (64 clients) / sequential sbatch: %.1fx   (target >= 50x)\n",
                results[1].rate() / sbatch);
  }
  std::printf("p99 at 64 in flight: %.2f ms   (target < 5 ms)\n", results[1].Percentile(99));
  std::printf("p99 of the gRPC floor (health Check) at 64 in flight: %.2f ms\n",
              results[2].Percentile(99));
  bool errors =
      std::any_of(results.begin(), results.end(), [](const Result& r) { return r.errors > 0; });
  return errors ? 1 : 0;
}
