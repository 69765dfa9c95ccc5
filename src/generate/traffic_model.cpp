#include "generate/traffic_model.hpp"

#include <algorithm>
#include <cctype>
#include <unordered_set>

#include "flowlog/address.hpp"

namespace vpcflow::generate {
namespace {

constexpr const char* kRegions[] = {
    "us-east-1",      "eu-west-1",    "us-west-2", "eu-central-1", "ap-southeast-2",
    "ap-northeast-1", "ca-central-1", "sa-east-1", "eu-north-1",   "ap-south-1"};
constexpr int kRegionCount = sizeof(kRegions) / sizeof(kRegions[0]);

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

}  // namespace

IpAddress RandomPublicAddress(Rng& rng, bool v6) { return v6 ? V6(rng, false) : PublicV4(rng); }

Corpus BuildCorpus(const GenerateOptions& options) {
  Corpus corpus;
  const GenerateShape& shape = options.shape;
  AliasTable port_zipf;
  port_zipf.BuildZipf(std::size(kServerPorts), shape.port_skew);
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
    for (int r = 0; r < shape.regions_per_account; ++r) {
      std::string region = kRegions[(first_region + r * 3) % kRegionCount];
      int count = shape.flow_logs_per_region > 0 ? shape.flow_logs_per_region
                                                 : 1 + static_cast<int>(layout.Below(2));
      for (int f = 0; f < count; ++f) {
        FlowLog fl;
        fl.account = a;
        fl.region = region;
        fl.az_prefix = AzPrefix(region);
        fl.id = HexId("fl-", layout.Next());
        fl.vpc = HexId("vpc-", layout.Next());
        fl.format = shape.default_format_only
                        ? 0
                        : static_cast<int>(corpus.flow_logs.size() % kFormatCount);
        fl.columns = ColumnsOf(kFormats[fl.format].header);
        account_flow_logs.push_back(corpus.flow_logs.size());
        corpus.flow_logs.push_back(std::move(fl));
      }
    }

    Rng rng(Mix(options.seed, 0x686f7374 + static_cast<uint64_t>(a)));
    // Hosts: a fifth of them (or shape.interfaces) are the account's own interfaces, the rest
    // are peers; shape.ipv6 of them (15%) IPv6. Ranks (popularity) follow creation order, which
    // interleaves the kinds.
    const uint32_t n = static_cast<uint32_t>(options.hosts);
    const uint32_t n_fl = static_cast<uint32_t>(account_flow_logs.size());
    const uint32_t wanted = shape.interfaces > 0 ? static_cast<uint32_t>(shape.interfaces) : n / 5;
    uint32_t n_local = std::clamp<uint32_t>(wanted, std::min(n_fl, n - 1), n - 1);
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
    for (uint32_t i = 0; i < n; ++i) v6_count += (v6[i] = rng.Chance(shape.ipv6));
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
      host.services[0] = static_cast<uint8_t>(port_zipf.Sample(rng));
      host.services[1] =
          rng.Chance(0.3) ? static_cast<uint8_t>(port_zipf.Sample(rng)) : host.services[0];
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

}  // namespace vpcflow::generate
