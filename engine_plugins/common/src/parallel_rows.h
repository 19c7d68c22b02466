// Split rows [0, height) over worker threads (private to the CPU decoders).
#pragma once

#include <cstdint>
#include <thread>
#include <vector>

namespace ngsdk {

// Calls fn(r0, r1) on `threads` contiguous row ranges (0: one per hardware thread), at most one per row;
// a single range runs on the calling thread.
template <class Fn>
void parallel_rows(uint32_t height, int threads, Fn fn) {
    unsigned n = threads > 0 ? unsigned(threads) : std::thread::hardware_concurrency();
    if (n == 0) n = 1;
    if (n > height) n = height;
    if (n <= 1) {
        fn(uint32_t(0), height);
        return;
    }
    std::vector<std::thread> pool;
    for (unsigned i = 0; i < n; ++i) {
        uint32_t r0 = uint32_t(uint64_t(height) * i / n), r1 = uint32_t(uint64_t(height) * (i + 1) / n);
        pool.emplace_back(fn, r0, r1);
    }
    for (std::thread& th : pool) th.join();
}

}  // namespace ngsdk
