#include <cstdio>

#include "test.h"

namespace ngtest {

std::vector<Case>& registry() {
    static std::vector<Case> cases;
    return cases;
}
int failures_in_case = 0;

void report(const char* file, int line, const std::string& what) {
    ++failures_in_case;
    std::printf("  %s:%d: %s\n", file, line, what.c_str());
}

}  // namespace ngtest

int main(int argc, char** argv) {
    int passed = 0, failed = 0;
    for (const ngtest::Case& c : ngtest::registry()) {
        if (argc > 1 && std::string(c.name).find(argv[1]) == std::string::npos) continue;
        ngtest::failures_in_case = 0;
        c.fn();
        if (ngtest::failures_in_case) {
            ++failed;
            std::printf("FAIL %s\n", c.name);
        } else {
            ++passed;
            std::printf("ok   %s\n", c.name);
        }
    }
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
