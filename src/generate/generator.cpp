#include "generate/generator.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include "common/civil_time.hpp"
#include "flowlog/address.hpp"
#include "flowlog/format.hpp"
#include "generate/parquet_convert.hpp"
#include "vpcflow/byte_sink.hpp"

namespace vpcflow {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kStampSeconds = 300;
constexpr int kRegionsPerAccount = 2;

// splitmix64: seeds the per-object generators so objects can be generated in any order, on any
// thread, and still come out byte-identical.
uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t s = a ^ (b * 0xd1342543de82ef95ULL);
  return SplitMix64(s);
}

// xoshiro256**.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& word : s_) word = SplitMix64(seed);
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n) (Lemire's multiply-shift; the tiny bias does not matter here).
  uint32_t Below(uint32_t n) {
    return static_cast<uint32_t>(((Next() >> 32) * static_cast<uint64_t>(n)) >> 32);
  }
  // Uniform in (0, 1].
  double Unit() { return (static_cast<double>(Next() >> 11) + 1.0) * 0x1.0p-53; }
  bool Chance(double p) { return Unit() <= p; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// Walker/Vose alias table: O(1) sampling from a fixed discrete distribution.
class AliasTable {
 public:
  void Build(const std::vector<double>& weights) {
    const size_t n = weights.size();
    prob_.assign(n, 1.0f);
    alias_.resize(n);
    double total = 0;
    for (double w : weights) total += w;
    std::vector<double> scaled(n);
    std::vector<uint32_t> small, large;
    for (size_t i = 0; i < n; ++i) {
      scaled[i] = weights[i] * static_cast<double>(n) / total;
      alias_[i] = static_cast<uint32_t>(i);
      (scaled[i] < 1.0 ? small : large).push_back(static_cast<uint32_t>(i));
    }
    while (!small.empty() && !large.empty()) {
      uint32_t s = small.back(), l = large.back();
      small.pop_back();
      prob_[s] = static_cast<float>(scaled[s]);
      alias_[s] = l;
      scaled[l] -= 1.0 - scaled[s];
      if (scaled[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
  }
  // Zipf weights 1/(rank+1)^exponent over `n` ranks.
  void BuildZipf(size_t n, double exponent) {
    std::vector<double> w(n);
    for (size_t i = 0; i < n; ++i) w[i] = std::pow(static_cast<double>(i + 1), -exponent);
    Build(w);
  }
  size_t size() const { return prob_.size(); }
  uint32_t Sample(Rng& rng) const {
    uint64_t r = rng.Next();
    uint32_t i = static_cast<uint32_t>(((r >> 32) * prob_.size()) >> 32);
    float u = static_cast<float>(r & 0xffffff) * 0x1.0p-24f;
    return u < prob_[i] ? i : alias_[i];
  }

 private:
  std::vector<float> prob_;
  std::vector<uint32_t> alias_;
};

// An address with its spellings stored in the account's text arena. IPv6 hosts have three:
// RFC 5952, full form with leading zeros, upper case; IPv4 hosts one.
struct Host {
  uint32_t offset = 0;
  uint8_t length[3] = {0, 0, 0};
  bool v6 = false;
  uint8_t services[2] = {0, 0};  // the ports it serves (indices into kServerPorts)
};

// An address on one of the account's own interfaces.
struct Local {
  uint32_t host = 0;
  uint32_t eni = 0;  // arena offsets of fixed-length ids
  uint32_t subnet = 0;
  uint32_t instance = 0;  // UINT32_MAX: no instance ('-')
  uint8_t az = 0;
};

// The record layouts a flow log may use (header line = the names, in order).
struct FormatSpec {
  const char* header;
  const char* version;
};
constexpr FormatSpec kFormats[] = {
    {"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
     "start end action log-status",
     "2"},
    {"version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport "
     "dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags "
     "log-status",
     "3"},
    {"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
     "start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr "
     "pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service "
     "pkt-dst-aws-service flow-direction traffic-path",
     "5"},
    // A flow log without account-id: its keys carry '-' for the account.
    {"version interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end "
     "action log-status",
     "2"},
};
constexpr int kFormatCount = sizeof(kFormats) / sizeof(kFormats[0]);

constexpr const char* kRegions[] = {
    "us-east-1",      "eu-west-1",    "us-west-2", "eu-central-1", "ap-southeast-2",
    "ap-northeast-1", "ca-central-1", "sa-east-1", "eu-north-1",   "ap-south-1"};
constexpr int kRegionCount = sizeof(kRegions) / sizeof(kRegions[0]);

// Well-known server ports, most popular first (sampled with a Zipf law).
constexpr uint16_t kServerPorts[] = {443,  80,   53,   22,    3306, 5432, 6379, 8080,  123,
                                     8443, 9092, 2049, 27017, 25,   3389, 5439, 11211, 9200,
                                     6443, 389,  636,  1433,  5672, 9000, 8000, 2379,  4222};
constexpr uint16_t kScanPorts[] = {22, 23, 3389, 445, 1433, 8080, 5900, 3306, 80, 443, 21, 25};

const AliasTable& ServerPortZipf() {
  static const AliasTable table = [] {
    AliasTable t;
    t.BuildZipf(std::size(kServerPorts), 1.1);
    return t;
  }();
  return table;
}

struct FlowLog {
  int account = 0;
  std::string region;
  std::string az_prefix;  // "use1" for us-east-1
  std::string id;         // fl-...
  std::string vpc;        // vpc-...
  int format = 0;
  std::vector<Field> columns;
  std::vector<uint32_t> locals;  // indices into Account::locals, by popularity rank
  AliasTable local_zipf;
};

struct Account {
  std::string id;
  std::string arena;
  std::vector<Host> hosts;
  std::vector<Local> locals;
  // Host indices by family, in popularity-rank order, and their Zipf samplers.
  std::vector<uint32_t> family[2];
  AliasTable family_zipf[2];
  // External hosts by family (scanners), sampled with a flatter law.
  std::vector<uint32_t> external[2];
  AliasTable external_zipf[2];

  std::string_view Text(uint32_t offset, size_t length) const {
    return std::string_view(arena).substr(offset, length);
  }
  std::string_view Spelling(const Host& h, int spelling) const {
    uint32_t off = h.offset;
    for (int i = 0; i < spelling; ++i) off += h.length[i];
    return Text(off, h.length[spelling]);
  }
};

constexpr size_t kHexIdLength = 17;

uint32_t AppendHexId(std::string& arena, std::string_view prefix, uint64_t value) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint32_t off = static_cast<uint32_t>(arena.size());
  arena.append(prefix);
  // 17 hex digits: the top one from the 64 bits' remainder keeps ids looking like AWS's.
  uint64_t hi = Mix(value, 17) & 0xf;
  arena.push_back(kHex[hi]);
  for (int i = 15; i >= 0; --i) arena.push_back(kHex[(value >> (i * 4)) & 0xf]);
  return off;
}

std::string HexId(std::string_view prefix, uint64_t value) {
  std::string s;
  AppendHexId(s, prefix, value);
  return s;
}

// A public-looking IPv4 address (no private, loopback, multicast or reserved ranges).
IpAddress PublicV4(Rng& rng) {
  for (;;) {
    uint32_t v = static_cast<uint32_t>(rng.Next() >> 32);
    uint8_t a = v >> 24, b = (v >> 16) & 0xff;
    if (a == 0 || a == 10 || a == 127 || a >= 224 || a == 100 || (a == 169 && b == 254) ||
        (a == 172 && (b & 0xf0) == 16) || (a == 192 && b == 168)) {
      continue;
    }
    IpAddress ip;
    ip.v4 = true;
    for (int i = 0; i < 4; ++i) ip.bytes[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
    return ip;
  }
}

IpAddress PrivateV4(uint32_t index, uint64_t salt) {
  // 10.x.y.z: a per-account base plus the index keeps internal addresses distinct.
  uint32_t v = (10u << 24) | ((static_cast<uint32_t>(salt) + index * 7919u) & 0xffffff);
  IpAddress ip;
  ip.v4 = true;
  for (int i = 0; i < 4; ++i) ip.bytes[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
  return ip;
}

// IPv6 with runs of zero groups so that the spellings really differ.
IpAddress V6(Rng& rng, bool internal) {
  IpAddress ip;
  uint64_t r = rng.Next(), r2 = rng.Next();
  static constexpr uint16_t kPrefixes[][2] = {
      {0x2a02, 0xcf40}, {0x2001, 0x0db8}, {0x2600, 0x1f18}, {0x2a05, 0xd014}, {0x2406, 0xda00}};
  const auto& p = internal ? kPrefixes[2] : kPrefixes[r % 5];
  uint16_t g[8] = {p[0], p[1], static_cast<uint16_t>(r >> 16), static_cast<uint16_t>(r >> 32), 0,
                   0,    0,    static_cast<uint16_t>(r2)};
  switch ((r >> 48) % 4) {
    case 0:  // 2a02:cf40:1234:5678::abcd
      break;
    case 1:  // a host part in two groups
      g[6] = static_cast<uint16_t>(r2 >> 16);
      break;
    case 2:  // SLAAC-like: all four host groups set
      g[4] = static_cast<uint16_t>(r2 >> 32) | 1;
      g[5] = static_cast<uint16_t>(r2 >> 48);
      g[6] = static_cast<uint16_t>(r2 >> 16);
      break;
    default:  // a sparse /32 subnet
      g[2] = 0;
      g[3] = static_cast<uint16_t>(r >> 32) & 0xff;
      break;
  }
  for (size_t i = 0; i < 8; ++i) {
    ip.bytes[2 * i] = static_cast<uint8_t>(g[i] >> 8);
    ip.bytes[2 * i + 1] = static_cast<uint8_t>(g[i]);
  }
  return ip;
}

Host AddHost(Account& account, const IpAddress& ip) {
  Host h;
  h.offset = static_cast<uint32_t>(account.arena.size());
  h.v6 = !ip.v4;
  char text[kMaxIpTextLength];
  size_t n = FormatIpAddress(ip, text);
  account.arena.append(text, n);
  h.length[0] = static_cast<uint8_t>(n);
  if (h.v6) {
    // Full form with leading zeros, e.g. 2a02:cf40:0000:0000:0000:0000:0000:0001.
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i += 2) {
      if (i) account.arena.push_back(':');
      for (int b : {ip.bytes[i], ip.bytes[i + 1]}) {
        account.arena.push_back(kHex[b >> 4]);
        account.arena.push_back(kHex[b & 0xf]);
      }
    }
    h.length[1] = 39;
    for (size_t i = 0; i < n; ++i) {
      account.arena.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(text[i]))));
    }
    h.length[2] = static_cast<uint8_t>(n);
  }
  return h;
}

struct Corpus {
  std::vector<Account> accounts;
  std::vector<FlowLog> flow_logs;
};

std::vector<Field> ColumnsOf(std::string_view header) {
  std::vector<Field> columns;
  while (!header.empty()) {
    size_t sp = header.find(' ');
    columns.push_back(FieldFromName(header.substr(0, sp)));
    header = sp == std::string_view::npos ? std::string_view() : header.substr(sp + 1);
  }
  return columns;
}

std::string AzPrefix(std::string_view region) {
  // "us-east-1" -> "use1", "ap-southeast-2" -> "apse2".
  std::string out(region.substr(0, 2));
  size_t dash1 = region.find('-'), dash2 = region.rfind('-');
  std::string_view mid = region.substr(dash1 + 1, dash2 - dash1 - 1);
  for (std::string_view word : {"north", "south", "east", "west", "central"}) {
    size_t at = mid.find(word);
    if (at != std::string_view::npos) {
      out.push_back(word[0]);
      mid.remove_prefix(at + word.size());
    }
  }
  out.append(region.substr(dash2 + 1));
  return out;
}

Corpus BuildCorpus(const GenerateOptions& options) {
  Corpus corpus;
  // Accounts, regions and flow logs do not depend on the host count.
  Rng layout(Mix(options.seed, 0x61636374));
  std::unordered_set<uint64_t> account_ids;
  for (int a = 0; a < options.accounts; ++a) {
    Account account;
    uint64_t id;
    do {
      id = 100000000000ULL + layout.Next() % 900000000000ULL;
    } while (!account_ids.insert(id).second);
    account.id = std::to_string(id);

    // Regions and flow logs (1 or 2 per region, each with its own format).
    int first_region = static_cast<int>(layout.Below(kRegionCount));
    std::vector<size_t> account_flow_logs;
    for (int r = 0; r < kRegionsPerAccount; ++r) {
      std::string region = kRegions[(first_region + r * 3) % kRegionCount];
      int count = 1 + static_cast<int>(layout.Below(2));
      for (int f = 0; f < count; ++f) {
        FlowLog fl;
        fl.account = a;
        fl.region = region;
        fl.az_prefix = AzPrefix(region);
        fl.id = HexId("fl-", layout.Next());
        fl.vpc = HexId("vpc-", layout.Next());
        fl.format = static_cast<int>(corpus.flow_logs.size() % kFormatCount);
        fl.columns = ColumnsOf(kFormats[fl.format].header);
        account_flow_logs.push_back(corpus.flow_logs.size());
        corpus.flow_logs.push_back(std::move(fl));
      }
    }

    Rng rng(Mix(options.seed, 0x686f7374 + static_cast<uint64_t>(a)));
    // Hosts: a fifth of them are the account's own interfaces, the rest are peers; about 15%
    // IPv6. Ranks (popularity) follow creation order, which interleaves the kinds.
    const uint32_t n = static_cast<uint32_t>(options.hosts);
    const uint32_t n_fl = static_cast<uint32_t>(account_flow_logs.size());
    uint32_t n_local = std::clamp<uint32_t>(n / 5, std::min(n_fl, n - 1), n - 1);
    std::vector<bool> is_local(n, false);
    for (uint32_t i = 0, placed = 0; placed < n_local; ++i) {
      // Spread the locals evenly over the ranks.
      uint32_t at = static_cast<uint32_t>(static_cast<uint64_t>(placed) * n / n_local);
      if (i == at) {
        is_local[i] = true;
        ++placed;
      }
    }
    std::vector<bool> v6(n);
    uint32_t v6_count = 0;
    for (uint32_t i = 0; i < n; ++i) v6_count += (v6[i] = rng.Chance(0.15));
    if (v6_count < 2) v6.assign(n, false);

    std::unordered_set<std::string> seen;
    uint64_t salt = rng.Next();
    account.hosts.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      IpAddress ip;
      std::string text;
      for (uint32_t attempt = 0;; ++attempt) {
        if (is_local[i] && !v6[i]) {
          ip = PrivateV4(i + attempt * n, salt);
        } else if (v6[i]) {
          ip = V6(rng, is_local[i]);
        } else {
          ip = PublicV4(rng);
        }
        char buf[kMaxIpTextLength];
        text.assign(buf, FormatIpAddress(ip, buf));
        if (seen.insert(text).second) break;
      }
      uint32_t h = static_cast<uint32_t>(account.hosts.size());
      account.hosts.push_back(AddHost(account, ip));
      // Each host serves one port, some two (80 and 443, say).
      Host& host = account.hosts.back();
      host.services[0] = static_cast<uint8_t>(ServerPortZipf().Sample(rng));
      host.services[1] =
          rng.Chance(0.3) ? static_cast<uint8_t>(ServerPortZipf().Sample(rng)) : host.services[0];
      account.family[v6[i]].push_back(h);
      if (is_local[i]) {
        Local local;
        local.host = h;
        local.eni = AppendHexId(account.arena, "eni-", rng.Next());
        local.subnet = AppendHexId(account.arena, "subnet-", Mix(salt, i / 16));
        local.instance =
            rng.Chance(0.85) ? AppendHexId(account.arena, "i-", rng.Next()) : UINT32_MAX;
        local.az = static_cast<uint8_t>(1 + rng.Below(3));
        account.locals.push_back(local);
      } else {
        account.external[v6[i]].push_back(h);
      }
    }
    for (int fam = 0; fam < 2; ++fam) {
      if (!account.family[fam].empty())
        account.family_zipf[fam].BuildZipf(account.family[fam].size(), 1.0);
      if (!account.external[fam].empty()) {
        account.external_zipf[fam].BuildZipf(account.external[fam].size(), 0.6);
      }
    }
    // Interfaces go to the account's flow logs round-robin; each flow log gets at least one.
    for (uint32_t k = 0; k < n_fl; ++k) {
      FlowLog& fl = corpus.flow_logs[account_flow_logs[k]];
      for (uint32_t j = k; j < account.locals.size(); j += n_fl) fl.locals.push_back(j);
      if (fl.locals.empty()) fl.locals.push_back(k % account.locals.size());
      fl.local_zipf.BuildZipf(fl.locals.size(), 0.9);
    }
    corpus.accounts.push_back(std::move(account));
  }
  return corpus;
}

// One object to write.
struct ObjectSpec {
  uint32_t flow_log = 0;
  int64_t stamp = 0;
};

// Appends text to a growable buffer with a raw cursor (no allocation per record).
class TextBuffer {
 public:
  void Reserve(size_t bytes) {
    if (data_.size() - pos_ < bytes) data_.resize(std::max(data_.size() * 2, pos_ + bytes));
  }
  void Put(std::string_view s) {
    std::memcpy(data_.data() + pos_, s.data(), s.size());
    pos_ += s.size();
  }
  void Put(char c) { data_[pos_++] = c; }
  void PutNumber(uint64_t v) {
    auto r = std::to_chars(data_.data() + pos_, data_.data() + data_.size(), v);
    pos_ = static_cast<size_t>(r.ptr - data_.data());
  }
  size_t size() const { return pos_; }
  std::string_view view() const { return std::string_view(data_.data(), pos_); }
  void Clear() { pos_ = 0; }

 private:
  std::string data_;
  size_t pos_ = 0;
};

enum class Status3 : uint8_t { kOk, kNoData, kSkipData };

struct Record {
  const Host* src = nullptr;
  const Host* dst = nullptr;
  const Local* local = nullptr;
  uint8_t src_spelling = 0;
  uint8_t dst_spelling = 0;
  uint16_t srcport = 0;
  uint16_t dstport = 0;
  uint8_t protocol = 6;
  bool reject = false;
  bool no_counts = false;
  bool egress = false;
  Status3 status = Status3::kOk;
  uint8_t tcp_flags = 0;
  uint8_t traffic_path = 0;
  uint64_t packets = 0;
  uint64_t bytes = 0;
  int64_t start = 0;
  int64_t end = 0;
};

class ObjectWriter {
 public:
  ObjectWriter(const Account& account, const FlowLog& fl, Rng& rng, TextBuffer& out)
      : account_(account), fl_(fl), rng_(rng), out_(out) {}

  void Header() {
    out_.Reserve(1024);
    out_.Put(kFormats[fl_.format].header);
    out_.Put('\n');
  }

  // Writes one event (1 or 2 lines) ending in [stamp, stamp + 300). Returns the line count.
  int Event(int64_t stamp) {
    Record rec;
    rec.end = stamp + rng_.Below(kStampSeconds);
    rec.start = rec.end - StartLag();
    rec.local = &account_.locals[fl_.locals[fl_.local_zipf.Sample(rng_)]];
    const Host& local = account_.hosts[rec.local->host];
    const int fam = local.v6;
    double kind = rng_.Unit();
    if (kind < 0.004) {
      rec.status = rng_.Chance(0.8) ? Status3::kNoData : Status3::kSkipData;
      Write(rec);
      return 1;
    }
    if (kind < 0.10) {  // a scanner probing the interface, refused
      const auto& ext =
          account_.external[fam].empty() ? account_.family[fam] : account_.external[fam];
      const auto& zipf =
          account_.external[fam].empty() ? account_.family_zipf[fam] : account_.external_zipf[fam];
      rec.src = &account_.hosts[ext[zipf.Sample(rng_)]];
      rec.dst = &local;
      rec.reject = true;
      rec.srcport = Ephemeral();
      rec.dstport = rng_.Chance(0.85) ? kScanPorts[rng_.Below(std::size(kScanPorts))]
                                      : static_cast<uint16_t>(1 + rng_.Below(32767));
      rec.protocol = rng_.Chance(0.9) ? 6 : 17;
      rec.tcp_flags = rec.protocol == 6 ? 2 : 0;
      rec.packets = 1 + rng_.Below(3);
      rec.bytes = rec.packets * (40 + rng_.Below(24));
      rec.no_counts = rng_.Chance(0.25);  // block-public-access REJECTs carry no counts
      Spell(rec);
      Write(rec);
      return 1;
    }
    const Host* peer = PickPeer(fam, rec.local->host);
    if (peer == nullptr) return 0;
    bool local_is_server = rng_.Chance(0.4);
    const Host* client = local_is_server ? peer : &local;
    const Host* server = local_is_server ? &local : peer;
    uint16_t service = 0, eph = 0;
    uint8_t protocol;
    if (kind < 0.13) {  // ICMP / ICMPv6 echo
      protocol = fam ? 58 : 1;
    } else {
      service = kServerPorts[server->services[rng_.Below(2)]];
      protocol = (service == 53 && rng_.Chance(0.8)) || service == 123 ? 17 : 6;
      eph = Ephemeral();
    }
    bool reject = rng_.Chance(0.02);
    uint64_t packets = Packets();
    uint64_t avg = 40 + rng_.Below(1400);
    const int64_t end = rec.end, start = rec.start;
    const Local* interface = rec.local;
    // Request direction (client -> server), then usually the response.
    rec = Record{};
    rec.local = interface;
    rec.src = client;
    rec.dst = server;
    rec.srcport = eph;
    rec.dstport = service;
    rec.protocol = protocol;
    rec.reject = reject;
    rec.packets = packets;
    rec.bytes = packets * avg;
    rec.start = start;
    rec.end = end;
    rec.egress = !local_is_server;
    rec.tcp_flags = protocol == 6 ? (reject ? 2 : 19) : 0;
    rec.traffic_path = static_cast<uint8_t>(1 + rng_.Below(8));
    Spell(rec);
    Write(rec);
    if (reject || rng_.Chance(0.12)) return 1;
    std::swap(rec.src, rec.dst);
    std::swap(rec.src_spelling, rec.dst_spelling);
    std::swap(rec.srcport, rec.dstport);
    rec.egress = !rec.egress;
    rec.packets = std::max<uint64_t>(1, packets * (50 + rng_.Below(100)) / 100);
    rec.bytes = rec.packets * (40 + rng_.Below(1400));
    rec.tcp_flags = protocol == 6 ? 18 : 0;
    Write(rec);
    return 2;
  }

 private:
  int64_t StartLag() {
    double u = rng_.Unit();
    if (u < 0.70) return rng_.Below(61);
    if (u < 0.95) return 60 + rng_.Below(241);
    return 300 + rng_.Below(301);  // started in the previous interval
  }
  uint16_t Ephemeral() { return static_cast<uint16_t>(32768 + rng_.Below(32768)); }
  uint64_t Packets() {
    // Pareto-like tail: most flows are a few packets, a few are huge.
    double p = std::pow(rng_.Unit(), -1.0 / 1.1);
    return p > 5e6 ? 5000000 : static_cast<uint64_t>(p);
  }
  const Host* PickPeer(int fam, uint32_t self) {
    const auto& pool = account_.family[fam];
    if (pool.size() < 2) return nullptr;
    for (;;) {
      uint32_t h = pool[account_.family_zipf[fam].Sample(rng_)];
      if (h != self) return &account_.hosts[h];
    }
  }
  void Spell(Record& rec) {
    // IPv6 in varied spellings: mostly RFC 5952, some full form, some upper case.
    auto pick = [&](const Host* h) -> uint8_t {
      if (!h->v6) return 0;
      uint32_t r = rng_.Below(100);
      return r < 70 ? 0 : r < 85 ? 1 : 2;
    };
    rec.src_spelling = pick(rec.src);
    rec.dst_spelling = pick(rec.dst);
  }

  void Write(const Record& rec) {
    out_.Reserve(1024);
    const bool ok = rec.status == Status3::kOk;
    bool first = true;
    for (Field f : fl_.columns) {
      if (!first) out_.Put(' ');
      first = false;
      switch (f) {
        case Field::kVersion:
          out_.Put(kFormats[fl_.format].version);
          break;
        case Field::kAccountId:
          out_.Put(account_.id);
          break;
        case Field::kInterfaceId:
          out_.Put(account_.Text(rec.local->eni, 4 + kHexIdLength));
          break;
        case Field::kSrcAddr:
        case Field::kPktSrcAddr:
          PutAddress(ok ? rec.src : nullptr, f == Field::kSrcAddr ? rec.src_spelling : 0);
          break;
        case Field::kDstAddr:
        case Field::kPktDstAddr:
          PutAddress(ok ? rec.dst : nullptr, f == Field::kDstAddr ? rec.dst_spelling : 0);
          break;
        case Field::kSrcPort:
          PutNumberOrDash(ok, rec.srcport);
          break;
        case Field::kDstPort:
          PutNumberOrDash(ok, rec.dstport);
          break;
        case Field::kProtocol:
          PutNumberOrDash(ok, rec.protocol);
          break;
        case Field::kPackets:
          PutNumberOrDash(ok && !rec.no_counts, rec.packets);
          break;
        case Field::kBytes:
          PutNumberOrDash(ok && !rec.no_counts, rec.bytes);
          break;
        case Field::kStart:
          out_.PutNumber(static_cast<uint64_t>(rec.start));
          break;
        case Field::kEnd:
          out_.PutNumber(static_cast<uint64_t>(rec.end));
          break;
        case Field::kAction:
          out_.Put(!ok ? "-" : rec.reject ? "REJECT" : "ACCEPT");
          break;
        case Field::kLogStatus:
          out_.Put(ok ? "OK" : rec.status == Status3::kNoData ? "NODATA" : "SKIPDATA");
          break;
        case Field::kVpcId:
          out_.Put(fl_.vpc);
          break;
        case Field::kSubnetId:
          out_.Put(account_.Text(rec.local->subnet, 7 + kHexIdLength));
          break;
        case Field::kInstanceId:
          if (rec.local->instance == UINT32_MAX) {
            out_.Put('-');
          } else {
            out_.Put(account_.Text(rec.local->instance, 2 + kHexIdLength));
          }
          break;
        case Field::kTcpFlags:
          PutNumberOrDash(ok, rec.tcp_flags);
          break;
        case Field::kType:
          out_.Put(!ok ? "-" : rec.src->v6 ? "IPv6" : "IPv4");
          break;
        case Field::kRegion:
          out_.Put(fl_.region);
          break;
        case Field::kAzId:
          out_.Put(fl_.az_prefix);
          out_.Put("-az");
          out_.PutNumber(rec.local->az);
          break;
        case Field::kFlowDirection:
          out_.Put(!ok ? "-" : rec.egress ? "egress" : "ingress");
          break;
        case Field::kTrafficPath:
          PutNumberOrDash(ok && rec.egress, rec.traffic_path);
          break;
        default:
          out_.Put('-');
          break;
      }
    }
    out_.Put('\n');
  }

  void PutAddress(const Host* h, int spelling) {
    if (h == nullptr) {
      out_.Put('-');
    } else {
      out_.Put(account_.Spelling(*h, spelling));
    }
  }
  void PutNumberOrDash(bool present, uint64_t v) {
    if (present) {
      out_.PutNumber(v);
    } else {
      out_.Put('-');
    }
  }

  const Account& account_;
  const FlowLog& fl_;
  Rng& rng_;
  TextBuffer& out_;
};

std::string TwoDigits(int v) {
  char b[3] = {static_cast<char>('0' + v / 10), static_cast<char>('0' + v % 10), 0};
  return b;
}

std::string ObjectDir(const GenerateOptions& options, const Account& account, const FlowLog& fl,
                      int64_t stamp) {
  CivilTime t = FromUnixSeconds(stamp);
  std::string dir = options.prefix.empty() ? "" : options.prefix + "/";
  std::string yyyy = std::to_string(t.year), mm = TwoDigits(t.month), dd = TwoDigits(t.day);
  if (options.layout == GenerateLayout::kHive) {
    dir += "AWSLogs/aws-account-id=" + account.id +
           "/aws-service=vpcflowlogs/aws-region=" + fl.region + "/year=" + yyyy + "/month=" + mm +
           "/day=" + dd + "/";
  } else {
    dir += "AWSLogs/" + account.id + "/vpcflowlogs/" + fl.region + "/" + yyyy + "/" + mm + "/" +
           dd + "/";
    if (options.layout == GenerateLayout::kHourly) dir += TwoDigits(t.hour) + "/";
  }
  return dir;
}

std::string FileName(const Account& account, const FlowLog& fl, int64_t stamp, uint64_t hash,
                     GenerateFormat format) {
  CivilTime t = FromUnixSeconds(stamp);
  char text[64];
  std::snprintf(text, sizeof(text), "%04d%02d%02dT%02d%02dZ_%08x", t.year, t.month, t.day, t.hour,
                t.minute, static_cast<unsigned>(hash));
  return account.id + "_vpcflowlogs_" + fl.region + "_" + fl.id + "_" + text +
         (format == GenerateFormat::kParquet ? ".log.parquet" : ".log.gz");
}

// Writes `bytes` to `path` through a temporary name, gzipped when `gzip`.
Status WriteFileAtomically(const fs::path& path, std::string_view bytes, bool gzip,
                           uint64_t* written) {
  fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp");
  {
    ASSIGN_OR_RETURN(ByteSinkPtr file, NewFileSink(tmp.string()));
    ByteSinkPtr sink = gzip ? NewGzipSink(std::move(file), 1) : std::move(file);
    Status st = sink->Append(bytes);
    if (st.ok()) st = sink->Close();
    if (!st.ok()) {
      std::error_code ec;
      fs::remove(tmp, ec);
      return st;
    }
  }
  std::error_code ec;
  *written = fs::file_size(tmp, ec);
  if (!ec) fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return UnavailableError("cannot write " + path.string() + ": " + ec.message());
  }
  return OkStatus();
}

}  // namespace

Result<GenerateLayout> ParseGenerateLayout(std::string_view name) {
  if (name == "daily") return GenerateLayout::kDaily;
  if (name == "hourly") return GenerateLayout::kHourly;
  if (name == "hive") return GenerateLayout::kHive;
  return InvalidArgumentError("unknown layout \"" + std::string(name) +
                              "\" (expected daily, hourly or hive)");
}

Result<GenerateFormat> ParseGenerateFormat(std::string_view name) {
  if (name == "text") return GenerateFormat::kText;
  if (name == "parquet") return GenerateFormat::kParquet;
  return InvalidArgumentError("unknown format \"" + std::string(name) +
                              "\" (expected text or parquet)");
}

Result<parquet::Codec> ParseParquetCodec(std::string_view name) {
  if (name == "gzip") return parquet::Codec::kGzip;
  if (name == "snappy") return parquet::Codec::kSnappy;
  if (name == "zstd") return parquet::Codec::kZstd;
  if (name == "none") return parquet::Codec::kUncompressed;
  return InvalidArgumentError("unknown codec \"" + std::string(name) +
                              "\" (expected gzip, snappy, zstd or none)");
}

Result<GenerateReport> GenerateCorpus(const GenerateOptions& options) {
  if (!(options.size_mb > 0) || options.size_mb > 1e6) {
    return InvalidArgumentError("size must be above 0 MB (and at most 1 TB)");
  }
  if (options.accounts < 1 || options.accounts > 10000) {
    return InvalidArgumentError("accounts must be between 1 and 10000");
  }
  if (options.hosts < 2 || options.hosts > 20000000) {
    return InvalidArgumentError("hosts must be between 2 and 20000000");
  }
  if (options.window.start >= options.window.stop) {
    return InvalidArgumentError("the window is empty (start must be before stop)");
  }
  if (options.out_dir.empty()) return InvalidArgumentError("no output directory");

  const Corpus corpus = BuildCorpus(options);
  std::vector<ObjectSpec> specs;
  for (int64_t t = FloorTo(options.window.start, kStampSeconds); t < options.window.stop;
       t += kStampSeconds) {
    for (uint32_t f = 0; f < corpus.flow_logs.size(); ++f) specs.push_back({f, t});
  }
  const double bytes_per_object = options.size_mb * 1e6 / static_cast<double>(specs.size());

  // Directories first (single-threaded), then the objects on the worker threads.
  std::vector<std::string> dirs(specs.size());
  {
    std::string last;
    for (size_t i = 0; i < specs.size(); ++i) {
      const FlowLog& fl = corpus.flow_logs[specs[i].flow_log];
      dirs[i] = ObjectDir(options, corpus.accounts[fl.account], fl, specs[i].stamp);
      if (dirs[i] == last) continue;
      last = dirs[i];
      std::error_code ec;
      fs::create_directories(fs::path(options.out_dir) / dirs[i], ec);
      if (ec) {
        return UnavailableError("cannot create " + (fs::path(options.out_dir) / dirs[i]).string() +
                                ": " + ec.message());
      }
    }
  }

  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status first_error;
  GenerateReport total;
  auto work = [&] {
    GenerateReport mine;
    TextBuffer text;
    while (!failed.load(std::memory_order_relaxed)) {
      size_t i = next.fetch_add(1);
      if (i >= specs.size()) break;
      const ObjectSpec& spec = specs[i];
      const FlowLog& fl = corpus.flow_logs[spec.flow_log];
      const Account& account = corpus.accounts[fl.account];
      Rng rng(Mix(options.seed, 0x6f626a00 + i));
      text.Clear();
      ObjectWriter writer(account, fl, rng, text);
      writer.Header();
      const size_t target = static_cast<size_t>(bytes_per_object);
      while (text.size() < target) mine.records += writer.Event(spec.stamp);
      uint64_t compressed = 0;
      fs::path path = fs::path(options.out_dir) / dirs[i] /
                      FileName(account, fl, spec.stamp, rng.Next() & 0xffffffff, options.format);
      Status st;
      if (options.format == GenerateFormat::kParquet) {
        Result<std::string> parquet =
            FlowLogTextToParquet(text.view(), {.codec = options.parquet_codec});
        st = parquet.ok() ? WriteFileAtomically(path, *parquet, /*gzip=*/false, &compressed)
                          : parquet.status();
      } else {
        st = WriteFileAtomically(path, text.view(), /*gzip=*/true, &compressed);
      }
      if (!st.ok()) {
        std::lock_guard lock(mu);
        if (first_error.ok()) first_error = st;
        failed = true;
        break;
      }
      mine.objects++;
      mine.bytes_uncompressed += text.size();
      mine.bytes_compressed += compressed;
    }
    std::lock_guard lock(mu);
    total.objects += mine.objects;
    total.records += mine.records;
    total.bytes_uncompressed += mine.bytes_uncompressed;
    total.bytes_compressed += mine.bytes_compressed;
  };
  int threads = options.threads > 0
                    ? options.threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = static_cast<int>(std::min<size_t>(threads, specs.size()));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (!first_error.ok()) return first_error;
  return total;
}

}  // namespace vpcflow
