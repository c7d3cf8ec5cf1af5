#pragma once

// Bounds on every string and list a request may carry, checked by walking the message with
// protobuf reflection, so a field added to the API later is bounded too without anyone
// remembering to. Strings (and bytes) default to kMaxNameBytes and lists (repeated fields,
// maps) to kMaxListItems; the fields that need more or less are named in request_bounds.cc.
// Every handler calls CheckRequestBounds once the caller is authenticated (and, where it
// applies, authorized). Pure functions; thread-safe.

#include <cstddef>
#include <span>
#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace drocc::api {

inline constexpr size_t kMaxNameBytes = 256;        // any string not listed: names, ids, tokens
inline constexpr size_t kMaxTextBytes = 1024;       // free text: descriptions, reasons, references
inline constexpr size_t kMaxPathBytes = 4096;       // paths (Linux PATH_MAX)
inline constexpr size_t kMaxListItems = 1000;       // any list not listed
inline constexpr size_t kMaxScriptBytes = 4 << 20;  // the batch script (ApiLimits' default)

struct FieldBound {
  std::string_view field;  // full name, e.g. "drocc.v1.JobSpec.partition"
  size_t max_bytes;        // each string (each item of a repeated string)
  size_t max_items;        // repeated and map fields
};

// The fields whose bounds differ from the defaults.
std::span<const FieldBound> FieldBounds();
// `field`'s bound: its entry in FieldBounds() or the defaults.
FieldBound BoundOf(const google::protobuf::FieldDescriptor& field);

// OK, or INVALID_ARGUMENT naming the first field of `request` (nested messages included)
// over its bound, the bound, and what to do:
//   "spec.partition is 300 bytes; the limit is 256: shorten it"
//   "spec.labels has 65 entries; the limit is 64: send fewer"
absl::Status CheckRequestBounds(const google::protobuf::Message& request);

// True when `s` has no control characters (newline, tab, escape, DEL ...): one line of text.
bool IsOneLine(absl::string_view s);

}  // namespace drocc::api
