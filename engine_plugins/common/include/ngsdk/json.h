// A small strict JSON (RFC 8259) reader for manifests: bounded depth, UTF-8 checked, no exceptions.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ngsdk {
namespace json {

enum class Type { Null, Bool, Number, String, Array, Object };

class Value {
public:
    Value() = default;
    Type type() const { return type_; }
    bool is_null() const { return type_ == Type::Null; }
    bool is_bool() const { return type_ == Type::Bool; }
    bool is_number() const { return type_ == Type::Number; }
    // An integer literal (no fraction or exponent) that fits in int64.
    bool is_integer() const { return type_ == Type::Number && integer_; }
    bool is_string() const { return type_ == Type::String; }
    bool is_array() const { return type_ == Type::Array; }
    bool is_object() const { return type_ == Type::Object; }

    bool as_bool() const { return bool_; }
    double as_double() const { return number_; }
    int64_t as_int() const { return int_; }
    const std::string& as_string() const { return string_; }
    const std::vector<Value>& items() const { return array_; }
    const std::map<std::string, Value>& members() const { return object_; }
    size_t size() const { return type_ == Type::Array ? array_.size() : object_.size(); }

    // Member `key` of an object, or nullptr (also when this is not an object).
    const Value* find(const std::string& key) const;

    static Value make_null() { return Value(); }
    static Value make_bool(bool b);
    static Value make_number(double d, bool integer, int64_t i);
    static Value make_string(std::string s);
    static Value make_array(std::vector<Value> items);
    static Value make_object(std::map<std::string, Value> members);

private:
    Type type_ = Type::Null;
    bool bool_ = false;
    bool integer_ = false;
    double number_ = 0.0;
    int64_t int_ = 0;
    std::string string_;
    std::vector<Value> array_;
    std::map<std::string, Value> object_;
};

// Parse `text` (UTF-8, optional BOM refused like Python's json). On failure returns false and sets
// `error` to "<problem> at line L column C". Duplicate keys keep the last value (as Python does).
bool parse(const std::string& text, Value& out, std::string& error, int max_depth = 64);

// Shortest-round-trip formatting is not needed here; dump() writes compact JSON for diagnostics.
std::string dump(const Value& v);

}  // namespace json
}  // namespace ngsdk
