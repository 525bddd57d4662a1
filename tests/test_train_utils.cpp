// train/: the progress display, the metrics CSV and SVG (parsed back), the confusion matrix.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include "train/confusion.hpp"
#include "train/metrics.hpp"
#include "train/progress.hpp"
#include "xgrad.hpp"

using namespace xg;
using namespace xg::train;

namespace {
std::string read_all(std::FILE* f) {
    std::rewind(f);
    std::string s;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    return s;
}

std::string slurp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

MetricsLog sample_log() {
    MetricsLog log;
    log.add({1, 0.61, 0.78, 0.45, 0.84, 2e-3, 12.5});
    log.add({2, 0.38, 0.86, 0.36, 0.871, 1e-3, 12.25});
    log.add({3, 0.31, 0.889, 0.30, 0.9012, 5e-4, 12.0});
    return log;
}
}  // namespace

TEST_CASE("progress: plain lines when not a terminal, a final line with the totals") {
    std::FILE* f = std::tmpfile();
    REQUIRE(f);
    {
        ProgressBar bar(4, "epoch 1/2", f, /*tty=*/0, /*plain_every_s=*/0.0);
        bar.update(10, 1.0);
        bar.update(10, 3.0);
        CHECK(bar.running_loss() == doctest::Approx(2.0));
        bar.update(10, 2.0);
        bar.update(5, 2.0);
        bar.finish();
        CHECK(bar.batches() == 4);
    }
    std::string out = read_all(f);
    std::fclose(f);
    // Three updates before the last print a line each (interval 0); finish prints the 4th.
    std::istringstream lines(out);
    std::string line;
    int n = 0;
    while (std::getline(lines, line)) {
        ++n;
        CHECK(line.find("epoch 1/2 [") == 0);
        CHECK(line.find('\r') == std::string::npos);
    }
    CHECK(n == 4);
    CHECK(out.find("1/4 ") != std::string::npos);
    CHECK(out.find("4/4 ") != std::string::npos);
    CHECK(out.find("samples/s loss 2.0000") != std::string::npos);
    CHECK(format_duration(65) == "1:05");
    CHECK(format_duration(3723) == "1:02:03");
}

TEST_CASE("progress: on a terminal the line is redrawn in place") {
    std::FILE* f = std::tmpfile();
    ProgressBar bar(2, "e", f, /*tty=*/1);
    bar.update(1, 0.5);
    bar.update(1, 0.5);
    bar.finish();
    std::string out = read_all(f);
    std::fclose(f);
    CHECK(out.find('\r') != std::string::npos);
    CHECK(out.back() == '\n');
}

TEST_CASE("metrics: the CSV is written atomically and reads back the same") {
    MetricsLog log = sample_log();
    std::string path = "test_metrics_roundtrip.csv";
    log.write_csv(path);
    std::string text = slurp(path);
    CHECK(text.rfind("epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds\n", 0) == 0);
    MetricsLog back = MetricsLog::read_csv(path);
    REQUIRE(back.rows().size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(back.rows()[i].epoch == log.rows()[i].epoch);
        CHECK(back.rows()[i].test_acc == doctest::Approx(log.rows()[i].test_acc));
        CHECK(back.rows()[i].lr == doctest::Approx(log.rows()[i].lr));
    }
    std::ifstream tmp(path + ".tmp");
    CHECK(!tmp.good());  // no temp file left behind
    std::remove(path.c_str());
    CHECK_THROWS_WITH_AS(MetricsLog::parse_csv("epoch,x\n", "m.csv"),
                         doctest::Contains("'m.csv' does not start with the header"), Error);
    CHECK_THROWS_WITH_AS(
        MetricsLog::parse_csv("epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds\n1,2,x,4,"
                              "5,6,7\n",
                              "m.csv"),
        doctest::Contains("line 2: 'x' is not a number"), Error);
    CHECK_THROWS_WITH_AS(
        MetricsLog::parse_csv("epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds\n1,2\n"),
        doctest::Contains("2 fields, expected 7"), Error);
    CHECK_THROWS_AS(MetricsLog::read_csv("no/such/file.csv"), Error);
}

TEST_CASE("metrics: the SVG is well formed, with one point per epoch and series") {
    MetricsLog log = sample_log();
    std::string svg = log.svg("fashion <mnist>");
    CHECK(svg.rfind("<?xml", 0) == 0);
    CHECK(svg.find("fashion &lt;mnist&gt;") != std::string::npos);
    // Every element opened is closed: count tags with a tiny parser.
    std::regex tag("<(/?)([a-zA-Z]+)[^>]*?(/?)>");
    std::vector<std::string> stack;
    int circles = 0, polylines = 0;
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), tag); it != std::sregex_iterator();
         ++it) {
        std::string close = (*it)[1], name = (*it)[2], self = (*it)[3];
        if (name == "xml") continue;
        if (name == "circle") ++circles;
        if (name == "polyline") ++polylines;
        if (!self.empty()) continue;
        if (close.empty()) {
            stack.push_back(name);
        } else {
            REQUIRE(!stack.empty());
            CHECK(stack.back() == name);
            stack.pop_back();
        }
    }
    CHECK(stack.empty());
    CHECK(circles == 4 * 3);  // 2 panels x 2 series x 3 epochs
    CHECK(polylines == 4);
    // The points of a polyline lie inside the panels.
    std::regex pts("points=\"([^\"]*)\"");
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), pts); it != std::sregex_iterator();
         ++it) {
        std::istringstream in((*it)[1].str());
        double x, y;
        char comma;
        int n = 0;
        while (in >> x >> comma >> y) {
            CHECK(x >= 0);
            CHECK(x <= 900);
            CHECK(y >= 20);
            CHECK(y <= 380);
            ++n;
        }
        CHECK(n == 3);
    }
    std::string path = "test_metrics.svg";
    log.write_svg(path);
    CHECK(slurp(path) == log.svg());
    std::remove(path.c_str());
    // An empty log and a single epoch still give a valid chart (no NaN coordinates).
    CHECK(MetricsLog().svg().find("nan") == std::string::npos);
    MetricsLog one;
    one.add({1, 0.5, 0.5, 0.5, 0.5, 0.1, 1});
    CHECK(one.svg().find("nan") == std::string::npos);
}

TEST_CASE("confusion matrix: counts, accuracies, the table, and refusals") {
    ConfusionMatrix cm(3, {"cat", "dog", "bird"});
    cm.add(tensor({0, 1, 2, 2, 1}, int64), tensor({0, 1, 2, 1, 1}, int64));
    CHECK(cm.total() == 5);
    CHECK(cm.count(1, 2) == 1);  // a dog predicted as bird
    CHECK(cm.count(2, 2) == 1);
    CHECK(cm.accuracy() == doctest::Approx(0.8));
    auto pc = cm.per_class_accuracy();
    CHECK(pc[0] == doctest::Approx(1.0));
    CHECK(pc[1] == doctest::Approx(2.0 / 3));
    CHECK(pc[2] == doctest::Approx(1.0));
    std::string t = cm.to_string();
    CHECK(t.find("1 dog") != std::string::npos);
    CHECK(t.find("66.67%") != std::string::npos);
    CHECK_THROWS_WITH_AS(cm.add(tensor({3}, int64), tensor({0}, int64)),
                         doctest::Contains("outside [0, 3)"), Error);
    CHECK_THROWS_WITH_AS(cm.add(tensor({0, 1}, int64), tensor({0}, int64)),
                         doctest::Contains("differ in shape"), Error);
    CHECK_THROWS_WITH_AS(cm.add(tensor({0.0}), tensor({0}, int64)),
                         doctest::Contains("must be int64"), Error);
    CHECK(cm.total() == 5);  // refusals changed nothing
    ConfusionMatrix empty(2);
    CHECK(std::isnan(empty.per_class_accuracy()[0]));
    CHECK_THROWS_AS(ConfusionMatrix(2, {"a"}), Error);
}
