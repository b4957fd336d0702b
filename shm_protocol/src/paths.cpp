#include "preroll/shm/paths.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace preroll::shm {

std::string default_socket_path() {
  if (::geteuid() == 0) return "/run/preroll/prerolld.sock";
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg != nullptr && xdg[0] == '/')
    return std::string(xdg) + "/preroll/prerolld.sock";
  return "/tmp/preroll-" + std::to_string(::geteuid()) + "/prerolld.sock";
}

std::string client_socket_path() {
  if (const char* s = std::getenv("PREROLL_SOCKET"); s != nullptr && s[0] != '\0') return s;
  return default_socket_path();
}

std::string control_socket_path(const std::string& registration_path) {
  return std::filesystem::path(registration_path).replace_filename("prerolld.ctl").string();
}

}  // namespace preroll::shm
