#include "runtime/src/checkpoint/protocol.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace drocc::runtime::checkpoint {
namespace {

constexpr std::string_view kDirPrefix = "ckpt-";

}  // namespace

std::string ShardName(int rank) { return absl::StrFormat("shard-%06d.bin", rank); }

std::optional<int64_t> ParseDirName(std::string_view name) {
  if (!name.starts_with(kDirPrefix)) return std::nullopt;
  std::string_view digits = name.substr(kDirPrefix.size());
  if (digits.size() < 12 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  int64_t step = 0;
  if (!absl::SimpleAtoi(std::string(digits), &step)) return std::nullopt;
  return step;
}

void Log(std::string_view message) {
  std::fprintf(stderr, "drocc-runtime: %.*s\n", static_cast<int>(message.size()), message.data());
}

absl::Status Agree(Communicator& comm, const absl::Status& mine) {
  const int64_t first = comm.AllReduceMin(mine.ok() ? comm.Size() : comm.Rank());
  if (first == comm.Size()) return absl::OkStatus();
  std::string wire;
  if (comm.Rank() == first) {
    wire = absl::StrCat(static_cast<int>(mine.code()), "\n", mine.message());
  }
  comm.Broadcast(wire, static_cast<int>(first));
  const size_t nl = wire.find('\n');
  int code = static_cast<int>(absl::StatusCode::kUnknown);
  if (!absl::SimpleAtoi(wire.substr(0, nl), &code))
    code = static_cast<int>(absl::StatusCode::kUnknown);
  std::string message = nl == std::string::npos ? "" : wire.substr(nl + 1);
  if (comm.Size() > 1) message = absl::StrCat("rank ", first, ": ", message);
  return absl::Status(static_cast<absl::StatusCode>(code), message);
}

absl::Status CheckTiling(const std::string& name, uint64_t global_count,
                         std::vector<std::pair<uint64_t, uint64_t>> slices, absl::StatusCode code) {
  std::sort(slices.begin(), slices.end());
  uint64_t next = 0;
  for (const auto& [offset, count] : slices) {
    if (count == 0) continue;
    if (offset != next) {
      return absl::Status(
          code, absl::StrFormat("distributed array \"%s\": the ranks' slices %s element %d; "
                                "give each rank an offset and count so that together they "
                                "cover [0, %d) exactly once",
                                name, offset > next ? "leave out" : "overlap at",
                                offset > next ? next : offset, global_count));
    }
    next = offset + count;
  }
  if (next != global_count) {
    return absl::Status(code, absl::StrFormat("distributed array \"%s\": the ranks' slices "
                                              "cover [0, %d) but the array has %d elements",
                                              name, next, global_count));
  }
  return absl::OkStatus();
}

}  // namespace drocc::runtime::checkpoint
