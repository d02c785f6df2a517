#include "lg_report.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "lg_net.h"

namespace chat::load {

std::string jsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

void JsonObject::key(std::string_view k) {
  if (body_.size() > 1) body_ += ',';
  body_ += jsonString(k);
  body_ += ':';
}

JsonObject& JsonObject::num(std::string_view k, double value, int decimals) {
  key(k);
  if (!std::isfinite(value)) {
    body_ += "null";
    return *this;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0')
      s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  body_ += s;
  return *this;
}

JsonObject& JsonObject::integer(std::string_view k, std::int64_t value) {
  key(k);
  body_ += std::to_string(value);
  return *this;
}

JsonObject& JsonObject::str(std::string_view k, std::string_view value) {
  key(k);
  body_ += jsonString(value);
  return *this;
}

JsonObject& JsonObject::boolean(std::string_view k, bool value) {
  key(k);
  body_ += value ? "true" : "false";
  return *this;
}

JsonObject& JsonObject::raw(std::string_view k, std::string_view json) {
  key(k);
  body_ += json;
  return *this;
}

std::string latencyJson(const Histogram& h) {
  JsonObject o;
  o.integer("n", static_cast<std::int64_t>(h.count()));
  const auto ms = [](double us) { return us / 1000.0; };
  o.num("mean", ms(h.mean()))
      .num("p50", ms(static_cast<double>(h.quantile(0.5))))
      .num("p90", ms(static_cast<double>(h.quantile(0.9))))
      .num("p99", ms(static_cast<double>(h.quantile(0.99))))
      .num("p999", ms(static_cast<double>(h.quantile(0.999))))
      .num("max", ms(static_cast<double>(h.max())));
  return o.text();
}

ProcSample sampleProc(pid_t pid) {
  ProcSample s;
  s.pid = pid;
  s.atNs = nowNs();
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return s;
  const std::size_t rp = line.rfind(')');
  if (rp == std::string::npos) return s;
  std::istringstream fields(line.substr(rp + 2));
  std::string f;
  double ut = 0, st = 0;
  for (int i = 0; i < 13 && fields >> f; ++i) {
    if (i == 11) ut = std::strtod(f.c_str(), nullptr);
    if (i == 12) st = std::strtod(f.c_str(), nullptr);
  }
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  s.cpuSeconds = (ut + st) / tick;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rssKb = std::strtoll(line.c_str() + 6, nullptr, 10);
    if (line.rfind("VmHWM:", 0) == 0) s.hwmKb = std::strtoll(line.c_str() + 6, nullptr, 10);
  }
  s.alive = true;
  return s;
}

std::vector<ProcSample> sampleProcs(const std::vector<pid_t>& pids) {
  std::vector<ProcSample> out;
  for (pid_t p : pids)
    out.push_back(sampleProc(p));
  return out;
}

std::string procDeltaJson(const std::vector<ProcSample>& before,
                          const std::vector<ProcSample>& after, double& cpuSeconds, double& rssMb) {
  cpuSeconds = 0;
  rssMb = 0;
  std::string out = "[";
  for (std::size_t i = 0; i < before.size() && i < after.size(); ++i) {
    JsonObject o;
    o.integer("pid", before[i].pid).boolean("alive", after[i].alive);
    if (before[i].alive && after[i].alive) {
      const double cpu = after[i].cpuSeconds - before[i].cpuSeconds;
      const double wall = static_cast<double>(after[i].atNs - before[i].atNs) / 1e9;
      cpuSeconds += cpu;
      rssMb += static_cast<double>(after[i].rssKb) / 1024.0;
      o.num("cpu_s", cpu, 2)
          .num("cpu_pct", wall > 0 ? 100 * cpu / wall : 0, 1)
          .num("rss_mb", static_cast<double>(after[i].rssKb) / 1024.0, 1)
          .num("hwm_mb", static_cast<double>(after[i].hwmKb) / 1024.0, 1);
    }
    if (i > 0) out += ',';
    out += o.text();
  }
  return out + "]";
}

namespace {

// One blocking request/answer exchange with a loopback server, ~2 s budget.
std::optional<std::string> exchange(std::string_view hostPort, std::string_view request,
                                    bool (*complete)(std::string_view)) {
  const auto target = parseTarget(hostPort);
  if (!target) return std::nullopt;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string answer;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&target->addr), sizeof target->addr) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    const std::int64_t deadline = nowNs() + 2'000'000'000LL;
    char buf[16384];
    while (nowNs() < deadline && answer.size() < (8u << 20)) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      answer.append(buf, static_cast<std::size_t>(n));
      if (complete(answer)) break;
    }
  }
  ::close(fd);
  if (answer.empty()) return std::nullopt;
  return answer;
}

bool respBulkComplete(std::string_view s) {
  if (s.empty() || s[0] != '$') return !s.empty() && s.find("\r\n") != std::string_view::npos;
  const std::size_t eol = s.find("\r\n");
  if (eol == std::string_view::npos) return false;
  std::size_t len = 0;
  std::from_chars(s.data() + 1, s.data() + eol, len);
  return s.size() >= eol + 2 + len + 2;
}

bool never(std::string_view) {
  return false;
}

}  // namespace

std::map<std::string, std::uint64_t> parseCommandStats(std::string_view info) {
  std::map<std::string, std::uint64_t> out;
  std::size_t pos = 0;
  while ((pos = info.find("cmdstat_", pos)) != std::string_view::npos) {
    pos += 8;
    const std::size_t colon = info.find(':', pos);
    const std::size_t calls = info.find("calls=", pos);
    if (colon == std::string_view::npos || calls == std::string_view::npos || calls < colon) break;
    std::uint64_t value = 0;
    std::from_chars(info.data() + calls + 6, info.data() + info.size(), value);
    out[std::string(info.substr(pos, colon - pos))] = value;
  }
  return out;
}

std::optional<std::map<std::string, std::uint64_t>> redisCommandCalls(std::string_view hostPort) {
  const auto answer =
      exchange(hostPort, "*2\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n", respBulkComplete);
  if (!answer || answer->empty() || (*answer)[0] != '$') return std::nullopt;
  return parseCommandStats(*answer);
}

std::optional<double> parseMetric(std::string_view page, std::string_view name) {
  std::size_t pos = 0;
  while (pos < page.size()) {
    std::size_t eol = page.find('\n', pos);
    if (eol == std::string_view::npos) eol = page.size();
    const std::string_view line = page.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.size() > name.size() && line.substr(0, name.size()) == name &&
        line[name.size()] == ' ') {
      return std::strtod(std::string(line.substr(name.size() + 1)).c_str(), nullptr);
    }
  }
  return std::nullopt;
}

std::optional<double> metricValue(std::string_view hostPort, std::string_view name) {
  const std::string request =
      "GET /metrics HTTP/1.0\r\nHost: " + std::string(hostPort) + "\r\nConnection: close\r\n\r\n";
  const auto answer = exchange(hostPort, request, never);
  if (!answer) return std::nullopt;
  return parseMetric(*answer, name);
}

}  // namespace chat::load
