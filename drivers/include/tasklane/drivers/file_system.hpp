// FileSystem: the few file operations the journal needs, behind one interface so that a test
// double can forget everything not yet synced and crash at any step (as LevelDB's
// fault_injection_test does). PosixFileSystem is the real one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "tasklane/result.hpp"

namespace tasklane::drivers {

struct IoError {
  enum class Kind : std::uint8_t { NotFound, Busy, Failed };
  Kind kind = Kind::Failed;
  std::string message;  // names the file and the system's reason
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  virtual Result<std::string, IoError> read(const std::filesystem::path& file) = 0;    // whole file
  virtual Result<void, IoError> append(const std::filesystem::path& file, std::string_view bytes) = 0;
  virtual Result<void, IoError> sync(const std::filesystem::path& file) = 0;           // fdatasync
  virtual Result<void, IoError> write_new(const std::filesystem::path& file, std::string_view bytes) = 0;
  virtual Result<void, IoError> rename(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  virtual Result<void, IoError> sync_dir(const std::filesystem::path& dir) = 0;
  virtual Result<void, IoError> truncate(const std::filesystem::path& file, std::uint64_t size) = 0;
  virtual Result<void, IoError> create_dir(const std::filesystem::path& dir) = 0;
  virtual bool exists(const std::filesystem::path& file) = 0;
  // Holds an exclusive lock on `dir` for this object's lifetime; Busy when another process has it.
  virtual Result<void, IoError> lock_dir(const std::filesystem::path& dir) = 0;
};

// Real files through POSIX calls. Append handles stay open until the object dies.
class PosixFileSystem final : public FileSystem {
 public:
  PosixFileSystem() = default;
  ~PosixFileSystem() override;
  PosixFileSystem(const PosixFileSystem&) = delete;
  PosixFileSystem& operator=(const PosixFileSystem&) = delete;

  Result<std::string, IoError> read(const std::filesystem::path& file) override;
  Result<void, IoError> append(const std::filesystem::path& file, std::string_view bytes) override;
  Result<void, IoError> sync(const std::filesystem::path& file) override;
  Result<void, IoError> write_new(const std::filesystem::path& file, std::string_view bytes) override;
  Result<void, IoError> rename(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Result<void, IoError> sync_dir(const std::filesystem::path& dir) override;
  Result<void, IoError> truncate(const std::filesystem::path& file, std::uint64_t size) override;
  Result<void, IoError> create_dir(const std::filesystem::path& dir) override;
  bool exists(const std::filesystem::path& file) override;
  Result<void, IoError> lock_dir(const std::filesystem::path& dir) override;

 private:
  Result<int, IoError> append_fd(const std::filesystem::path& file);
  void close_fd(const std::filesystem::path& file);
  std::map<std::string, int> append_fds_;
  int lock_fd_ = -1;
};

}  // namespace tasklane::drivers
