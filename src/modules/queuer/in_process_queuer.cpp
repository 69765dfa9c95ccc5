// The in-process queue: a Queuer over a WorkerPool (worker_pool.hpp), its own or the service's.
#include "modules/queuer/worker_pool.hpp"

namespace vpcflow {
namespace {

class WorkerPoolQueuer final : public Queuer {
 public:
  explicit WorkerPoolQueuer(WorkerPool* pool, std::unique_ptr<WorkerPool> owned = nullptr)
      : owned_(std::move(owned)), pool_(pool) {}
  ~WorkerPoolQueuer() override { pool_->Shutdown(0); }

  void SetHandler(JobHandler handler) override { pool_->SetHandler(std::move(handler)); }
  Status Queue(const Job& job) override { return pool_->Resubmit(job); }
  std::vector<Job> Shutdown(int64_t grace_ms) override { return pool_->Shutdown(grace_ms); }
  std::string Describe() const override { return "in-process (" + pool_->Describe() + ")"; }

 private:
  std::unique_ptr<WorkerPool> owned_;
  WorkerPool* pool_;
};

}  // namespace

QueuerPtr NewWorkerPoolQueuer(WorkerPool* pool) { return std::make_unique<WorkerPoolQueuer>(pool); }

QueuerPtr NewInProcessQueuer(int workers, size_t capacity) {
  auto pool =
      std::make_unique<WorkerPool>(WorkerPoolOptions{.workers = workers, .capacity = capacity});
  WorkerPool* raw = pool.get();
  return std::make_unique<WorkerPoolQueuer>(raw, std::move(pool));
}

}  // namespace vpcflow
