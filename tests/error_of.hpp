#pragma once
// How the tests read an error: error_of(f) is the message of the xg::Error f throws, or "" when
// f returns normally. And the small bad-input tables of the areas outside the op registry
// (factories, modules, optimizers, data, checkpoints): each row a call that must throw an
// xg::Error holding every expected fragment. An op's own bad inputs live in its registry row
// (tests/op_registry.hpp), checked by tests/test_registry.cpp.
#include <doctest/doctest.h>

#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace xg::testing {

// The message of the xg::Error f throws, or "" when f throws nothing; any other exception fails
// the test.
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const xg::Error& e) {
        return e.what();
    } catch (const std::exception& e) {
        FAIL("expected xg::Error, got another exception: ", e.what());
    }
    return "";
}

// One bad input of an area outside the op registry.
struct ErrorRow {
    std::string name;
    std::function<void()> run;
    std::vector<std::string> expect;  // fragments of the xg::Error's message (at least one)
};

// Runs every row: each must throw an xg::Error whose message holds all its fragments.
inline void check_error_rows(const std::vector<ErrorRow>& rows) {
    for (const ErrorRow& row : rows) {
        CAPTURE(row.name);
        REQUIRE_MESSAGE(!row.expect.empty(), row.name, ": a row needs an expected fragment");
        const std::string msg = error_of(row.run);
        CHECK_MESSAGE(!msg.empty(), row.name, " did not throw");
        if (msg.empty()) continue;
        for (const auto& frag : row.expect)
            CHECK_MESSAGE(msg.find(frag) != std::string::npos, row.name, ": expected \"", frag,
                          "\" in: ", msg);
    }
}

}  // namespace xg::testing
