#include "daemon/api/convert.h"

#include <google/protobuf/util/time_util.h>

namespace drocc::api {

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return;
  *out = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

absl::Time FromProtoTime(const google::protobuf::Timestamp& t, absl::Time unset) {
  if (t.seconds() == 0 && t.nanos() == 0) return unset;
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

void AddAmounts(const queue::AmountMap& amounts,
                google::protobuf::RepeatedPtrField<v1::Amount>* out) {
  for (const auto& [resource, milli] : amounts) {
    v1::Amount* a = out->Add();
    a->set_resource(resource);
    a->set_milli(milli);
  }
}

queue::JobSpec FromProto(const v1::JobSpec& p) {
  queue::JobSpec s;
  s.name = p.name();
  s.project = p.project();
  s.partition = p.partition();
  s.script = p.script();
  s.script_path = p.script_path();
  s.args.assign(p.args().begin(), p.args().end());
  s.workdir = p.workdir();
  s.environment.assign(p.environment().begin(), p.environment().end());
  s.export_mode = p.export_mode();
  s.output = p.output();
  s.error = p.error();
  s.open_mode = p.open_mode();
  s.nodes = p.nodes();
  s.max_nodes = p.max_nodes();
  s.ntasks = p.ntasks();
  s.ntasks_per_node = p.ntasks_per_node();
  s.cpus_per_task = p.cpus_per_task();
  s.gpus_per_node = p.gpus_per_node();
  s.gres = p.gres();
  s.mem_mb = p.mem_mb();
  s.time_limit_s = p.time_limit_s();
  s.signal = {p.signal().signal(), p.signal().seconds_before(), p.signal().batch_only()};
  s.priority = p.priority();
  s.labels.insert(p.labels().begin(), p.labels().end());
  return s;
}

void ToProto(const queue::JobSpec& s, v1::JobSpec* p) {
  p->set_name(s.name);
  p->set_project(s.project);
  p->set_partition(s.partition);
  p->set_script(s.script);
  p->set_script_path(s.script_path);
  for (const auto& a : s.args) p->add_args(a);
  p->set_workdir(s.workdir);
  for (const auto& e : s.environment) p->add_environment(e);
  p->set_export_mode(s.export_mode);
  p->set_output(s.output);
  p->set_error(s.error);
  p->set_open_mode(s.open_mode);
  p->set_nodes(s.nodes);
  p->set_max_nodes(s.max_nodes);
  p->set_ntasks(s.ntasks);
  p->set_ntasks_per_node(s.ntasks_per_node);
  p->set_cpus_per_task(s.cpus_per_task);
  p->set_gpus_per_node(s.gpus_per_node);
  p->set_gres(s.gres);
  p->set_mem_mb(s.mem_mb);
  p->set_time_limit_s(s.time_limit_s);
  if (s.signal.signal != 0) {
    p->mutable_signal()->set_signal(s.signal.signal);
    p->mutable_signal()->set_seconds_before(s.signal.seconds_before);
    p->mutable_signal()->set_batch_only(s.signal.batch_only);
  }
  p->set_priority(s.priority);
  p->mutable_labels()->insert(s.labels.begin(), s.labels.end());
}

void ToProto(const queue::Job& j, bool full, v1::Job* p) {
  p->set_id(j.id);
  ToProto(j.spec, p->mutable_spec());
  if (!full) {
    p->mutable_spec()->clear_script();
    p->mutable_spec()->clear_environment();
  }
  p->set_user(j.user);
  p->set_uid(j.uid);
  p->set_gid(j.gid);
  p->set_project(j.project);
  p->set_state(static_cast<v1::JobState>(static_cast<int>(j.state)));
  p->set_reason(j.reason);
  if (j.exit_code) p->set_exit_code(*j.exit_code);
  p->set_slurm_job_id(j.slurm_job_id);
  p->set_nodes(j.nodes);
  SetTime(j.submit_time, p->mutable_submit_time());
  SetTime(j.admit_time, p->mutable_admit_time());
  SetTime(j.start_time, p->mutable_start_time());
  SetTime(j.end_time, p->mutable_end_time());
  p->set_requeue_count(j.requeue_count);
  AddAmounts(j.reserved, p->mutable_reserved());
  AddAmounts(j.charged, p->mutable_charged());
  if (full) {
    for (const auto& e : j.events) ToProto(e, p->add_events());
    for (const auto& c : j.checkpoints) {
      v1::CheckpointRecord* r = p->add_checkpoints();
      r->set_step(c.step);
      r->set_bytes(c.bytes);
      r->set_seconds(absl::ToDoubleSeconds(c.duration));
      SetTime(c.time, r->mutable_time());
      r->set_path(c.path);
      r->set_ranks(c.ranks);
    }
    for (const auto& g : j.progress) {
      v1::ProgressRecord* r = p->add_progress();
      r->set_phase(g.phase);
      r->set_step(g.step);
      r->set_bytes_done(g.bytes_done);
      r->set_bytes_total(g.bytes_total);
      r->set_message(g.message);
      SetTime(g.time, r->mutable_time());
    }
  }
}

void ToProto(const queue::JobEvent& e, v1::JobEvent* p) {
  p->set_state(static_cast<v1::JobState>(static_cast<int>(e.state)));
  SetTime(e.time, p->mutable_time());
  p->set_reason(e.reason);
}

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical code numbers.
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

}  // namespace drocc::api
