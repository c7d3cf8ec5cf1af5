// Every string and list of every request of the v1 API is bounded: walks each RPC's request
// type by reflection, fills each string and list just over its bound and checks the error
// names it; just at the bound passes.

#include "daemon/api/request_bounds.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "drocc/v1/admin.pb.h"
#include "drocc/v1/job.pb.h"
#include "drocc/v1/project.pb.h"
#include "drocc/v1/runtime.pb.h"

namespace drocc::api {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::MessageFactory;

constexpr const char* kServices[] = {"drocc.v1.JobService", "drocc.v1.ProjectService",
                                     "drocc.v1.AdminService", "drocc.v1.RuntimeService"};

// One string or list somewhere in a request: the fields leading to it, the last one the leaf.
using FieldPath = std::vector<const FieldDescriptor*>;

void CollectLeaves(const Descriptor* d, FieldPath& prefix, std::vector<FieldPath>& out) {
  if (prefix.size() > 4) return;  // no request nests deeper; guards recursive types
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    prefix.push_back(f);
    if (f->is_repeated() || f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      out.push_back(prefix);
    }
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      CollectLeaves(f->message_type(), prefix, out);
    }
    prefix.pop_back();
  }
}

// The message holding the leaf, created along the path; `name` gets the path as the error
// names it.
Message* Parent(Message& root, const FieldPath& path, std::string& name) {
  Message* m = &root;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    const FieldDescriptor* f = path[i];
    absl::StrAppend(&name, name.empty() ? "" : ".", f->name());
    if (f->is_repeated()) {
      m = m->GetReflection()->AddMessage(m, f);
      if (!f->is_map()) absl::StrAppend(&name, "[0]");
    } else {
      m = m->GetReflection()->MutableMessage(m, f);
    }
  }
  absl::StrAppend(&name, name.empty() ? "" : ".", path.back()->name());
  return m;
}

// A request with the leaf filled to `items` entries of `bytes` bytes (one value when the leaf
// is not repeated). Returns the name the error should use.
std::string Fill(Message& root, const FieldPath& path, size_t items, size_t bytes) {
  std::string name;
  Message* m = Parent(root, path, name);
  const FieldDescriptor* f = path.back();
  const auto* r = m->GetReflection();
  if (!f->is_repeated()) {
    r->SetString(m, f, std::string(bytes, 'x'));
    return name;
  }
  for (size_t i = 0; i < items; ++i) {
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string v = absl::StrCat(i, "-");
        v.resize(std::max(bytes, v.size()), 'x');
        r->AddString(m, f, v);
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        Message* item = r->AddMessage(m, f);
        if (f->is_map()) {  // distinct keys
          const FieldDescriptor* key = f->message_type()->map_key();
          if (key->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
            item->GetReflection()->SetString(item, key, absl::StrCat("k", i));
          }
        }
        break;
      }
      case FieldDescriptor::CPPTYPE_ENUM:
        r->AddEnumValue(m, f, 1);
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        r->AddUInt64(m, f, i);
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        r->AddInt64(m, f, static_cast<int64_t>(i));
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        r->AddUInt32(m, f, static_cast<uint32_t>(i));
        break;
      case FieldDescriptor::CPPTYPE_INT32:
        r->AddInt32(m, f, static_cast<int32_t>(i));
        break;
      default:
        ADD_FAILURE() << "no filler for repeated " << f->full_name();
        return name;
    }
  }
  return name;
}

std::vector<const Descriptor*> RequestTypes() {
  std::vector<const Descriptor*> out;
  for (const char* service : kServices) {
    const auto* s = DescriptorPool::generated_pool()->FindServiceByName(service);
    EXPECT_NE(s, nullptr) << service;
    if (s == nullptr) continue;
    for (int i = 0; i < s->method_count(); ++i) out.push_back(s->method(i)->input_type());
  }
  return out;
}

TEST(RequestBoundsTest, EveryListedFieldExists) {
  for (const FieldBound& b : FieldBounds()) {
    EXPECT_NE(DescriptorPool::generated_pool()->FindFieldByName(std::string(b.field)), nullptr)
        << b.field << " is not a field: fix the name in request_bounds.cc";
  }
}

TEST(RequestBoundsTest, EveryStringAndListOfEveryRequestIsBounded) {
  int checked = 0;
  for (const Descriptor* type : RequestTypes()) {
    std::vector<FieldPath> leaves;
    FieldPath prefix;
    CollectLeaves(type, prefix, leaves);
    for (const FieldPath& leaf : leaves) {
      const FieldDescriptor* f = leaf.back();
      const FieldBound bound = BoundOf(*f);
      const Message* prototype = MessageFactory::generated_factory()->GetPrototype(type);
      SCOPED_TRACE(absl::StrCat(type->full_name(), " ", f->full_name()));
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
        std::unique_ptr<Message> at(prototype->New());
        Fill(*at, leaf, 1, bound.max_bytes);
        EXPECT_TRUE(CheckRequestBounds(*at).ok()) << CheckRequestBounds(*at);
        std::unique_ptr<Message> over(prototype->New());
        std::string name = Fill(*over, leaf, 1, bound.max_bytes + 1);
        if (f->is_repeated()) name += "[0]";
        const absl::Status s = CheckRequestBounds(*over);
        EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
        EXPECT_EQ(s.message(),
                  absl::StrCat(name, " is ", bound.max_bytes + 1, " bytes; the limit is ",
                               bound.max_bytes, ": shorten it"));
        ++checked;
      }
      if (f->is_repeated()) {
        std::unique_ptr<Message> at(prototype->New());
        Fill(*at, leaf, bound.max_items, 1);
        EXPECT_TRUE(CheckRequestBounds(*at).ok()) << CheckRequestBounds(*at);
        std::unique_ptr<Message> over(prototype->New());
        const std::string name = Fill(*over, leaf, bound.max_items + 1, 1);
        const absl::Status s = CheckRequestBounds(*over);
        EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
        EXPECT_EQ(s.message(),
                  absl::StrCat(name, " has ", bound.max_items + 1, " entries; the limit is ",
                               bound.max_items, ": send fewer"));
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 50);  // the walk found the API's fields
}

TEST(RequestBoundsTest, BoundsOfTheJobSpec) {
  v1::SubmitJobRequest req;
  v1::JobSpec* spec = req.mutable_spec();
  spec->set_name(std::string(256, 'n'));
  spec->set_partition("gpu");
  spec->set_workdir("/home/alice/" + std::string(4000, 'd'));
  spec->set_script("#!/bin/bash\n" + std::string(1 << 20, '#'));
  for (int i = 0; i < 500; ++i) spec->add_environment(absl::StrCat("V", i, "=1"));
  (*spec->mutable_labels())["run"] = std::string(1024, 'v');
  EXPECT_TRUE(CheckRequestBounds(req).ok()) << CheckRequestBounds(req);

  spec->set_gres(std::string(300, 'g'));
  EXPECT_EQ(CheckRequestBounds(req).message(),
            "spec.gres is 300 bytes; the limit is 256: shorten it");
  spec->clear_gres();
  (*spec->mutable_labels())["run"] = std::string(1025, 'v');
  EXPECT_EQ(CheckRequestBounds(req).message(),
            "spec.labels.value is 1025 bytes; the limit is 1024: shorten it");
  spec->clear_labels();
  spec->add_args("ok");
  spec->add_args(std::string((128 << 10) + 1, 'a'));
  EXPECT_EQ(CheckRequestBounds(req).message(),
            "spec.args[1] is 131073 bytes; the limit is 131072: shorten it");
}

TEST(RequestBoundsTest, AdminRequestsNameTheirFields) {
  v1::UpdateProjectRequest req;
  req.mutable_project()->set_name("ml");
  req.mutable_project()->set_description(std::string(2000, 'd'));
  EXPECT_EQ(CheckRequestBounds(req).message(),
            "project.description is 2000 bytes; the limit is 1024: shorten it");
  req.mutable_project()->clear_description();
  for (int i = 0; i < 1001; ++i) req.mutable_update_mask()->add_paths("share");
  EXPECT_EQ(CheckRequestBounds(req).message(),
            "update_mask.paths has 1001 entries; the limit is 1000: send fewer");
}

}  // namespace
}  // namespace drocc::api
