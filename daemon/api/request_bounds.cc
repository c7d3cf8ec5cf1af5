#include "daemon/api/request_bounds.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace drocc::api {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr size_t kMaxArgBytes = 128 << 10;        // Linux's MAX_ARG_STRLEN
constexpr size_t kMaxEnvironmentBytes = 1 << 20;  // ApiLimits' total; ValidateSubmit sums
constexpr size_t kMaxEnvironmentItems = 10'000;

constexpr FieldBound kBounds[] = {
    {"drocc.v1.SubmitJobRequest.idempotency_key", 128, kMaxListItems},
    {"drocc.v1.JobSpec.script", kMaxScriptBytes, kMaxListItems},
    {"drocc.v1.JobSpec.script_path", kMaxPathBytes, kMaxListItems},
    {"drocc.v1.JobSpec.args", kMaxArgBytes, 4096},
    {"drocc.v1.JobSpec.workdir", kMaxPathBytes, kMaxListItems},
    {"drocc.v1.JobSpec.environment", kMaxEnvironmentBytes, kMaxEnvironmentItems},
    {"drocc.v1.JobSpec.export_mode", kMaxArgBytes, kMaxListItems},
    {"drocc.v1.JobSpec.output", kMaxPathBytes, kMaxListItems},
    {"drocc.v1.JobSpec.error", kMaxPathBytes, kMaxListItems},
    {"drocc.v1.JobSpec.labels", kMaxNameBytes, 64},
    {"drocc.v1.JobSpec.LabelsEntry.value", kMaxTextBytes, kMaxListItems},
    {"drocc.v1.CheckpointRecord.path", kMaxPathBytes, kMaxListItems},
    {"drocc.v1.ReportProgressRequest.message", 512, kMaxListItems},
    {"drocc.v1.RequestRequeueRequest.reason", kMaxTextBytes, kMaxListItems},
    {"drocc.v1.DrainAdmissionRequest.reason", kMaxTextBytes, kMaxListItems},
    {"drocc.v1.Account.description", kMaxTextBytes, kMaxListItems},
    {"drocc.v1.Project.description", kMaxTextBytes, kMaxListItems},
    {"drocc.v1.Grant.reference", kMaxTextBytes, kMaxListItems},
    {"drocc.v1.ServiceToken.description", kMaxTextBytes, kMaxListItems},
    {"drocc.v1.BackupRequest.path", kMaxPathBytes, kMaxListItems},
};

absl::Status TooLong(const std::string& name, const std::string& value, const FieldBound& bound) {
  return absl::InvalidArgumentError(absl::StrCat(
      name, " is ", value.size(), " bytes; the limit is ", bound.max_bytes, ": shorten it"));
}

// Walks one message; `path` is the field path so far ("spec", "update_mask").
class Walker {
 public:
  absl::Status Message(const google::protobuf::Message& m, const std::string& path) {
    const Reflection& r = *m.GetReflection();
    std::vector<const FieldDescriptor*> fields;
    r.ListFields(m, &fields);  // set fields only: cheap for the usual sparse request
    for (const FieldDescriptor* f : fields) {
      const std::string name = path.empty() ? f->name() : absl::StrCat(path, ".", f->name());
      const FieldBound bound = BoundOf(*f);
      if (f->is_repeated()) {
        const size_t n = static_cast<size_t>(r.FieldSize(m, f));
        if (n > bound.max_items) {
          return absl::InvalidArgumentError(absl::StrCat(
              name, " has ", n, " entries; the limit is ", bound.max_items, ": send fewer"));
        }
        for (size_t i = 0; i < n; ++i) {
          const int index = static_cast<int>(i);
          if (IsString(*f)) {
            std::string scratch;
            const std::string& v = r.GetRepeatedStringReference(m, f, index, &scratch);
            if (v.size() > bound.max_bytes)
              return TooLong(absl::StrCat(name, "[", i, "]"), v, bound);
          } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
            // Map entries are named by the map ("labels.key"), other messages by index.
            const std::string item = f->is_map() ? name : absl::StrCat(name, "[", i, "]");
            absl::Status s = Message(r.GetRepeatedMessage(m, f, index), item);
            if (!s.ok()) return s;
          }
        }
      } else if (IsString(*f)) {
        std::string scratch;
        const std::string& v = r.GetStringReference(m, f, &scratch);
        if (v.size() > bound.max_bytes) return TooLong(name, v, bound);
      } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        absl::Status s = Message(r.GetMessage(m, f), name);
        if (!s.ok()) return s;
      }
    }
    return absl::OkStatus();
  }

 private:
  static bool IsString(const FieldDescriptor& f) {
    return f.cpp_type() == FieldDescriptor::CPPTYPE_STRING;  // string and bytes
  }
};

}  // namespace

std::span<const FieldBound> FieldBounds() { return kBounds; }

FieldBound BoundOf(const google::protobuf::FieldDescriptor& field) {
  for (const FieldBound& b : kBounds) {
    if (b.field == field.full_name()) return b;
  }
  return {field.full_name(), kMaxNameBytes, kMaxListItems};
}

absl::Status CheckRequestBounds(const google::protobuf::Message& request) {
  return Walker().Message(request, "");
}

bool IsOneLine(absl::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace drocc::api
