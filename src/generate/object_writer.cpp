#include "generate/object_writer.hpp"

#include <cmath>
#include <string>
#include <utility>

namespace vpcflow::generate {
namespace {

enum class Status3 : uint8_t { kOk, kNoData, kSkipData };

struct Record {
  const Host* src = nullptr;
  const Host* dst = nullptr;
  const Local* local = nullptr;
  std::string_view scanner;  // a fresh scanner's address (src is then only its family)
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
  ObjectWriter(const Account& account, const FlowLog& fl, const GenerateShape& shape, Rng& rng,
               TextBuffer& out)
      : account_(account),
        fl_(fl),
        shape_(shape),
        rng_(rng),
        out_(out),
        scanner_salt_(Mix(std::stoull(account.id), 0x7363616e)) {}

  void Header() {
    out_.Reserve(1024);
    out_.Put(kFormats[fl_.format].header);
    out_.Put('\n');
  }

  // Writes one event (1 or 2 lines) ending in [stamp, stamp + stamp_minutes). Returns the line
  // count.
  int Event(int64_t stamp) {
    Record rec;
    rec.end = stamp + rng_.Below(60 * static_cast<uint32_t>(shape_.stamp_minutes));
    rec.start = rec.end - StartLag();
    rec.local = NextInterface();
    const Host& local = account_.hosts[rec.local->host];
    const int fam = local.v6;
    double kind = rng_.Unit();
    if (kind < shape_.nodata) {
      rec.status = rng_.Chance(0.8) ? Status3::kNoData : Status3::kSkipData;
      Write(rec);
      return 1;
    }
    if (kind < shape_.nodata + shape_.scans) {  // a scanner probing the interface, refused
      const auto& ext =
          account_.external[fam].empty() ? account_.family[fam] : account_.external[fam];
      const auto& zipf =
          account_.external[fam].empty() ? account_.family_zipf[fam] : account_.external_zipf[fam];
      rec.src = &account_.hosts[ext[zipf.Sample(rng_)]];
      if (shape_.scanners > 0) {
        // Scanner i of the account: its address drawn from a generator of its own.
        Rng scanner(Mix(scanner_salt_, rng_.Below(static_cast<uint32_t>(shape_.scanners))));
        scanner_len_ = FormatIpAddress(RandomPublicAddress(scanner, rec.src->v6), scanner_);
        rec.scanner = std::string_view(scanner_, scanner_len_);
      }
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
  uint16_t Ephemeral() {
    const auto low = static_cast<uint32_t>(shape_.ephemeral_min);
    return static_cast<uint16_t>(low + rng_.Below(65536 - low));
  }
  uint64_t Packets() {
    // Pareto-like tail: most flows are a few packets, a few are huge.
    double p = std::pow(rng_.Unit(), -1.0 / 1.1);
    return p > 5e6 ? 5000000 : static_cast<uint64_t>(p);
  }
  const Host* PickPeer(int fam, uint32_t self) {
    const auto& pool = account_.family[fam];
    if (pool.size() < 2) return nullptr;
    if (shape_.peers > 0) {
      // The interface's own peers: slot k names pool[Mix(self, k) % size].
      for (uint64_t k = rng_.Below(static_cast<uint32_t>(shape_.peers));; k += 0x10000) {
        const uint32_t h = pool[Mix(self, k) % pool.size()];
        if (h != self) return &account_.hosts[h];
      }
    }
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
          if (ok && !rec.scanner.empty()) {
            out_.Put(rec.scanner);
          } else {
            PutAddress(ok ? rec.src : nullptr, f == Field::kSrcAddr ? rec.src_spelling : 0);
          }
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
  const GenerateShape& shape_;
  Rng& rng_;
  TextBuffer& out_;
  // The event's interface: the previous event's with chance shape_.interface_runs, else drawn
  // from the flow log's Zipf law (whose distribution the runs keep).
  const Local* NextInterface() {
    if (shape_.interface_runs > 0 && previous_ != nullptr && rng_.Chance(shape_.interface_runs)) {
      return previous_;
    }
    previous_ = &account_.locals[fl_.locals[fl_.local_zipf.Sample(rng_)]];
    return previous_;
  }

  uint64_t scanner_salt_;
  const Local* previous_ = nullptr;
  char scanner_[kMaxIpTextLength];
  size_t scanner_len_ = 0;
};

}  // namespace

uint64_t WriteObjectText(const Account& account, const FlowLog& fl, const GenerateShape& shape,
                         int64_t stamp, size_t target_bytes, Rng& rng, TextBuffer& out) {
  ObjectWriter writer(account, fl, shape, rng, out);
  writer.Header();
  uint64_t records = 0;
  while (out.size() < target_bytes) records += writer.Event(stamp);
  return records;
}

}  // namespace vpcflow::generate
