// An example of embedding vpcflow-digesterd with a module of your own: a Storage that keeps
// the default file store and also writes a copy of every digest into MIRROR_DIR (a backup
// mount, say). Everything else (configuration, API, queue, markers) is the default.
//
//   MIRROR_DIR=/backup/digests DATA_DIR=var vpcflow-custom-storage
//
// The pattern: derive from StorageWrapper (every call forwards to the wrapped store) and
// override only what changes; set the module on the Service before Run().

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "vpcflow/byte_sink.hpp"
#include "vpcflow/service.hpp"
#include "vpcflow/storage.hpp"

namespace {

// Writes every byte to the upload's body and to the copy.
class TeeSink final : public vpcflow::ByteSink {
 public:
  TeeSink(vpcflow::ByteSink& primary, vpcflow::ByteSink& copy) : primary_(primary), copy_(copy) {}
  vpcflow::Status Append(std::string_view bytes) override {
    VPCFLOW_RETURN_IF_ERROR(primary_.Append(bytes));
    return copy_.Append(bytes);
  }
  // The upload's body is closed by its Commit(); only the copy is closed here.
  vpcflow::Status Close() override { return copy_.Close(); }

 private:
  vpcflow::ByteSink& primary_;
  vpcflow::ByteSink& copy_;
};

// An upload to the wrapped store whose bytes are also written to `<mirror>/.<id>.log.gz.tmp`,
// renamed to `<mirror>/<id>.log.gz` once the wrapped store committed.
class MirroredUpload final : public vpcflow::StorageUpload {
 public:
  MirroredUpload(vpcflow::StorageUploadPtr upload, vpcflow::ByteSinkPtr copy, std::string tmp,
                 std::string path)
      : upload_(std::move(upload)),
        copy_(std::move(copy)),
        tee_(upload_->body(), *copy_),
        tmp_(std::move(tmp)),
        path_(std::move(path)) {}
  ~MirroredUpload() override {
    std::error_code ec;
    if (!tmp_.empty()) std::filesystem::remove(tmp_, ec);  // not committed: no copy
  }

  vpcflow::ByteSink& body() override { return tee_; }

  vpcflow::Status Commit(std::string_view manifest_json) override {
    VPCFLOW_RETURN_IF_ERROR(copy_->Close());
    VPCFLOW_RETURN_IF_ERROR(upload_->Commit(manifest_json));
    std::error_code ec;
    std::filesystem::rename(tmp_, path_, ec);
    if (ec) return vpcflow::UnavailableError("mirror " + path_ + ": " + ec.message());
    tmp_.clear();
    return vpcflow::OkStatus();
  }

 private:
  vpcflow::StorageUploadPtr upload_;
  vpcflow::ByteSinkPtr copy_;
  TeeSink tee_;
  std::string tmp_;
  std::string path_;
};

class MirroredStorage final : public vpcflow::StorageWrapper {
 public:
  MirroredStorage(vpcflow::StoragePtr primary, std::string mirror_dir)
      : StorageWrapper(primary.get()), primary_(std::move(primary)), mirror_(mirror_dir) {}

  vpcflow::Result<vpcflow::StorageUploadPtr> Begin(std::string_view id) override {
    VPCFLOW_ASSIGN_OR_RETURN(vpcflow::StorageUploadPtr upload, StorageWrapper::Begin(id));
    const std::string path = mirror_ + "/" + std::string(id) + ".log.gz";
    const std::string tmp = mirror_ + "/." + std::string(id) + ".log.gz.tmp";
    VPCFLOW_ASSIGN_OR_RETURN(vpcflow::ByteSinkPtr copy, vpcflow::NewFileSink(tmp));
    return vpcflow::StorageUploadPtr(
        std::make_unique<MirroredUpload>(std::move(upload), std::move(copy), tmp, path));
  }

  std::string Describe() const override {
    return StorageWrapper::Describe() + " + mirror:" + mirror_;
  }

 private:
  vpcflow::StoragePtr primary_;
  std::string mirror_;
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "vpcflow-custom-storage: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main() {
  vpcflow::Result<vpcflow::Config> config =
      vpcflow::ConfigFromEnvironment(vpcflow::EnvironmentMap());
  if (!config.ok()) return Fail(config.status().message());

  const char* mirror_env = std::getenv("MIRROR_DIR");
  const std::string mirror =
      mirror_env != nullptr && *mirror_env != '\0' ? mirror_env : config->data_dir + "/mirror";
  const std::string digests =
      config->digest_dir.empty() ? config->data_dir + "/digests" : config->digest_dir;
  std::error_code ec;
  std::filesystem::create_directories(mirror, ec);
  if (ec) return Fail("MIRROR_DIR: cannot create " + mirror + ": " + ec.message());
  vpcflow::Result<vpcflow::StoragePtr> primary = vpcflow::NewFileStorage(digests);
  if (!primary.ok()) return Fail(primary.status().message());

  vpcflow::Service service(*config);
  service.SetStorage(std::make_unique<MirroredStorage>(std::move(primary).value(), mirror));
  vpcflow::Status st = service.Run();
  if (!st.ok()) return Fail(st.message());
  return 0;
}
