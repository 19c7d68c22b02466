// .npy and .npz (zip, stored or deflate) readers for decoder weights: plain arrays only, never
// pickles; every malformed input gives a Status naming the file and the problem.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ngsdk/status.h"

namespace ngsdk {

struct NpyArray {
    std::string descr;              // numpy dtype string, e.g. "<f4"
    bool fortran_order = false;
    std::vector<uint64_t> shape;
    std::vector<uint8_t> data;      // raw element bytes in file order

    uint64_t count() const;
    // The elements as float32 in C (row-major) order; requires descr "<f4".
    bool to_f32(std::vector<float>& out) const;
};

// Parse the bytes of one .npy file. `what` names it in errors (e.g. "member 'a.npy'").
Status parse_npy(const uint8_t* data, size_t size, const std::string& path, const std::string& what,
                 NpyArray& out);

// Read every member of an npz archive. Members must be unique "*.npy" names; keys drop ".npy".
Status read_npz_bytes(const uint8_t* data, size_t size, const std::string& path,
                      std::map<std::string, NpyArray>& out);
Status read_npz(const std::string& path, std::map<std::string, NpyArray>& out);

// CRC-32 (zip polynomial), exposed for tests and writers.
uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc = 0);

}  // namespace ngsdk
