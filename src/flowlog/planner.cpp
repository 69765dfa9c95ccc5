#include "flowlog/planner.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string_view>
#include <vector>

#include "common/civil_time.hpp"
#include "common/run_on_threads.hpp"
#include "flowlog/object_key.hpp"

namespace vpcflow {
namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kHour = 3600;

std::vector<int64_t> StepsTouched(const StampRange& range, int64_t step) {
  std::vector<int64_t> out;
  if (range.end <= range.begin) return out;
  for (int64_t t = FloorTo(range.begin, step); t < range.end; t += step) out.push_back(t);
  return out;
}

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
}

// The last segment of a common prefix ("a/b/c/" -> "c").
std::string_view FolderName(std::string_view prefix) {
  if (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  return prefix.substr(prefix.rfind('/') + 1);
}

bool ConsumePrefix(std::string_view* s, std::string_view prefix) {
  if (s->substr(0, prefix.size()) != prefix) return false;
  s->remove_prefix(prefix.size());
  return true;
}

// One region folder to walk, in either layout family.
struct RegionFolder {
  std::string path;  // ends with '/'
  bool hive = false;
};

class Walker {
 public:
  Walker(ObjectSource& source, const StampRange& range, const ScanOptions& scan)
      : source_(source), range_(range), scan_(scan) {}

  Status Run() {
    std::string root = scan_.prefix;
    if (!root.empty() && root.back() != '/') root += '/';
    root += "AWSLogs/";
    ListPage accounts;
    VPCFLOW_RETURN_IF_ERROR(List(root, &accounts));
    if (accounts.common_prefixes.empty() && accounts.objects.empty()) return NoAwsLogs(root);
    std::vector<RegionFolder> regions;
    for (const std::string& account_dir : accounts.common_prefixes) {
      std::string_view account = FolderName(account_dir);
      bool hive = ConsumePrefix(&account, "aws-account-id=");
      if (!Contains(scan_.accounts, account)) continue;
      ListPage services;
      VPCFLOW_RETURN_IF_ERROR(List(account_dir, &services));
      for (const std::string& service_dir : services.common_prefixes) {
        std::string_view service = FolderName(service_dir);
        bool wanted =
            hive ? (service == "aws-service=vpcflowlogs" || service == "service=vpcflowlogs")
                 : service == "vpcflowlogs";
        if (!wanted) continue;
        ListPage region_page;
        VPCFLOW_RETURN_IF_ERROR(List(service_dir, &region_page));
        for (const std::string& region_dir : region_page.common_prefixes) {
          std::string_view region = FolderName(region_dir);
          if (hive && !ConsumePrefix(&region, "aws-region=")) continue;
          if (!Contains(scan_.regions, region)) continue;
          regions.push_back({region_dir, hive});
        }
      }
    }
    VPCFLOW_RETURN_IF_ERROR(WalkDays(regions));
    std::sort(plan_.objects.begin(), plan_.objects.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    std::sort(plan_.problems.begin(), plan_.problems.end(),
              [](const ObjectProblem& a, const ObjectProblem& b) { return a.key < b.key; });
    plan_.objects.erase(
        std::unique(plan_.objects.begin(), plan_.objects.end(),
                    [](const ObjectInfo& a, const ObjectInfo& b) { return a.key == b.key; }),
        plan_.objects.end());
    return OkStatus();
  }

  ObjectPlan& plan() { return plan_; }

 private:
  // The error for a source without `root` ("<prefix>AWSLogs/"): what the prefix holds instead,
  // or, when it holds nothing either, what the root holds.
  Status NoAwsLogs(const std::string& root) {
    const std::string prefix = root.substr(0, root.size() - std::string_view("AWSLogs/").size());
    const std::string where = prefix.empty() ? "at the root" : "under \"" + prefix + "\"";
    std::string message = "no AWSLogs/ folder found " + where;
    VPCFLOW_ASSIGN_OR_RETURN(std::string here, Holds(prefix));
    if (!here.empty())
      return NotFoundError(message + ", which holds " + here + " (is the prefix right?)");
    if (prefix.empty()) return NotFoundError(message + ": the source is empty");
    VPCFLOW_ASSIGN_OR_RETURN(std::string top, Holds(""));
    if (top.empty()) return NotFoundError(message + ": the source is empty");
    return NotFoundError(message + ", which is empty; the root holds " + top +
                         " (is the prefix right?)");
  }

  // The first few folders and objects directly under `prefix`, as "a/, b/, c.txt, ...".
  Result<std::string> Holds(const std::string& prefix) {
    constexpr int kShown = 5;
    ListRequest request;
    request.prefix = prefix;
    request.delimiter.push_back('/');
    request.max_keys = kShown + 1;
    ++plan_.list_requests;
    Result<ListPage> page = source_.List(request);
    if (!page.ok()) return page.status().WithContext("listing " + prefix);
    std::vector<std::pair<std::string, std::string>> names;  // name, what is wrong with it
    for (const std::string& folder : page->common_prefixes) names.emplace_back(folder, "");
    for (const ObjectInfo& object : page->objects) {
      names.emplace_back(object.key, object.problem.empty() ? "" : " (" + object.problem + ")");
    }
    std::sort(names.begin(), names.end());
    std::string out;
    for (size_t i = 0; i < names.size() && i < kShown; ++i) {
      if (i > 0) out += ", ";
      out += "\"" + names[i].first.substr(prefix.size()) + "\"" + names[i].second;
    }
    if (names.size() > kShown || !page->next_token.empty()) out += ", ...";
    return out;
  }

  Status List(const std::string& prefix, ListPage* page, bool files_expected = false) {
    ListRequest request;
    request.prefix = prefix;
    request.delimiter.push_back('/');  // not `= "/"`: GCC 12 warns falsely (-Wrestrict)
    // Count every page: ListAll follows continuation tokens through this wrapper.
    CountingSource counting(source_, &plan_.list_requests);
    Result<ListPage> result = ListAll(counting, std::move(request));
    if (!result.ok()) return result.status().WithContext("listing " + prefix);
    *page = std::move(result).value();
    plan_.listed += page->objects.size();
    // Objects above the day folders cannot be flow-log objects.
    if (!files_expected) plan_.ignored += page->objects.size();
    return OkStatus();
  }

  // Walks every (region, day) folder, up to scan_.list_concurrency at once, each into a plan of
  // its own; the plans are merged in task order. A failure stops the walk and is returned.
  Status WalkDays(const std::vector<RegionFolder>& regions) {
    const std::vector<int64_t> days = StepsTouched(range_, kDay);
    const std::vector<int64_t> hours = StepsTouched(range_, kHour);
    struct Task {
      const RegionFolder* region;
      int64_t day;
      std::unique_ptr<Walker> walker;
      Status status;
    };
    std::vector<Task> tasks;
    for (const RegionFolder& region : regions) {
      for (int64_t day : days) {
        tasks.push_back({&region, day, std::make_unique<Walker>(source_, range_, scan_), {}});
      }
    }
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    auto work = [&] {
      for (size_t i = next++; i < tasks.size() && !failed; i = next++) {
        Task& task = tasks[i];
        task.status = task.walker->WalkDay(*task.region, task.day, hours);
        if (!task.status.ok()) failed = true;
      }
    };
    const size_t threads =
        std::min<size_t>(tasks.size(), static_cast<size_t>(std::max(1, scan_.list_concurrency)));
    RunOnThreads(threads, [&work](size_t) { work(); });
    for (Task& task : tasks) {
      const ObjectPlan& part = task.walker->plan();
      plan_.list_requests += part.list_requests;
      VPCFLOW_RETURN_IF_ERROR(task.status);
      plan_.listed += part.listed;
      plan_.ignored += part.ignored;
      plan_.out_of_range += part.out_of_range;
      plan_.parquet += part.parquet;
      plan_.empty += part.empty;
      plan_.objects.insert(plan_.objects.end(), part.objects.begin(), part.objects.end());
      plan_.problems.insert(plan_.problems.end(), part.problems.begin(), part.problems.end());
    }
    return OkStatus();
  }

  // Lists one day folder: its files (daily layout) and the touched hour folders in it.
  Status WalkDay(const RegionFolder& region, int64_t day, const std::vector<int64_t>& hours) {
    CivilTime c = FromUnixSeconds(day);
    char buf[48];
    if (region.hive) {
      std::snprintf(buf, sizeof(buf), "year=%04d/month=%02d/day=%02d/", c.year, c.month, c.day);
    } else {
      std::snprintf(buf, sizeof(buf), "%04d/%02d/%02d/", c.year, c.month, c.day);
    }
    std::string day_dir = region.path + buf;
    ListPage page;
    VPCFLOW_RETURN_IF_ERROR(List(day_dir, &page, /*files_expected=*/true));
    Consider(page.objects);
    for (const std::string& hour_dir : page.common_prefixes) {
      std::string_view hour = FolderName(hour_dir);
      if (region.hive && !ConsumePrefix(&hour, "hour=")) {
        ConsiderFolder(hour_dir);
        continue;
      }
      if (hour.size() != 2 || hour[0] < '0' || hour[0] > '9' || hour[1] < '0' || hour[1] > '9') {
        ConsiderFolder(hour_dir);
        continue;
      }
      int h = (hour[0] - '0') * 10 + (hour[1] - '0');
      if (h > 23 || !std::binary_search(hours.begin(), hours.end(), day + h * kHour)) continue;
      ListPage hour_page;
      VPCFLOW_RETURN_IF_ERROR(List(hour_dir, &hour_page, /*files_expected=*/true));
      Consider(hour_page.objects);
      for (const std::string& folder : hour_page.common_prefixes) ConsiderFolder(folder);
    }
    return OkStatus();
  }

  // A folder named like a flow-log object of the range (in S3, keys under "<name>/"; on a
  // disk, a directory) is named in the problems: someone meant it to be read.
  void ConsiderFolder(const std::string& folder) {
    const std::string key = folder.substr(0, folder.size() - 1);
    std::optional<FlowLogKey> parsed = ParseFlowLogKey(key);
    if (parsed && range_.Contains(parsed->file_time)) {
      plan_.problems.push_back({key, "a folder, not an object", ProblemKind::kNotAFile});
    }
  }

  void Consider(std::vector<ObjectInfo>& objects) {
    for (ObjectInfo& object : objects) {
      std::optional<FlowLogKey> key = ParseFlowLogKey(object.key);
      if (!key) {
        ++plan_.ignored;
      } else if (!range_.Contains(key->file_time)) {
        ++plan_.out_of_range;
      } else if (!object.problem.empty()) {
        plan_.problems.push_back({object.key, std::move(object.problem), ProblemKind::kNotAFile});
      } else if (object.size == 0) {
        ++plan_.empty;
      } else {
        if (key->kind == ObjectKind::kParquet) ++plan_.parquet;
        plan_.objects.push_back(std::move(object));
      }
    }
  }

  // Counts List calls on their way to the source.
  class CountingSource : public ObjectSourceWrapper {
   public:
    CountingSource(ObjectSource& target, uint64_t* count)
        : ObjectSourceWrapper(&target), count_(count) {}
    Result<ListPage> List(const ListRequest& request) override {
      ++*count_;
      return ObjectSourceWrapper::List(request);
    }

   private:
    uint64_t* count_;
  };

  ObjectSource& source_;
  StampRange range_;
  const ScanOptions& scan_;
  ObjectPlan plan_;
};

}  // namespace

StampRange FileStampRange(const Window& window) {
  constexpr int64_t kFiveMinutes = 300;
  return StampRange{.begin = FloorTo(window.start, kFiveMinutes) - kFiveMinutes,
                    .end = window.stop + 3 * kFiveMinutes};
}

std::vector<int64_t> DaysTouched(const StampRange& range) { return StepsTouched(range, kDay); }

std::vector<int64_t> HoursTouched(const StampRange& range) { return StepsTouched(range, kHour); }

Result<ObjectPlan> PlanObjects(ObjectSource& source, const Window& window,
                               const ScanOptions& scan) {
  Walker walker(source, FileStampRange(window), scan);
  VPCFLOW_RETURN_IF_ERROR(walker.Run());
  return std::move(walker.plan());
}

}  // namespace vpcflow
