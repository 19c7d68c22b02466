// ngsdk loader: the error type every reader returns (no exceptions, so engines that build without
// them, Unreal among them, can use the library as is).
#pragma once

#include <string>
#include <utility>

namespace ngsdk {

// Success, or one problem with the file it concerns. `what()` is one line "<file>: <problem>",
// the same shape as ngsdk's Python AssetError.
class Status {
public:
    Status() = default;
    static Status ok() { return Status(); }
    static Status fail(std::string file, std::string problem) {
        Status s;
        s.failed_ = true;
        s.file_ = std::move(file);
        s.problem_ = std::move(problem);
        return s;
    }
    explicit operator bool() const { return !failed_; }
    bool is_ok() const { return !failed_; }
    const std::string& file() const { return file_; }
    const std::string& problem() const { return problem_; }
    std::string what() const {
        if (!failed_) return "ok";
        return file_.empty() ? problem_ : file_ + ": " + problem_;
    }

private:
    bool failed_ = false;
    std::string file_;
    std::string problem_;
};

}  // namespace ngsdk

#define NGSDK_TRY(expr)                          \
    do {                                         \
        ::ngsdk::Status ngsdk_try_status_ = (expr); \
        if (!ngsdk_try_status_) return ngsdk_try_status_; \
    } while (0)
