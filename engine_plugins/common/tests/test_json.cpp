#include <cmath>
#include <cstring>

#include "ngsdk/json.h"
#include "test.h"

using ngsdk::json::Value;

static bool parses(const std::string& text, Value* out = nullptr) {
    Value v;
    std::string err;
    bool ok = ngsdk::json::parse(text, v, err);
    if (out) *out = v;
    return ok;
}

TEST(json_parses_documents) {
    Value v;
    CHECK(parses("{\"a\": [1, 2.5, -3e2, true, false, null, \"x\\u00e9\\ud83d\\ude00\"], \"b\": {}}", &v));
    CHECK(v.is_object());
    const Value* a = v.find("a");
    CHECK(a && a->is_array() && a->size() == 7);
    CHECK(a->items()[0].is_integer() && a->items()[0].as_int() == 1);
    CHECK(!a->items()[1].is_integer() && a->items()[1].as_double() == 2.5);
    CHECK(a->items()[2].as_double() == -300.0);
    CHECK(a->items()[6].as_string() == "x\xc3\xa9\xf0\x9f\x98\x80");
    CHECK(v.find("b")->is_object());
}

TEST(json_float32_values_round_trip) {
    // ngsdk writes float32 values as the shortest decimal of the widened double.
    Value v;
    CHECK(parses("[0.13333334028720856, 0.009999999776482582, 1e-45, 3.4028234663852886e+38]", &v));
    float expect[] = {2.0f / 15.0f, 0.01f, 1e-45f, 3.4028234663852886e+38f};
    for (int i = 0; i < 4; ++i) {
        float got = float(v.items()[size_t(i)].as_double());
        CHECK(std::memcmp(&got, &expect[i], 4) == 0);
    }
}

TEST(json_refuses_nan_infinity_and_duplicate_keys) {
    // docs/security.md: readers that disagree on a value (last key wins, NaN accepted) cannot gate a pipeline
    Value v;
    std::string err;
    for (const char* text : {"[NaN]", "[Infinity]", "[-Infinity]", "{\"a\": NaN}", "1e999"}) {
        CHECK(!ngsdk::json::parse(text, v, err));
        CHECK(err.find("Infinity") != std::string::npos || err.find("overflows") != std::string::npos);
    }
    CHECK(!ngsdk::json::parse("{\"k\": 1, \"k\": 2}", v, err));
    CHECK(err.find("duplicate key \"k\"") != std::string::npos);
    CHECK(parses("{\"k\": 1, \"j\": {\"k\": 2}}", &v));
    CHECK(parses("123456789012345678901234567890", &v));
    CHECK(!v.is_integer() && v.is_number());
}

TEST(json_refuses_malformed) {
    const char* bad[] = {"", "{", "[1,]", "{\"a\" 1}", "{'a': 1}", "01", "1.", ".5", "-", "[1 2]", "\"\x01\"",
                         "\"\\x\"", "\"\xff\"", "\"\xc0\xaf\"", "tru", "[1] x", "\xef\xbb\xbf{}", "{\"a\":1,}",
                         "\"\xed\xa0\x80\""};
    for (const char* text : bad) {
        Value v;
        std::string err;
        if (ngsdk::json::parse(text, v, err)) ngtest::report(__FILE__, __LINE__, std::string("accepted: ") + text);
        else CHECK(err.find(" at line ") != std::string::npos);
    }
}

TEST(json_depth_is_bounded) {
    std::string deep(100000, '[');
    Value v;
    std::string err;
    CHECK(!ngsdk::json::parse(deep, v, err));
    CHECK(err.find("nesting too deep") != std::string::npos);
    std::string ok = std::string(60, '[') + std::string(60, ']');
    CHECK(parses(ok));
}

TEST(json_error_position) {
    Value v;
    std::string err;
    CHECK(!ngsdk::json::parse("{\n  \"a\": ?\n}", v, err));
    CHECK(err.find("line 2 column 8") != std::string::npos);
}
