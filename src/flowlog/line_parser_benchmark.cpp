// Micro-benchmarks of the flow-log hot path: ParseFlowLine on default-format lines, and the
// address parser and formatter on their own. Items are lines (or addresses): read items/s.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "flowlog/address.hpp"
#include "flowlog/format.hpp"
#include "flowlog/line_parser.hpp"

namespace vpcflow {
namespace {

// Realistic default-format lines: private and public IPv4, ephemeral and service ports,
// a few REJECT and NODATA lines.
std::vector<std::string> MakeLines(size_t n, bool ipv6) {
  std::mt19937_64 rng(42);
  std::vector<std::string> lines;
  lines.reserve(n);
  char buf[256];
  for (size_t i = 0; i < n; ++i) {
    uint64_t r = rng();
    int64_t start = 1700000000 + static_cast<int64_t>(r % 600);
    if (r % 50 == 0) {
      std::snprintf(buf, sizeof(buf),
                    "2 123456789012 eni-0a1b2c3d4e5f%05u - - - - - - - %lld %lld - NODATA",
                    static_cast<unsigned>(r % 100000), static_cast<long long>(start),
                    static_cast<long long>(start) + 60);
    } else if (ipv6) {
      std::snprintf(
          buf, sizeof(buf),
          "2 123456789012 eni-0a1b2c3d4e5f%05u 2600:1f18:%x:%x::%x 2a05:d018:%x::%x %u %u "
          "6 %u %u %lld %lld %s OK",
          static_cast<unsigned>(r % 100000), static_cast<unsigned>(r >> 48),
          static_cast<unsigned>((r >> 32) & 0xffff), static_cast<unsigned>(r & 0xfff),
          static_cast<unsigned>((r >> 20) & 0xffff), static_cast<unsigned>(r % 4000),
          static_cast<unsigned>(1024 + r % 60000), static_cast<unsigned>(r % 3 ? 443 : 22),
          static_cast<unsigned>(1 + r % 900), static_cast<unsigned>(40 + r % 1500000),
          static_cast<long long>(start), static_cast<long long>(start + 60),
          r % 10 ? "ACCEPT" : "REJECT");
    } else {
      std::snprintf(
          buf, sizeof(buf),
          "2 123456789012 eni-0a1b2c3d4e5f%05u 10.%u.%u.%u %u.%u.%u.%u %u %u 6 %u %u "
          "%lld %lld %s OK",
          static_cast<unsigned>(r % 100000), static_cast<unsigned>((r >> 8) & 0xff),
          static_cast<unsigned>((r >> 16) & 0xff), static_cast<unsigned>((r >> 24) & 0xff),
          static_cast<unsigned>(1 + (r >> 32) % 223), static_cast<unsigned>((r >> 40) & 0xff),
          static_cast<unsigned>((r >> 48) & 0xff), static_cast<unsigned>((r >> 56) & 0xff),
          static_cast<unsigned>(1024 + r % 60000), static_cast<unsigned>(r % 3 ? 443 : 22),
          static_cast<unsigned>(1 + r % 900), static_cast<unsigned>(40 + r % 1500000),
          static_cast<long long>(start), static_cast<long long>(start + 60),
          r % 10 ? "ACCEPT" : "REJECT");
    }
    lines.emplace_back(buf);
  }
  return lines;
}

void RunParse(benchmark::State& state, bool ipv6) {
  const std::vector<std::string> lines = MakeLines(4096, ipv6);
  const FlowFormat& format = FlowFormat::Default();
  size_t bytes = 0;
  for (const std::string& l : lines) bytes += l.size() + 1;
  uint64_t used = 0;
  for (auto _ : state) {
    for (const std::string& line : lines) {
      FlowRecord record;
      used += ParseFlowLine(format, line, &record) == LineOutcome::kUsed;
      benchmark::DoNotOptimize(record);
    }
  }
  benchmark::DoNotOptimize(used);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * lines.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void BM_ParseFlowLineDefaultIpv4(benchmark::State& state) { RunParse(state, false); }
BENCHMARK(BM_ParseFlowLineDefaultIpv4);

void BM_ParseFlowLineDefaultIpv6(benchmark::State& state) { RunParse(state, true); }
BENCHMARK(BM_ParseFlowLineDefaultIpv6);

// The first four space-separated addresses of `line`, parsed as the line parser reads them
// (the rest of the line readable after each: 16-byte loads allowed).
void RunParseAddresses(benchmark::State& state, const std::string& line) {
  std::vector<std::string_view> addresses;
  for (size_t pos = 0; addresses.size() < 4; pos = line.find(' ', pos) + 1) {
    addresses.push_back(std::string_view(line).substr(pos, line.find(' ', pos) - pos));
  }
  const char* end = line.data() + line.size();
  for (auto _ : state) {
    for (std::string_view a : addresses) {
      IpAddress out;
      benchmark::DoNotOptimize(ParseIpAddress(a, end, &out));
      benchmark::DoNotOptimize(out);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * addresses.size()));
}

void BM_ParseIpv4(benchmark::State& state) {
  RunParseAddresses(state, "10.0.0.1 172.31.16.139 203.0.113.12 192.168.100.200 end-of-line");
}
BENCHMARK(BM_ParseIpv4);

// IPv6 text as flow logs spell it: full and compressed, either case.
void BM_ParseIpv6(benchmark::State& state) {
  RunParseAddresses(state,
                    "2001:DB8:AA99:68CF:FD4F:1029:A712:2E21 2600:1f18:53e8:fd6c::f471 "
                    "2600:1f18:0:35::6a2e 2001:db8:9f1c:df9d:4eed:ab9d:65e4:1439 end-of-line");
}
BENCHMARK(BM_ParseIpv6);

void BM_FormatIpv6(benchmark::State& state) {
  IpAddress a;
  ParseIpAddress("2001:db8:1234:a100:8d6e::f105", &a);
  char buf[kMaxIpTextLength];
  for (auto _ : state) {
    benchmark::DoNotOptimize(FormatIpAddress(a, buf));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_FormatIpv6);

}  // namespace
}  // namespace vpcflow

BENCHMARK_MAIN();
