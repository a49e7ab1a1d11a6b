// PosixFileSystem: open/write/fdatasync/rename/flock, with errors that name the file.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tasklane/drivers/file_system.hpp"

namespace tasklane::drivers {
namespace {

IoError os_error(const std::string& what, const std::filesystem::path& file) {
  const int e = errno;
  const auto kind = e == ENOENT ? IoError::Kind::NotFound : (e == EWOULDBLOCK ? IoError::Kind::Busy : IoError::Kind::Failed);
  return IoError{kind, what + " " + file.string() + ": " + std::strerror(e)};
}

Result<void, IoError> write_all(int fd, std::string_view bytes, const std::filesystem::path& file) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Failure{os_error("cannot write", file)};
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

PosixFileSystem::~PosixFileSystem() {
  for (const auto& [name, fd] : append_fds_) ::close(fd);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::string, IoError> PosixFileSystem::read(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Failure{os_error("cannot open", file)};
  // Read straight into the string, sized from fstat (plus room to notice a file that grew), so
  // that a big journal is neither copied through a buffer nor regrown.
  std::string out;
  struct stat st {};
  std::size_t capacity = ::fstat(fd, &st) == 0 && st.st_size > 0 ? static_cast<std::size_t>(st.st_size) + 1 : 1 << 16;
  std::size_t size = 0;
  for (;;) {
    if (size == capacity) capacity *= 2;
    out.resize(capacity);
    const ssize_t n = ::read(fd, out.data() + size, capacity - size);
    if (n < 0) {
      if (errno == EINTR) continue;
      const IoError error = os_error("cannot read", file);
      ::close(fd);
      return Failure{error};
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  ::close(fd);
  out.resize(size);
  return out;
}

Result<int, IoError> PosixFileSystem::append_fd(const std::filesystem::path& file) {
  if (const auto it = append_fds_.find(file.string()); it != append_fds_.end()) return it->second;
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Failure{os_error("cannot open", file)};
  append_fds_[file.string()] = fd;
  return fd;
}

void PosixFileSystem::close_fd(const std::filesystem::path& file) {
  if (const auto it = append_fds_.find(file.string()); it != append_fds_.end()) {
    ::close(it->second);
    append_fds_.erase(it);
  }
}

Result<void, IoError> PosixFileSystem::append(const std::filesystem::path& file, std::string_view bytes) {
  const auto fd = append_fd(file);
  if (!fd) return Failure{fd.error()};
  return write_all(fd.value(), bytes, file);
}

Result<void, IoError> PosixFileSystem::sync(const std::filesystem::path& file) {
  const auto fd = append_fd(file);
  if (!fd) return Failure{fd.error()};
  if (::fdatasync(fd.value()) != 0) return Failure{os_error("cannot fdatasync", file)};
  return {};
}

Result<void, IoError> PosixFileSystem::write_new(const std::filesystem::path& file, std::string_view bytes) {
  close_fd(file);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Failure{os_error("cannot create", file)};
  auto written = write_all(fd, bytes, file);
  if (written && ::fsync(fd) != 0) written = Failure{os_error("cannot fsync", file)};
  ::close(fd);
  return written;
}

Result<void, IoError> PosixFileSystem::rename(const std::filesystem::path& from, const std::filesystem::path& to) {
  close_fd(from);
  close_fd(to);
  if (::rename(from.c_str(), to.c_str()) != 0) return Failure{os_error("cannot rename to " + to.string() + " from", from)};
  return {};
}

Result<void, IoError> PosixFileSystem::sync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Failure{os_error("cannot open directory", dir)};
  const bool ok = ::fsync(fd) == 0;
  const IoError error = ok ? IoError{} : os_error("cannot fsync directory", dir);
  ::close(fd);
  if (!ok) return Failure{error};
  return {};
}

Result<void, IoError> PosixFileSystem::truncate(const std::filesystem::path& file, std::uint64_t size) {
  if (::truncate(file.c_str(), static_cast<off_t>(size)) != 0) return Failure{os_error("cannot truncate", file)};
  return {};
}

Result<void, IoError> PosixFileSystem::create_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Failure{IoError{IoError::Kind::Failed, "cannot create directory " + dir.string() + ": " + ec.message()}};
  return {};
}

bool PosixFileSystem::exists(const std::filesystem::path& file) {
  struct stat st {};
  return ::stat(file.c_str(), &st) == 0;
}

Result<void, IoError> PosixFileSystem::lock_dir(const std::filesystem::path& dir) {
  const auto lock_file = dir / "LOCK";
  const int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Failure{os_error("cannot open", lock_file)};
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    IoError error = os_error("cannot lock", lock_file);
    ::close(fd);
    if (error.kind == IoError::Kind::Busy) {
      error.message = "data directory " + dir.string() + " is in use by another process (" + lock_file.string() + " is locked)";
    }
    return Failure{error};
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);
  lock_fd_ = fd;
  return {};
}

}  // namespace tasklane::drivers
