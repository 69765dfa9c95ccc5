#pragma once
/// The generator's traffic model: accounts with their hosts (IPv4 and IPv6, in several
/// spellings) and interfaces, flow logs with their record formats, and the Zipf laws that make
/// some talkers and ports heavy. Built once per corpus from the options' seed (BuildCorpus), then
/// read by the object writers on many threads (const after building).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "flowlog/address.hpp"
#include "flowlog/format.hpp"
#include "generate/generator.hpp"
#include "generate/random.hpp"

namespace vpcflow::generate {

/// Objects are stamped every 5 minutes by default (GenerateShape::stamp_minutes), as AWS
/// delivers them.
inline constexpr int64_t kStampSeconds = 300;

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
inline constexpr FormatSpec kFormats[] = {
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
inline constexpr int kFormatCount = sizeof(kFormats) / sizeof(kFormats[0]);

// Well-known server ports, most popular first (sampled with a Zipf law).
inline constexpr uint16_t kServerPorts[] = {443,  80,   53,   22,    3306, 5432, 6379, 8080,  123,
                                            8443, 9092, 2049, 27017, 25,   3389, 5439, 11211, 9200,
                                            6443, 389,  636,  1433,  5672, 9000, 8000, 2379,  4222};
inline constexpr uint16_t kScanPorts[] = {22,   23,   3389, 445, 1433, 8080,
                                          5900, 3306, 80,   443, 21,   25};

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

inline constexpr size_t kHexIdLength = 17;

struct Corpus {
  std::vector<Account> accounts;
  std::vector<FlowLog> flow_logs;
};

/// A public IPv4 address, or an IPv6 one with zero runs, drawn from `rng`.
IpAddress RandomPublicAddress(Rng& rng, bool v6);

/// The accounts and flow logs of `options` (seed, accounts, hosts); the same options give the
/// same corpus.
Corpus BuildCorpus(const GenerateOptions& options);

}  // namespace vpcflow::generate
