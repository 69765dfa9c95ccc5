// The engine against a deliberately simple reference digest written here: std::map, one thread,
// an istringstream tokenizer, inet_pton/inet_ntop, zlib for gzip, std::get_time for file names.
// Both digest generated corpora and random builder objects; their flowlog outputs must be equal.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "digest/test_records.hpp"
#include "generate/generator.hpp"
#include "testing/flow_log_builder.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_object_source.hpp"
#include "testing/reader.hpp"
#include "vpcflow/digest.hpp"

namespace vpcflow {
namespace {

namespace fs = std::filesystem;

// ---- The reference ----

const std::vector<std::string> kDefaultColumns = {
    "version",  "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
    "protocol", "packets",    "bytes",        "start",   "end",     "action",  "log-status"};

std::string Gunzip(const std::string& in, bool* ok) {
  std::string out;
  z_stream z{};
  *ok = inflateInit2(&z, 15 + 16) == Z_OK;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char buf[65536];
  while (*ok) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    const int r = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - z.avail_out);
    if (r == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      inflateReset(&z);  // another gzip member follows
    } else if (r != Z_OK) {
      *ok = false;
    }
  }
  inflateEnd(&z);
  return out;
}

bool AllDigits(const std::string& s) {
  return !s.empty() && s.size() <= 19 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool Normalise(const std::string& text, std::string* out) {
  unsigned char bin[16];
  char buf[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, text.c_str(), bin) == 1) {
    *out = inet_ntop(AF_INET, bin, buf, sizeof(buf));
    return true;
  }
  if (text.find('%') == std::string::npos && inet_pton(AF_INET6, text.c_str(), bin) == 1) {
    *out = inet_ntop(AF_INET6, bin, buf, sizeof(buf));
    return true;
  }
  return false;
}

bool IsHeader(const std::vector<std::string>& tokens) {
  bool known = false;
  for (const std::string& t : tokens) {
    if (t.empty() || t[0] < 'a' || t[0] > 'z') return false;
    for (char c : t) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
    }
    std::string dashed = t;
    std::replace(dashed.begin(), dashed.end(), '_', '-');
    known = known || std::count(kDefaultColumns.begin(), kDefaultColumns.end(), dashed) > 0;
  }
  return known;
}

using RefKey = std::tuple<std::string, std::string, std::string, std::string, uint64_t, uint64_t,
                          uint64_t, std::string>;
struct RefValue {
  uint64_t packets = 0, bytes = 0, flows = 0;
  int64_t start = INT64_MAX, end = INT64_MIN;
};
struct Reference {
  std::map<RefKey, RefValue> rows;
  uint64_t used = 0;
};

void ReferenceObject(const std::string& text, const Window& w, Reference* ref) {
  std::istringstream lines(text);
  std::vector<std::string> columns = kDefaultColumns;
  std::string line;
  for (bool first = true; std::getline(lines, line); first = false) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream in(line);
    std::vector<std::string> tokens;
    for (std::string t; in >> t;) tokens.push_back(t);
    if (first && IsHeader(tokens)) {
      columns = tokens;
      for (auto& c : columns) std::replace(c.begin(), c.end(), '_', '-');
      continue;
    }
    if (tokens.size() != columns.size()) continue;
    std::map<std::string, std::string> f;
    for (size_t i = columns.size(); i-- > 0;) f[columns[i]] = tokens[i];  // first column wins
    auto get = [&](const char* name) { return f.count(name) ? f[name] : std::string("-"); };
    if (get("log-status") != "OK" && get("log-status") != "-") continue;
    std::string src, dst;
    if (!Normalise(get("srcaddr"), &src) || !Normalise(get("dstaddr"), &dst)) continue;
    for (const char* n : {"srcport", "dstport", "protocol", "start", "end"}) {
      if (!AllDigits(get(n))) goto next_line;
    }
    {
      uint64_t sport = std::stoull(get("srcport")), dport = std::stoull(get("dstport"));
      const uint64_t proto = std::stoull(get("protocol"));
      auto time = [](uint64_t t) { return static_cast<int64_t>(t > 100000000000 ? t / 1000 : t); };
      const int64_t start = time(std::stoull(get("start"))), end = time(std::stoull(get("end")));
      if (sport > 65535 || dport > 65535 || proto > 255 || end < start) continue;
      uint64_t packets = 0, bytes = 0;
      if (get("packets") != "-") {
        if (!AllDigits(get("packets"))) continue;
        packets = std::stoull(get("packets"));
      }
      if (get("bytes") != "-") {
        if (!AllDigits(get("bytes"))) continue;
        bytes = std::stoull(get("bytes"));
      }
      const std::string action = get("action");
      if (action != "-" && action != "ACCEPT" && action != "REJECT") continue;
      if (!(end >= w.start && start < w.stop)) continue;
      if (sport < dport) {
        dport = 0;
      } else {
        sport = 0;
      }
      RefValue& v = ref->rows[RefKey{get("account-id"), get("interface-id"), src, dst, sport, dport,
                                     proto, action}];
      v.packets += packets;
      v.bytes += bytes;
      v.flows += 1;
      v.start = std::min(v.start, start);
      v.end = std::max(v.end, end);
      ++ref->used;
    }
  next_line:;
  }
}

// The file stamp (Unix seconds) of a flow-log text object's key and whether it is gzipped, read
// naively: "<acct>_vpcflowlogs_<region>_<fl-id>_<YYYYMMDDTHHmmZ>_<hash>.log[.gz]". False for
// other keys.
bool ParseName(const std::string& key, int64_t* stamp, bool* gz) {
  std::string name = key.substr(key.rfind('/') + 1);
  *gz = name.ends_with(".log.gz");
  if (!*gz && !name.ends_with(".log")) return false;
  std::vector<std::string> parts;
  std::istringstream in(name);
  for (std::string part; std::getline(in, part, '_');) parts.push_back(part);
  if (parts.size() != 6 || parts[1] != "vpcflowlogs" || parts[4].size() != 14) return false;
  std::tm tm{};
  std::istringstream time(parts[4]);
  time >> std::get_time(&tm, "%Y%m%dT%H%MZ");
  if (time.fail()) return false;
  *stamp = timegm(&tm);
  return true;
}

// Lists the whole source and reads every flow-log text object whose file stamp is in
// [floor5(start) - 5 min, stop + 15 min).
Reference ReferenceDigest(ObjectSource& source, const Window& w) {
  Reference ref;
  Result<ListPage> all = ListAll(source, ListRequest{});
  if (!all.ok()) return ref;
  const int64_t begin = w.start - (w.start % 300) - 300;
  const int64_t end = w.stop + 900;
  for (const ObjectInfo& o : all->objects) {
    int64_t stamp = 0;
    bool gz = false;
    if (!ParseName(o.key, &stamp, &gz) || stamp < begin || stamp >= end) continue;
    Result<std::string> read = ReadObject(source, o.key);
    if (!read.ok()) continue;
    std::string bytes = *std::move(read);
    bool ok = true;
    if (gz) bytes = Gunzip(bytes, &ok);
    if (ok) ReferenceObject(bytes, w, &ref);
  }
  return ref;
}

std::string ReferenceFlowLog(const Reference& ref) {
  std::vector<std::pair<uint64_t, std::string>> rows;
  for (const auto& [k, v] : ref.rows) {
    std::ostringstream line;
    line << "2 " << std::get<0>(k) << ' ' << std::get<1>(k) << ' ' << std::get<2>(k) << ' '
         << std::get<3>(k) << ' ' << std::get<4>(k) << ' ' << std::get<5>(k) << ' '
         << std::get<6>(k) << ' ' << v.packets << ' ' << v.bytes << ' ' << v.start << ' ' << v.end
         << ' ' << std::get<7>(k) << " OK";
    rows.emplace_back(v.bytes, line.str());
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::string out;
  for (const auto& r : rows) out += r.second + "\n";
  return out;
}

// ---- The properties ----

void ExpectSameAsReference(ObjectSource& source, const Window& w, int threads) {
  SCOPED_TRACE("window " + FormatRfc3339(w.start) + " .. " + FormatRfc3339(w.stop) + ", threads " +
               std::to_string(threads));
  DigestOptions options;
  options.threads = threads;
  Result<DigestRun> run = RunDigest(source, w, options);
  ASSERT_OK(run);
  const Reference ref = ReferenceDigest(source, w);
  EXPECT_EQ(run->summary.keys, ref.rows.size());
  EXPECT_EQ(run->summary.line_count(LineOutcome::kUsed), ref.used);
  const std::string engine = testing_records::EncodeToString(run->digest, DigestFormat::kFlowLog);
  const std::string reference = ReferenceFlowLog(ref);
  EXPECT_GT(ref.rows.size(), 0u);
  // Compare sizes first: a full diff of megabytes of text is unreadable.
  ASSERT_EQ(engine.size(), reference.size());
  EXPECT_TRUE(engine == reference)
      << "first difference at byte "
      << std::mismatch(engine.begin(), engine.end(), reference.begin()).first - engine.begin();
}

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("vpcflow_property_" + std::to_string(getpid()) + "_" + std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

constexpr int64_t kT0 = 1546300800;  // 2019-01-01T00:00:00Z

struct CorpusCase {
  uint64_t seed;
  GenerateLayout layout;
  int accounts;
  int hosts;
};

class GeneratedCorpusTest : public ::testing::TestWithParam<CorpusCase> {};

TEST_P(GeneratedCorpusTest, EngineEqualsReference) {
  const CorpusCase& c = GetParam();
  TempDir dir;
  GenerateOptions g;
  g.out_dir = dir.path();
  g.window = {kT0 + 23 * 3600, kT0 + 25 * 3600};  // crosses midnight
  g.size_mb = 3;
  g.accounts = c.accounts;
  g.hosts = c.hosts;
  g.layout = c.layout;
  g.seed = c.seed;
  g.threads = 2;
  ASSERT_OK(GenerateCorpus(g));
  Result<ObjectSourcePtr> source = NewLocalDirSource(dir.path());
  ASSERT_OK(source);
  const Window whole = g.window;
  ExpectSameAsReference(**source, whole, 2);
  ExpectSameAsReference(**source, Window{kT0 + 23 * 3600 + 420, kT0 + 24 * 3600 + 60}, 3);
  ExpectSameAsReference(**source, Window{kT0 + 24 * 3600 + 1800, kT0 + 24 * 3600 + 1860}, 1);
}

INSTANTIATE_TEST_SUITE_P(Seeds, GeneratedCorpusTest,
                         ::testing::Values(CorpusCase{1, GenerateLayout::kDaily, 3, 300},
                                           CorpusCase{2, GenerateLayout::kHourly, 2, 50},
                                           CorpusCase{3, GenerateLayout::kHive, 4, 2000}));

// Random objects from the builder: random field orders and subsets, '-' values, both address
// families in several spellings, statuses, bad lines, times around the window's edges.
std::string RandomObject(std::mt19937_64& rng) {
  std::vector<Field> fields = FlowFormat::Default().columns();
  std::shuffle(fields.begin(), fields.end(), rng);
  for (Field optional : {Field::kAccountId, Field::kInterfaceId, Field::kPackets, Field::kBytes,
                         Field::kAction, Field::kLogStatus, Field::kVersion}) {
    if (rng() % 4 == 0) fields.erase(std::find(fields.begin(), fields.end(), optional));
  }
  if (rng() % 2) fields.insert(fields.begin() + rng() % fields.size(), Field::kTcpFlags);
  const bool header = rng() % 5 != 0;
  FlowLogBuilder b = header ? FlowLogBuilder(fields) : FlowLogBuilder();
  if (!header) b.WithoutHeader();
  auto pick = [&](std::initializer_list<const char*> options) {
    return std::string(options.begin()[rng() % options.size()]);
  };
  const int records = 1 + static_cast<int>(rng() % 300);
  for (int i = 0; i < records; ++i) {
    if (rng() % 40 == 0) {
      b.AddRaw(pick({"", "garbage", "2 1 2 3", "   "}));
      continue;
    }
    const int64_t start = kT0 - 400 + static_cast<int64_t>(rng() % 4400);
    std::map<Field, std::string> v = {
        {Field::kAccountId, pick({"123456789012", "210987654321", "-"})},
        {Field::kInterfaceId, pick({"eni-1", "eni-22", "eni-0a1b2c3d", "-"})},
        {Field::kSrcAddr, pick({"10.0.0.1", "10.0.0.10", "2001:db8::1", "2001:DB8:0:0:0:0:0:1",
                                "::ffff:10.0.0.1", "172.16.3.4"})},
        {Field::kDstAddr, pick({"10.0.0.2", "2a02:cf40::", "2a02:cf40:0:0:0:0:0:0", "8.8.8.8"})},
        {Field::kSrcPort, pick({"443", "53", "50000", "0", "22"})},
        {Field::kDstPort, pick({"443", "53", "61000", "0", "3389"})},
        {Field::kProtocol, pick({"6", "17", "1"})},
        {Field::kPackets, std::to_string(rng() % 20)},
        {Field::kBytes, rng() % 10 == 0 ? "-" : std::to_string(rng() % 5 * 40)},
        {Field::kStart, std::to_string(start)},
        {Field::kEnd, std::to_string(start + static_cast<int64_t>(rng() % 120))},
        {Field::kAction, pick({"ACCEPT", "REJECT", "-"})},
        {Field::kLogStatus, pick({"OK", "OK", "OK", "NODATA", "SKIPDATA", "-"})},
    };
    b.Add(v);
  }
  return rng() % 3 ? b.Gzip() : b.Text();
}

TEST(RandomObjectsTest, EngineEqualsReference) {
  for (uint64_t seed : {11u, 12u, 13u, 14u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    MemoryObjectSource source;
    for (int i = 0; i < 30; ++i) {
      const int minute = static_cast<int>(rng() % 12) * 5;
      char name[160];
      std::snprintf(name, sizeof(name),
                    "AWSLogs/123456789012/vpcflowlogs/eu-west-1/2019/01/01/"
                    "123456789012_vpcflowlogs_eu-west-1_fl-%d_20190101T00%02dZ_%08x",
                    i % 3, minute, i);
      std::string body = RandomObject(rng);
      const bool gz = body.size() >= 2 && body[0] == '\x1f' && body[1] == '\x8b';
      source.Put(std::string(name) + (gz ? ".log.gz" : ".log"), std::move(body));
    }
    ExpectSameAsReference(source, Window{kT0, kT0 + 3600}, 2);
    ExpectSameAsReference(source, Window{kT0 + 600, kT0 + 1200}, 4);
  }
}

}  // namespace
}  // namespace vpcflow
