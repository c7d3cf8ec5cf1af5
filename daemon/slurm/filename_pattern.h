#pragma once

// sbatch's output filename patterns (man sbatch, "filename pattern"), expanded the way
// slurmstepd expands them for a batch job in Slurm 22.05, so droccd can find the file a
// job writes its output to. Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

namespace drocc::slurm {

// What the replacement symbols stand for, for one batch job.
struct OutputPatternValues {
  uint64_t slurm_job_id = 0;  // %j %J %A
  std::string job_name;       // %x
  std::string user;           // %u
  std::string node;           // %N: the node running the batch script (its short hostname)
  std::string workdir;        // a relative result is resolved against it
};

// The pattern Slurm uses when the user gives no -o: "slurm-%j.out" in the work dir.
inline constexpr std::string_view kDefaultOutputPattern = "slurm-%j.out";

// Expands `pattern` as slurmstepd 22.05 does for the batch step of a job that is not part
// of an array (each symbol checked on a real cluster):
//   %%  a literal "%"     %j, %J, %A  the job id     %a  4294967294 (NO_VAL: no array task)
//   %s  "batch"           %n, %t  "0"                %N  node name     %u  user name
//   %x  job name
// A number between "%" and the letter zero-pads numeric values ("%4j" -> "0042", at most
// 10 wide; ignored for %N %s %u %x). An unknown "%<letter>" is kept as is ("%5z" keeps
// "5z", a trailing "%3" keeps "3"). A pattern containing a backslash is not expanded at
// all: single backslashes are dropped and "\\" stands for one backslash. A relative
// result is resolved against `workdir` -- except that, for an escaped pattern, Slurm
// 22.05 appends it to the work dir *without* a "/" ("esc\%j" in /w writes /wesc%j); we
// return that same path, since the point is to find the file Slurm wrote.
std::string ExpandOutputPattern(std::string_view pattern, const OutputPatternValues& v);

// The first host of a Slurm node list ("n[3-5,7],m1" -> "n3", "gpu[01-04]" -> "gpu01"):
// where the batch script of a job on those nodes runs, hence its %N. Empty for "".
std::string FirstNodeName(std::string_view nodelist);

}  // namespace drocc::slurm
