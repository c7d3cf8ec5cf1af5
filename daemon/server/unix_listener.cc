#include "daemon/server/unix_listener.h"

#include <fcntl.h>
#include <grpcpp/server_posix.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace drocc::server {
namespace {

absl::Status Errno(const char* what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<UnixListener>> UnixListener::Bind(const std::string& path,
                                                                 uint32_t mode) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("server.socket \"", path,
                                                   "\" is empty or longer than ",
                                                   sizeof(addr.sun_path) - 1, " bytes"));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot create ", dir.string(), " for the socket: ", ec.message()));
    }
    chmod(dir.c_str(), 0755);
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("cannot create a socket for", path);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EADDRINUSE) {
      close(fd);
      return Errno("cannot bind", path);
    }
    // In use: a live droccd, or a file left by one that died.
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool live = connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    close(probe);
    if (live) {
      close(fd);
      return absl::AlreadyExistsError(absl::StrCat("another droccd is already listening on ", path,
                                                   "; stop it first or set server.socket"));
    }
    unlink(path.c_str());
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd);
      return Errno("cannot bind", path);
    }
  }
  if (chmod(path.c_str(), mode) != 0 || listen(fd, 512) != 0) {
    close(fd);
    return Errno("cannot listen on", path);
  }
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    close(fd);
    return Errno("cannot create a pipe for", path);
  }
  return std::unique_ptr<UnixListener>(new UnixListener(path, fd, pipefd[0], pipefd[1]));
}

UnixListener::UnixListener(std::string path, int fd, int wake_read, int wake_write)
    : path_(std::move(path)), fd_(fd), wake_read_(wake_read), wake_write_(wake_write) {}

UnixListener::~UnixListener() {
  Stop();
  close(fd_);
  close(wake_read_);
  close(wake_write_);
}

void UnixListener::Start(grpc::Server* server, auth::PeerTable* peers) {
  thread_ = std::thread([this, server, peers] { AcceptLoop(server, peers); });
}

void UnixListener::Stop() {
  if (stopped_.exchange(true)) return;
  char c = 0;
  if (write(wake_write_, &c, 1) < 0) spdlog::warn("cannot wake the socket listener");
  if (thread_.joinable()) thread_.join();
  unlink(path_.c_str());
}

void UnixListener::AcceptLoop(grpc::Server* server, auth::PeerTable* peers) {
  pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
  while (!stopped_) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("socket listener: poll failed: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    int conn = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (conn < 0) {
      if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
        spdlog::warn("socket listener: accept failed: {}", std::strerror(errno));
        if (errno == EMFILE || errno == ENFILE) poll(nullptr, 0, 100);  // let fds free up
      }
      continue;
    }
    if (!peers->Record(conn)) {
      spdlog::warn("socket listener: no peer credentials on a connection; closed");
      close(conn);
      continue;
    }
    grpc::AddInsecureChannelFromFd(server, conn);  // gRPC owns conn from here
  }
}

}  // namespace drocc::server
