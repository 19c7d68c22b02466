// SHA-256 (FIPS 180-4), for the bundle's file checksums and the hash of a decoded mip.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ngsdk {

class Sha256 {
public:
    Sha256();
    void update(const void* data, size_t size);
    // Finishes the hash; the object must not be updated afterwards.
    void finish(uint8_t digest[32]);
    std::string hex();  // finish() as 64 lowercase hex digits

private:
    void block(const uint8_t* p);
    uint32_t h_[8];
    uint8_t buf_[64];
    size_t used_ = 0;
    uint64_t total_ = 0;
};

std::string sha256_hex(const void* data, size_t size);

}  // namespace ngsdk
