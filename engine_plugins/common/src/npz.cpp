// npz reader: a bounded zip central-directory walk (with zip64 sizes), stored and deflate members
// (deflate through zlib when NGSDK_HAVE_ZLIB), CRC-checked, then a strict .npy header parser.
#include "ngsdk/npz.h"

#include <cstring>
#include <set>

#include "ngsdk/dds.h"  // read_file

#if NGSDK_HAVE_ZLIB
#include <zlib.h>
#endif

namespace ngsdk {

namespace {

uint16_t rd16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
uint32_t rd32(const uint8_t* p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t rd64(const uint8_t* p) { return uint64_t(rd32(p)) | uint64_t(rd32(p + 4)) << 32; }

std::string quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        unsigned char u = (unsigned char)c;
        if (u < 32 || u >= 127 || c == '\'' || c == '\\') {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "'";
}

// ------------------------------------------------------------------ .npy header (a Python literal)

struct HeaderParser {
    explicit HeaderParser(const std::string& text) : s(text) {}
    const std::string& s;
    size_t pos = 0;

    void ws() {
        while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r')) ++pos;
    }
    bool str(std::string& out) {
        if (pos >= s.size() || (s[pos] != '\'' && s[pos] != '"')) return false;
        char q = s[pos++];
        while (pos < s.size() && s[pos] != q) {
            if (s[pos] == '\\') return false;  // numpy never writes escapes in these headers
            out += s[pos++];
        }
        if (pos >= s.size()) return false;
        ++pos;
        return true;
    }
    bool word(const char* w) {
        size_t n = std::strlen(w);
        if (s.compare(pos, n, w) != 0) return false;
        pos += n;
        return true;
    }
    bool integer(uint64_t& v) {
        size_t start = pos;
        v = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            uint64_t d = uint64_t(s[pos] - '0');
            if (v > (UINT64_MAX - d) / 10) return false;
            v = v * 10 + d;
            ++pos;
        }
        return pos > start;
    }
    bool tuple(std::vector<uint64_t>& out) {
        if (pos >= s.size() || s[pos] != '(') return false;
        ++pos;
        ws();
        if (pos < s.size() && s[pos] == ')') {
            ++pos;
            return true;
        }
        for (;;) {
            ws();
            uint64_t v;
            if (!integer(v)) return false;
            out.push_back(v);
            ws();
            if (pos < s.size() && s[pos] == ',') {
                ++pos;
                ws();
                if (pos < s.size() && s[pos] == ')') {
                    ++pos;
                    return true;
                }
                continue;
            }
            if (pos < s.size() && s[pos] == ')') {
                ++pos;
                return out.size() != 1;  // "(3)" is an int, not a tuple
            }
            return false;
        }
    }
};

bool parse_header_dict(const std::string& text, NpyArray& out, std::string& problem) {
    HeaderParser p(text);
    p.ws();
    if (p.pos >= text.size() || text[p.pos] != '{') {
        problem = "header is not a Python dict literal";
        return false;
    }
    ++p.pos;
    std::set<std::string> seen;
    for (;;) {
        p.ws();
        if (p.pos < text.size() && text[p.pos] == '}') {
            ++p.pos;
            break;
        }
        std::string key;
        if (!p.str(key)) {
            problem = "header has a malformed key";
            return false;
        }
        p.ws();
        if (p.pos >= text.size() || text[p.pos] != ':') {
            problem = "header dict lacks ':'";
            return false;
        }
        ++p.pos;
        p.ws();
        if (key == "descr") {
            std::string d;
            if (!p.str(d)) {
                problem = "descr is not a plain dtype string (structured dtypes are not plain arrays)";
                return false;
            }
            out.descr = d;
        } else if (key == "fortran_order") {
            if (p.word("True")) out.fortran_order = true;
            else if (p.word("False")) out.fortran_order = false;
            else {
                problem = "fortran_order is not True or False";
                return false;
            }
        } else if (key == "shape") {
            out.shape.clear();
            if (!p.tuple(out.shape)) {
                problem = "shape is not a tuple of integers";
                return false;
            }
        } else {
            problem = "header has unexpected key " + quoted(key);
            return false;
        }
        seen.insert(key);
        p.ws();
        if (p.pos < text.size() && text[p.pos] == ',') {
            ++p.pos;
            continue;
        }
        p.ws();
        if (p.pos < text.size() && text[p.pos] == '}') {
            ++p.pos;
            break;
        }
        problem = "header dict is malformed";
        return false;
    }
    p.ws();
    if (p.pos != text.size()) {
        problem = "extra text after the header dict";
        return false;
    }
    if (seen.size() != 3) {
        problem = "header does not contain the keys descr, fortran_order and shape";
        return false;
    }
    return true;
}

// Element size of a numpy descr for plain numeric dtypes; 0 when not a plain array type.
uint64_t item_size(const std::string& d, bool& object) {
    object = false;
    if (d.size() < 2) return 0;
    char order = d[0];
    if (order != '<' && order != '>' && order != '|' && order != '=') return 0;
    char kind = d[1];
    if (kind == 'O') {
        object = true;
        return 0;
    }
    if (!std::strchr("biufc", kind)) return 0;  // bool, int, uint, float, complex
    uint64_t n = 0;
    for (size_t i = 2; i < d.size(); ++i) {
        if (d[i] < '0' || d[i] > '9' || n > 64) return 0;
        n = n * 10 + uint64_t(d[i] - '0');
    }
    return (n == 1 || n == 2 || n == 4 || n == 8 || n == 16) ? n : 0;
}

// ------------------------------------------------------------------ zip

struct Entry {
    std::string name;
    uint16_t flags = 0, method = 0;
    uint32_t crc = 0;
    uint64_t csize = 0, usize = 0, offset = 0;
};

Status inflate_raw(const uint8_t* src, uint64_t csize, uint64_t usize, std::vector<uint8_t>& out,
                   const std::string& path, const std::string& member) {
#if NGSDK_HAVE_ZLIB
    // Deflate expands at most ~1032:1; refuse sizes that no real stream can reach before allocating.
    if (usize > csize * 1032 + 1024)
        return Status::fail(path, "member " + quoted(member) + " is corrupt (uncompressed size " +
                                      std::to_string(usize) + " impossible for " + std::to_string(csize) +
                                      " compressed bytes)");
    out.assign(size_t(usize), 0);
    z_stream z;
    std::memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -15) != Z_OK) return Status::fail(path, "zlib initialisation failed");
    uint64_t in_left = csize, out_done = 0;
    const uint8_t* in = src;
    int rc = Z_OK;
    while (rc == Z_OK) {
        uInt in_chunk = in_left > 0x40000000u ? 0x40000000u : uInt(in_left);
        uint64_t out_left = usize - out_done;
        uInt out_chunk = out_left > 0x40000000u ? 0x40000000u : uInt(out_left);
        uint8_t dummy;
        z.next_in = const_cast<Bytef*>(in);
        z.avail_in = in_chunk;
        z.next_out = out_chunk ? out.data() + out_done : &dummy;
        z.avail_out = out_chunk ? out_chunk : 1;
        rc = inflate(&z, Z_NO_FLUSH);
        uint64_t used_in = in_chunk - z.avail_in;
        uint64_t made = (out_chunk ? out_chunk : 1) - z.avail_out;
        in += used_in;
        in_left -= used_in;
        if (!out_chunk && made) {
            rc = Z_DATA_ERROR;  // more output than the header declared
            break;
        }
        out_done += made;
        if (rc == Z_OK && used_in == 0 && made == 0) rc = Z_BUF_ERROR;
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END || out_done != usize)
        return Status::fail(path, "member " + quoted(member) + " is corrupt (bad deflate stream)");
    return Status::ok();
#else
    (void)src; (void)csize; (void)usize; (void)out;
    return Status::fail(path, "member " + quoted(member) +
                                  " is deflate-compressed and this build has no zlib (NGSDK_HAVE_ZLIB=0)");
#endif
}

}  // namespace

namespace {
struct CrcTable {
    uint32_t t[256];
    CrcTable() {
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
    }
};
}  // namespace

uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc) {
    static const CrcTable table;  // thread-safe initialisation (C++11 magic statics)
    crc = ~crc;
    for (size_t i = 0; i < size; ++i) crc = table.t[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

uint64_t NpyArray::count() const {
    uint64_t n = 1;
    for (uint64_t d : shape) n *= d;
    return n;
}

bool NpyArray::to_f32(std::vector<float>& out) const {
    if (descr != "<f4") return false;
    uint64_t n = count();
    if (data.size() != n * 4) return false;
    out.resize(size_t(n));
    if (!fortran_order || shape.size() < 2) {
        for (uint64_t i = 0; i < n; ++i) {
            const uint8_t* p = data.data() + 4 * i;
            uint32_t bits = uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
            std::memcpy(&out[size_t(i)], &bits, 4);
        }
        return true;
    }
    // Fortran order: the first index varies fastest in the file; write C order.
    std::vector<uint64_t> idx(shape.size(), 0);
    for (uint64_t f = 0; f < n; ++f) {
        uint64_t c = 0;
        for (size_t k = 0; k < shape.size(); ++k) c = c * shape[k] + idx[k];
        const uint8_t* p = data.data() + 4 * f;
        uint32_t bits = uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
        std::memcpy(&out[size_t(c)], &bits, 4);
        for (size_t k = 0; k < shape.size(); ++k) {
            if (++idx[k] < shape[k]) break;
            idx[k] = 0;
        }
    }
    return true;
}

Status parse_npy(const uint8_t* data, size_t size, const std::string& path, const std::string& what,
                 NpyArray& out) {
    auto bad = [&](const std::string& why) { return Status::fail(path, what + " is corrupt (" + why + ")"); };
    if (size < 10 || std::memcmp(data, "\x93NUMPY", 6) != 0) return bad("no NUMPY magic: not a .npy array");
    uint8_t major = data[6];
    size_t hlen, start;
    if (major == 1) {
        hlen = rd16(data + 8);
        start = 10;
    } else if (major == 2 || major == 3) {
        if (size < 12) return bad("truncated .npy header");
        hlen = rd32(data + 8);
        start = 12;
    } else {
        return bad("unsupported .npy format version " + std::to_string(major) + "." + std::to_string(data[7]));
    }
    if (hlen > 10000) return bad("header of " + std::to_string(hlen) + " bytes is larger than numpy allows");
    if (hlen > size - start) return bad("truncated .npy header");
    std::string header(reinterpret_cast<const char*>(data + start), hlen);
    out = NpyArray();
    std::string problem;
    if (!parse_header_dict(header, out, problem)) return bad(problem);
    bool object = false;
    uint64_t item = item_size(out.descr, object);
    if (object)
        return Status::fail(path, what + " holds Python objects (a pickle); weight files hold plain arrays only");
    if (!item) return bad("dtype " + quoted(out.descr) + " is not a plain numeric type");
    uint64_t n = 1;
    for (uint64_t d : out.shape) {
        if (d != 0 && n > UINT64_MAX / d) return bad("shape overflows");
        n *= d;
    }
    if (n > UINT64_MAX / item) return bad("shape overflows");
    uint64_t want = n * item;
    uint64_t have = size - start - hlen;
    if (have < want)
        return bad("array data truncated: " + std::to_string(have) + " bytes for " + std::to_string(want));
    if (have > want) return bad(std::to_string(have - want) + " trailing bytes after the array data");
    out.data.assign(data + start + hlen, data + size);
    return Status::ok();
}

Status read_npz_bytes(const uint8_t* d, size_t size, const std::string& path, std::map<std::string, NpyArray>& out) {
    out.clear();
    if (size >= 6 && std::memcmp(d, "\x93NUMPY", 6) == 0)
        return Status::fail(path, "not an npz archive: it holds a single .npy array");
    if (size < 4 || !(std::memcmp(d, "PK\x03\x04", 4) == 0 || std::memcmp(d, "PK\x05\x06", 4) == 0))
        return Status::fail(path, "not an npz archive: no zip signature");
    // End of central directory: 22 bytes plus a comment of up to 65535 bytes at the end of the file.
    if (size < 22) return Status::fail(path, "not a valid zip archive (no end of central directory record)");
    size_t eocd = SIZE_MAX;
    size_t lowest = size > 22 + 65535 ? size - 22 - 65535 : 0;
    for (size_t i = size - 22 + 1; i-- > lowest;) {
        if (std::memcmp(d + i, "PK\x05\x06", 4) == 0 && i + 22 + rd16(d + i + 20) == size) {
            eocd = i;
            break;
        }
    }
    if (eocd == SIZE_MAX) return Status::fail(path, "not a valid zip archive (no end of central directory record)");
    uint64_t count = rd16(d + eocd + 10);
    uint64_t cd_size = rd32(d + eocd + 12);
    uint64_t cd_off = rd32(d + eocd + 16);
    if (count == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_off == 0xFFFFFFFFu) {
        // Zip64: locator (20 bytes) right before the end record, pointing to the zip64 end record.
        if (eocd < 20 || std::memcmp(d + eocd - 20, "PK\x06\x07", 4) != 0)
            return Status::fail(path, "not a valid zip archive (zip64 locator missing)");
        uint64_t z64 = rd64(d + eocd - 20 + 8);
        if (z64 > size || size - z64 < 56 || std::memcmp(d + z64, "PK\x06\x06", 4) != 0)
            return Status::fail(path, "not a valid zip archive (bad zip64 end record)");
        count = rd64(d + z64 + 32);
        cd_size = rd64(d + z64 + 40);
        cd_off = rd64(d + z64 + 48);
    }
    if (cd_off > size || cd_size > size - cd_off)
        return Status::fail(path, "not a valid zip archive (central directory outside the file)");
    // Limits of docs/security.md, checked before anything is allocated or inflated.
    const uint64_t kMaxMembers = 1024, kMaxArrayBytes = (uint64_t(1) << 30) + 65536, kMaxTotal = uint64_t(2) << 30;
    if (count > kMaxMembers)
        return Status::fail(path, "archive declares " + std::to_string(count) + " members, over the limit of " +
                                      std::to_string(kMaxMembers));
    std::vector<Entry> entries;
    std::set<std::string> names;
    uint64_t p = cd_off, end = cd_off + cd_size;
    for (uint64_t i = 0; i < count; ++i) {
        if (end - p < 46 || std::memcmp(d + p, "PK\x01\x02", 4) != 0)
            return Status::fail(path, "not a valid zip archive (bad central directory entry)");
        Entry e;
        e.flags = rd16(d + p + 8);
        e.method = rd16(d + p + 10);
        e.crc = rd32(d + p + 16);
        e.csize = rd32(d + p + 20);
        e.usize = rd32(d + p + 24);
        uint64_t nlen = rd16(d + p + 28), xlen = rd16(d + p + 30), clen = rd16(d + p + 32);
        e.offset = rd32(d + p + 42);
        if (end - p - 46 < nlen + xlen + clen)
            return Status::fail(path, "not a valid zip archive (central directory entry truncated)");
        e.name.assign(reinterpret_cast<const char*>(d + p + 46), size_t(nlen));
        // Zip64 extra field: the 64-bit values present are those whose 32-bit field is all ones.
        const uint8_t* x = d + p + 46 + nlen;
        uint64_t xi = 0;
        while (xi + 4 <= xlen) {
            uint16_t id = rd16(x + xi), len = rd16(x + xi + 2);
            if (xi + 4 + len > xlen) break;
            if (id == 1) {
                const uint8_t* v = x + xi + 4;
                uint64_t left = len;
                if (e.usize == 0xFFFFFFFFu && left >= 8) { e.usize = rd64(v); v += 8; left -= 8; }
                if (e.csize == 0xFFFFFFFFu && left >= 8) { e.csize = rd64(v); v += 8; left -= 8; }
                if (e.offset == 0xFFFFFFFFu && left >= 8) { e.offset = rd64(v); }
            }
            xi += 4 + len;
        }
        p += 46 + nlen + xlen + clen;
        if (!names.insert(e.name).second) return Status::fail(path, "duplicate members " + e.name);
        entries.push_back(e);
    }
    uint64_t total = 0;
    for (const Entry& e : entries) {
        if (e.name.size() < 4 || e.name.compare(e.name.size() - 4, 4, ".npy") != 0)
            return Status::fail(path, "member " + quoted(e.name) + " is not a .npy array");
        if (e.usize > kMaxArrayBytes)
            return Status::fail(path, "member " + quoted(e.name) + " inflates to " + std::to_string(e.usize) +
                                          " bytes, over the limit of " + std::to_string(kMaxArrayBytes));
        total += e.usize;
        if (total > kMaxTotal)
            return Status::fail(path, "members inflate to more than the limit of " + std::to_string(kMaxTotal) +
                                          " bytes");
    }
    for (const Entry& e : entries) {
        const std::string key = e.name.substr(0, e.name.size() - 4);
        auto corrupt = [&](const std::string& why) {
            return Status::fail(path, "member " + quoted(e.name) + " is corrupt (" + why + ")");
        };
        if (e.flags & 0x1) return corrupt("encrypted");
        if (e.offset > size || size - e.offset < 30 || std::memcmp(d + e.offset, "PK\x03\x04", 4) != 0)
            return corrupt("bad local file header");
        uint64_t lname = rd16(d + e.offset + 26), lextra = rd16(d + e.offset + 28);
        uint64_t data_off = e.offset + 30 + lname + lextra;
        if (data_off > size || size - e.offset - 30 < lname) return corrupt("bad local file header");
        if (std::string(reinterpret_cast<const char*>(d + e.offset + 30), size_t(lname)) != e.name)
            return corrupt("file name in directory and header differ");
        if (e.csize > size - data_off) return corrupt("data runs past the end of the file");
        std::vector<uint8_t> raw;
        if (e.method == 0) {
            if (e.csize != e.usize) return corrupt("stored member with different sizes");
            raw.assign(d + data_off, d + data_off + e.csize);
        } else if (e.method == 8) {
            NGSDK_TRY(inflate_raw(d + data_off, e.csize, e.usize, raw, path, e.name));
        } else {
            return corrupt("compression method " + std::to_string(e.method) + " is not stored or deflate");
        }
        if (crc32(raw.data(), raw.size()) != e.crc) return corrupt("bad CRC-32");
        NpyArray arr;
        Status s = parse_npy(raw.data(), raw.size(), path, "member " + quoted(e.name), arr);
        if (!s) {
            // numpy's wording for pickles names the array, not the member.
            if (s.problem().find("Python objects") != std::string::npos)
                return Status::fail(path, "array " + quoted(key) +
                                              " holds Python objects (a pickle); weight files hold plain arrays only");
            return s;
        }
        out[key] = std::move(arr);
    }
    return Status::ok();
}

Status read_npz(const std::string& path, std::map<std::string, NpyArray>& out) {
    std::vector<uint8_t> bytes;
    NGSDK_TRY(read_file(path, bytes));
    return read_npz_bytes(bytes.data(), bytes.size(), path, out);
}

}  // namespace ngsdk
