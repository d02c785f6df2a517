#pragma once
// A fresh directory under $TMPDIR (or /tmp), removed with everything in it when
// the object is destroyed. Owned by the fixture or helper that created it.

#include <filesystem>
#include <string_view>

namespace chat::testing {

class TempDir {
 public:
  // `prefix` names the directory so a leftover one says who made it.
  explicit TempDir(std::string_view prefix = "chat-test");
  ~TempDir();

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;

  const std::filesystem::path& path() const { return path_; }

 private:
  void remove() noexcept;

  std::filesystem::path path_;
};

}  // namespace chat::testing
