#pragma once

// How drocc prints: aligned tables for people, JSON for scripts (-o json).

#include <string>
#include <vector>

#include "drocc/v1/job.pb.h"
#include "nlohmann/json.hpp"

namespace drocc::cli {

enum class Format { kTable, kJson };

// Left-aligned columns, two spaces apart, a header row.
class Table {
 public:
  explicit Table(std::vector<std::string> header);
  void Add(std::vector<std::string> row);
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::string StateName(v1::JobState state);  // "RUNNING"
nlohmann::json JobToJson(const v1::Job& job);
std::string JobDetail(const v1::Job& job);  // `drocc show` for people
void PrintJobs(const std::vector<v1::Job>& jobs, Format format);

}  // namespace drocc::cli
