// A minimal test harness: TEST(name) { CHECK(...); } registered at static-init time.
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace ngtest {

struct Case {
    const char* name;
    std::function<void()> fn;
};
std::vector<Case>& registry();
extern int failures_in_case;

struct Register {
    Register(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};

void report(const char* file, int line, const std::string& what);

}  // namespace ngtest

#define NGT_CAT2(a, b) a##b
#define NGT_CAT(a, b) NGT_CAT2(a, b)
#define TEST(name)                                                                  \
    static void NGT_CAT(test_, name)();                                             \
    static ngtest::Register NGT_CAT(reg_, name)(#name, NGT_CAT(test_, name));       \
    static void NGT_CAT(test_, name)()

#define CHECK(cond)                                                  \
    do {                                                             \
        if (!(cond)) ngtest::report(__FILE__, __LINE__, "CHECK(" #cond ")"); \
    } while (0)

#define CHECK_EQ(a, b)                                                                               \
    do {                                                                                             \
        auto ngt_a = (a);                                                                            \
        auto ngt_b = (b);                                                                            \
        if (!(ngt_a == ngt_b))                                                                       \
            ngtest::report(__FILE__, __LINE__, "CHECK_EQ(" #a ", " #b ")");                          \
    } while (0)

// The status must fail and its message contain `needle`.
#define CHECK_FAILS_WITH(status_expr, needle)                                                          \
    do {                                                                                               \
        ::ngsdk::Status ngt_s = (status_expr);                                                         \
        if (ngt_s) ngtest::report(__FILE__, __LINE__, "expected failure containing '" + std::string(needle) + "'"); \
        else if (ngt_s.what().find(needle) == std::string::npos)                                       \
            ngtest::report(__FILE__, __LINE__, "error '" + ngt_s.what() + "' lacks '" + std::string(needle) + "'"); \
    } while (0)

#define CHECK_OK(status_expr)                                                                \
    do {                                                                                     \
        ::ngsdk::Status ngt_s = (status_expr);                                               \
        if (!ngt_s) ngtest::report(__FILE__, __LINE__, "unexpected error: " + ngt_s.what()); \
    } while (0)
