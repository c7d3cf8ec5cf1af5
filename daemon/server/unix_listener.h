#pragma once

// droccd's Unix socket. gRPC cannot tell who is at the other end of a Unix socket, so droccd
// accepts connections itself, records each one's SO_PEERCRED in a PeerTable and hands the
// descriptor to the running gRPC server (it then appears as peer "fd:<n>").

#include <grpcpp/server.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "daemon/auth/peer_table.h"

namespace drocc::server {

class UnixListener {
 public:
  // Creates the socket at `path` with `mode` (creating its directory, mode 0755, if missing).
  // A stale socket file is replaced; a live one (another droccd) is an error.
  static absl::StatusOr<std::unique_ptr<UnixListener>> Bind(const std::string& path, uint32_t mode);
  ~UnixListener();

  // Starts accepting on a background thread; `server` and `peers` must outlive Stop().
  void Start(grpc::Server* server, auth::PeerTable* peers);
  // Stops accepting and removes the socket file. Connections already handed over stay.
  void Stop();

 private:
  UnixListener(std::string path, int fd, int wake_read, int wake_write);
  void AcceptLoop(grpc::Server* server, auth::PeerTable* peers);

  std::string path_;
  int fd_;
  int wake_read_;
  int wake_write_;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

}  // namespace drocc::server
