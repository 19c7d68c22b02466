// Strict JSON reader. Numbers are converted with a correctly rounded decimal-to-double routine
// (std::from_chars where the standard library has it, else the classic-locale stream), so a float32
// written by ngsdk as the shortest decimal of its widened double comes back bit for bit.
#include "ngsdk/json.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <locale>
#include <sstream>
#if defined(__has_include)
#if __has_include(<charconv>)
#include <charconv>
#endif
#endif

namespace ngsdk {
namespace json {

const Value* Value::find(const std::string& key) const {
    if (type_ != Type::Object) return nullptr;
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &it->second;
}

Value Value::make_bool(bool b) {
    Value v;
    v.type_ = Type::Bool;
    v.bool_ = b;
    return v;
}
Value Value::make_number(double d, bool integer, int64_t i) {
    Value v;
    v.type_ = Type::Number;
    v.number_ = d;
    v.integer_ = integer;
    v.int_ = i;
    return v;
}
Value Value::make_string(std::string s) {
    Value v;
    v.type_ = Type::String;
    v.string_ = std::move(s);
    return v;
}
Value Value::make_array(std::vector<Value> items) {
    Value v;
    v.type_ = Type::Array;
    v.array_ = std::move(items);
    return v;
}
Value Value::make_object(std::map<std::string, Value> members) {
    Value v;
    v.type_ = Type::Object;
    v.object_ = std::move(members);
    return v;
}

namespace {

bool decimal_to_double(const char* first, const char* last, double& out) {
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
    auto res = std::from_chars(first, last, out, std::chars_format::general);
    if (res.ec == std::errc::result_out_of_range) {
        // from_chars leaves `out` unchanged on overflow/underflow; Python gives inf or 0.
        out = (*first == '-') ? -HUGE_VAL : HUGE_VAL;
        for (const char* p = first; p < last; ++p)
            if (*p == 'e' || *p == 'E') {
                if (p + 1 < last && p[1] == '-') out = (*first == '-') ? -0.0 : 0.0;
                break;
            }
        return true;
    }
    return res.ec == std::errc() && res.ptr == last;
#else
    std::istringstream in(std::string(first, last));
    in.imbue(std::locale::classic());
    in >> out;
    return !in.fail();
#endif
}

class Parser {
public:
    Parser(const std::string& text, int max_depth) : s_(text), max_depth_(max_depth) {}

    bool run(Value& out, std::string& error) {
        if (s_.size() >= 3 && (unsigned char)s_[0] == 0xEF && (unsigned char)s_[1] == 0xBB &&
            (unsigned char)s_[2] == 0xBF) {
            return fail(error, "unexpected UTF-8 byte order mark");
        }
        skip_ws();
        if (!value(out, 0)) return report(error);
        skip_ws();
        if (pos_ != s_.size()) {
            problem_ = "extra data after the JSON value";
            return report(error);
        }
        return true;
    }

private:
    const std::string& s_;
    size_t pos_ = 0;
    int max_depth_;
    std::string problem_;

    bool fail(std::string& error, const char* what) {
        problem_ = what;
        return report(error);
    }
    bool report(std::string& error) {
        size_t line = 1, col = 1;
        for (size_t i = 0; i < pos_ && i < s_.size(); ++i) {
            if (s_[i] == '\n') {
                ++line;
                col = 1;
            } else {
                ++col;
            }
        }
        error = problem_ + " at line " + std::to_string(line) + " column " + std::to_string(col);
        return false;
    }
    bool err(const char* what) {
        problem_ = what;
        return false;
    }
    bool err(const std::string& what) {
        problem_ = what;
        return false;
    }
    void skip_ws() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
            ++pos_;
    }
    bool literal(const char* word) {
        size_t n = std::strlen(word);
        if (s_.compare(pos_, n, word) != 0) return err("invalid literal");
        pos_ += n;
        return true;
    }

    bool value(Value& out, int depth) {
        if (pos_ >= s_.size()) return err("unexpected end of data");
        char c = s_[pos_];
        switch (c) {
            case '{': return object(out, depth + 1);
            case '[': return array(out, depth + 1);
            case '"': {
                std::string str;
                if (!string(str)) return false;
                out = Value::make_string(std::move(str));
                return true;
            }
            case 't':
                if (!literal("true")) return false;
                out = Value::make_bool(true);
                return true;
            case 'f':
                if (!literal("false")) return false;
                out = Value::make_bool(false);
                return true;
            case 'n':
                if (!literal("null")) return false;
                out = Value::make_null();
                return true;
            case 'N':  // NaN and +-Infinity are not JSON; the Python reader refuses them too (docs/security.md)
            case 'I':
                return err("NaN and Infinity are not allowed (numbers must be finite)");
            default:
                if (c == '-' && s_.compare(pos_, 9, "-Infinity") == 0)
                    return err("NaN and Infinity are not allowed (numbers must be finite)");
                if (c == '-' || (c >= '0' && c <= '9')) return number(out);
                return err("unexpected character");
        }
    }

    bool object(Value& out, int depth) {
        if (depth > max_depth_) return err("nesting too deep");
        ++pos_;  // '{'
        std::map<std::string, Value> members;
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == '}') {
            ++pos_;
            out = Value::make_object(std::move(members));
            return true;
        }
        for (;;) {
            skip_ws();
            if (pos_ >= s_.size() || s_[pos_] != '"') return err("expected a string key");
            std::string key;
            if (!string(key)) return false;
            skip_ws();
            if (pos_ >= s_.size() || s_[pos_] != ':') return err("expected ':'");
            ++pos_;
            skip_ws();
            Value v;
            if (!value(v, depth)) return false;
            // a repeated key would let readers disagree on its value (the last one wins in most parsers)
            if (!members.emplace(key, std::move(v)).second) return err("duplicate key \"" + key + "\"");
            skip_ws();
            if (pos_ >= s_.size()) return err("unexpected end of data in an object");
            if (s_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (s_[pos_] == '}') {
                ++pos_;
                break;
            }
            return err("expected ',' or '}'");
        }
        out = Value::make_object(std::move(members));
        return true;
    }

    bool array(Value& out, int depth) {
        if (depth > max_depth_) return err("nesting too deep");
        ++pos_;  // '['
        std::vector<Value> items;
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == ']') {
            ++pos_;
            out = Value::make_array(std::move(items));
            return true;
        }
        for (;;) {
            skip_ws();
            Value v;
            if (!value(v, depth)) return false;
            items.push_back(std::move(v));
            skip_ws();
            if (pos_ >= s_.size()) return err("unexpected end of data in an array");
            if (s_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (s_[pos_] == ']') {
                ++pos_;
                break;
            }
            return err("expected ',' or ']'");
        }
        out = Value::make_array(std::move(items));
        return true;
    }

    static void put_utf8(std::string& out, uint32_t cp) {
        if (cp < 0x80) {
            out += char(cp);
        } else if (cp < 0x800) {
            out += char(0xC0 | (cp >> 6));
            out += char(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += char(0xE0 | (cp >> 12));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        } else {
            out += char(0xF0 | (cp >> 18));
            out += char(0x80 | ((cp >> 12) & 0x3F));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        }
    }

    bool hex4(uint32_t& cp) {
        if (pos_ + 4 > s_.size()) return err("truncated \\u escape");
        cp = 0;
        for (int i = 0; i < 4; ++i) {
            char h = s_[pos_++];
            cp <<= 4;
            if (h >= '0' && h <= '9') cp |= uint32_t(h - '0');
            else if (h >= 'a' && h <= 'f') cp |= uint32_t(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') cp |= uint32_t(h - 'A' + 10);
            else return err("invalid \\u escape");
        }
        return true;
    }

    // One UTF-8 sequence starting at pos_ (already known to be >= 0x80); strict (no overlongs,
    // no surrogates, <= U+10FFFF).
    bool utf8_sequence(std::string& out) {
        unsigned char c = (unsigned char)s_[pos_];
        int n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
        else return err("invalid UTF-8");
        if (pos_ + 1 + n > s_.size()) return err("invalid UTF-8");
        for (int i = 1; i <= n; ++i) {
            unsigned char d = (unsigned char)s_[pos_ + i];
            if ((d & 0xC0) != 0x80) return err("invalid UTF-8");
            cp = (cp << 6) | (d & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return err("invalid UTF-8");
        out.append(s_, pos_, size_t(n) + 1);
        pos_ += size_t(n) + 1;
        return true;
    }

    bool string(std::string& out) {
        ++pos_;  // opening quote
        for (;;) {
            if (pos_ >= s_.size()) return err("unterminated string");
            unsigned char c = (unsigned char)s_[pos_];
            if (c == '"') {
                ++pos_;
                return true;
            }
            if (c < 0x20) return err("control character in a string");
            if (c >= 0x80) {
                if (!utf8_sequence(out)) return false;
                continue;
            }
            if (c != '\\') {
                out += char(c);
                ++pos_;
                continue;
            }
            ++pos_;
            if (pos_ >= s_.size()) return err("unterminated string");
            char e = s_[pos_++];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    uint32_t cp;
                    if (!hex4(cp)) return false;
                    if (cp >= 0xD800 && cp <= 0xDBFF && pos_ + 6 <= s_.size() && s_[pos_] == '\\' &&
                        s_[pos_ + 1] == 'u') {
                        size_t save = pos_;
                        pos_ += 2;
                        uint32_t lo;
                        if (!hex4(lo)) return false;
                        if (lo >= 0xDC00 && lo <= 0xDFFF) {
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        } else {
                            pos_ = save;
                        }
                    }
                    // Lone surrogates are legal JSON (Python keeps them); store U+FFFD instead of
                    // producing invalid UTF-8.
                    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
                    put_utf8(out, cp);
                    break;
                }
                default: return err("invalid escape in a string");
            }
        }
    }

    bool number(Value& out) {
        size_t start = pos_;
        bool integer = true;
        if (s_[pos_] == '-') ++pos_;
        if (pos_ >= s_.size()) return err("invalid number");
        if (s_[pos_] == '0') {
            ++pos_;
        } else if (s_[pos_] >= '1' && s_[pos_] <= '9') {
            while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
        } else {
            return err("invalid number");
        }
        if (pos_ < s_.size() && s_[pos_] == '.') {
            integer = false;
            ++pos_;
            if (pos_ >= s_.size() || !(s_[pos_] >= '0' && s_[pos_] <= '9')) return err("invalid number");
            while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
        }
        if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
            integer = false;
            ++pos_;
            if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
            if (pos_ >= s_.size() || !(s_[pos_] >= '0' && s_[pos_] <= '9')) return err("invalid number");
            while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
        }
        const char* first = s_.data() + start;
        const char* last = s_.data() + pos_;
        double d = 0.0;
        if (!decimal_to_double(first, last, d)) return err("invalid number");
        if (!std::isfinite(d)) return err("number overflows a double");
        int64_t i = 0;
        if (integer) {
            // Exact int64 when it fits; larger integers stay numbers but are not "integers" here.
            const char* p = first;
            bool neg = *p == '-';
            if (neg) ++p;
            uint64_t acc = 0;
            bool fits = true;
            for (; p < last; ++p) {
                uint64_t digit = uint64_t(*p - '0');
                if (acc > (UINT64_MAX - digit) / 10) {
                    fits = false;
                    break;
                }
                acc = acc * 10 + digit;
            }
            if (fits && acc <= (neg ? uint64_t(INT64_MAX) + 1 : uint64_t(INT64_MAX))) {
                i = neg ? int64_t(0 - acc) : int64_t(acc);
            } else {
                integer = false;
            }
        }
        out = Value::make_number(d, integer, i);
        return true;
    }
};

void dump_string(const std::string& s, std::string& out) {
    out += '"';
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += char(c);
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += char(c);
        }
    }
    out += '"';
}

void dump_into(const Value& v, std::string& out) {
    switch (v.type()) {
        case Type::Null: out += "null"; break;
        case Type::Bool: out += v.as_bool() ? "true" : "false"; break;
        case Type::Number: {
            if (v.is_integer()) {
                out += std::to_string(v.as_int());
            } else {
                char buf[32];
                std::snprintf(buf, sizeof buf, "%.17g", v.as_double());
                out += buf;
            }
            break;
        }
        case Type::String: dump_string(v.as_string(), out); break;
        case Type::Array: {
            out += '[';
            bool first = true;
            for (const Value& item : v.items()) {
                if (!first) out += ',';
                first = false;
                dump_into(item, out);
            }
            out += ']';
            break;
        }
        case Type::Object: {
            out += '{';
            bool first = true;
            for (const auto& kv : v.members()) {
                if (!first) out += ',';
                first = false;
                dump_string(kv.first, out);
                out += ':';
                dump_into(kv.second, out);
            }
            out += '}';
            break;
        }
    }
}

}  // namespace

bool parse(const std::string& text, Value& out, std::string& error, int max_depth) {
    Parser p(text, max_depth);
    return p.run(out, error);
}

std::string dump(const Value& v) {
    std::string out;
    dump_into(v, out);
    return out;
}

}  // namespace json
}  // namespace ngsdk
