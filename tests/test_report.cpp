// train/report, train/png, train/worst_examples: the HTML run report (escaping, sections,
// atomic write), the PNG encoder (decoded back with zlib) and the top-k of the worst examples.
#include <doctest/doctest.h>

#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "train/png.hpp"
#include "train/report.hpp"
#include "train/worst_examples.hpp"
#include "xgrad.hpp"

using namespace xg;
using namespace xg::train;
namespace fs = std::filesystem;

namespace {
std::string slurp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::size_t count(const std::string& s, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
    return n;
}

std::uint32_t be32(const std::string& s, std::size_t at) {
    return std::uint32_t(std::uint8_t(s[at])) << 24 | std::uint32_t(std::uint8_t(s[at + 1])) << 16 |
           std::uint32_t(std::uint8_t(s[at + 2])) << 8 | std::uint8_t(s[at + 3]);
}

fs::path fresh_dir(const std::string& name) {
    // The process id in the name: suites running side by side do not share the folder.
    fs::path dir = fs::temp_directory_path() /
                   ("xgrad_test_report_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

template <class T>
Tensor filled(const std::vector<T>& v, const Shape& shape, Dtype dtype) {
    Tensor t = zeros(shape, dtype);
    std::copy(v.begin(), v.end(), t.mutable_data<T>().begin());
    return t;
}

MetricsLog two_epochs() {
    MetricsLog log;
    log.add({1, 0.61, 0.78, 0.45, 0.84, 2e-3, 12.5});
    log.add({2, 0.38, 0.86, 0.36, 0.871, 1e-3, 11.25});
    return log;
}
}  // namespace

TEST_CASE("html_escape escapes the five special characters and nothing else") {
    CHECK(html_escape("a<b>&\"c'd") == "a&lt;b&gt;&amp;&quot;c&#39;d");
    CHECK(html_escape("plain text, 1.5e-3 / x") == "plain text, 1.5e-3 / x");
    CHECK(html_escape("") == "");
}

TEST_CASE("Report escapes class names, settings, captions and samples") {
    const std::string evil = "<script>alert(\"x\")</script>&'";
    ConfusionMatrix cm(2, {evil, "B&B"});
    cm.add(0, 0), cm.add(0, 1), cm.add(1, 1);
    ReportImage im;
    im.pixels = {0, 255, 128, 64};
    im.height = 2, im.width = 2, im.caption = "true: " + evil + "\npredicted: B&B";
    Report r("title " + evil);
    r.add_confusion(cm, {evil, "B&B"})
        .add_settings({{"name " + evil, "value " + evil}})
        .add_image_grid("images " + evil, {im})
        .add_text_samples("samples", {"once upon a <time> & \"place\""});
    const std::string html = r.html();
    CHECK(html.find(evil) == std::string::npos);
    CHECK(html.find("<script>alert") == std::string::npos);
    const std::string escaped = html_escape(evil);
    // title and h1, the settings' name and value, the heat map's two axes and its cell titles,
    // the per-class table, the image's heading (nav and h2) and caption.
    CHECK(count(html, escaped) >= 10);
    CHECK(html.find("B&amp;B") != std::string::npos);
    CHECK(html.find("true: " + escaped + "<br>predicted: B&amp;B") != std::string::npos);
    CHECK(html.find("<pre>once upon a &lt;time&gt; &amp; &quot;place&quot;</pre>") !=
          std::string::npos);
    CHECK(count(html, "<script>") == 1);  // the page's own script alone
}

TEST_CASE("Report holds every section it was given, with charts, heat map and images") {
    ConfusionMatrix cm(3, {"cat", "dog", "emu"});
    cm.add(0, 0), cm.add(0, 0), cm.add(0, 1), cm.add(1, 1), cm.add(2, 0);
    ReportImage gray, rgb;
    gray.pixels.assign(28 * 28, 200), gray.height = gray.width = 28, gray.caption = "g";
    rgb.pixels.assign(4 * 5 * 3, 10), rgb.height = 4, rgb.width = 5, rgb.channels = 3;
    rgb.highlight = true;
    Report r("a run");
    r.add_metrics(two_epochs())
        .add_curve("loss per step", "step", "loss", {0, 1, 2, 3},
                   {{"train", "#1f77b4", {2.0, 1.5, 1.2, 1.0}}})
        .add_confusion(cm, {"cat", "dog", "emu"})
        .add_image_grid("worst", {gray, rgb})
        .add_text_samples("samples", {"abc", "def"})
        .add_settings({{"lr", "0.002"}})
        .add_table("Timings", {{"total (s)", "23.8"}});
    // metrics (charts), curve, confusion, images, samples, settings, timings, epochs table.
    REQUIRE(r.num_sections() == 8);
    const std::string html = r.html();
    CHECK(html.find("data-sections=\"8\"") != std::string::npos);
    CHECK(count(html, "<section ") == 8);
    CHECK(count(html, "<h2>") == 8);
    // loss, accuracy and lr per epoch; the curve; the heat map.
    CHECK(count(html, "<svg ") == 5);
    CHECK(html.find("learning rate (end of epoch)") != std::string::npos);
    CHECK(count(html, "<img ") == 2);
    CHECK(count(html, "src=\"data:image/png;base64,iVBORw0KGgo") == 2);  // the PNG signature
    CHECK(count(html, "class=\"wrong\"") == 1);
    CHECK(html.find("66.67%") != std::string::npos);                       // cat: 2 of 3
    CHECK(html.find("60.00%") != std::string::npos);                       // all: 3 of 5
    CHECK(html.find("<td class=\"num\">11.2</td>") != std::string::npos);  // epoch 2's seconds
    CHECK(html.find("<td class=\"num\">23.8</td>") != std::string::npos);  // their total
    CHECK(html.find("id=\"report-status\"") != std::string::npos);
    // Self-contained: nothing is fetched.
    CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg"));
    CHECK(html.find("https://") == std::string::npos);
    CHECK(html.find(" href=\"http") == std::string::npos);

    Report no_lr("b");
    no_lr.add_metrics(two_epochs(), false);
    CHECK(no_lr.html().find("learning rate (end of epoch)") == std::string::npos);
    CHECK(count(no_lr.html(), "<svg ") == 2);
}

TEST_CASE("Report refuses empty or mismatched content, naming it") {
    Report r("x");
    CHECK_THROWS_WITH_AS(r.add_metrics(MetricsLog()), doctest::Contains("no epoch"), Error);
    CHECK_THROWS_WITH_AS(r.add_curve("c", "x", "y", {0, 1}, {{"s", "red", {1.0}}}),
                         doctest::Contains("series 's' has 1 values for 2 x values"), Error);
    CHECK_THROWS_WITH_AS(r.add_image_grid("g", {}), doctest::Contains("no images"), Error);
    ReportImage bad;
    bad.pixels = {1, 2, 3}, bad.height = 2, bad.width = 2;
    CHECK_THROWS_WITH_AS(r.add_image_grid("g", {bad}), doctest::Contains("3 bytes for 2x2x1"),
                         Error);
    CHECK_THROWS_WITH_AS(r.add_confusion(ConfusionMatrix(3), {"a", "b"}),
                         doctest::Contains("2 class names for 3 classes"), Error);
    CHECK(r.num_sections() == 0);
    r.add_confusion(ConfusionMatrix(2));  // names 0 and 1
    CHECK(r.html().find("<td>1</td>") != std::string::npos);
}

TEST_CASE("Report::write replaces the file atomically and leaves no temp file") {
    const fs::path dir = fresh_dir("write");
    const std::string path = (dir / "report.html").string();
    {
        std::ofstream old(path);
        old << std::string(100000, 'x');  // longer than the report: no tail may survive
    }
    Report r("run");
    r.add_settings({{"a", "b"}});
    r.write(path);
    CHECK(slurp(path) == r.html());
    CHECK(!fs::exists(path + ".tmp"));
    CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
    // A directory that does not exist: an error naming it, nothing written.
    const std::string missing = (dir / "no" / "report.html").string();
    CHECK_THROWS_WITH_AS(r.write(missing), doctest::Contains((dir / "no").string().c_str()), Error);
    CHECK(!fs::exists(dir / "no"));
    fs::remove_all(dir);
}

TEST_CASE("encode_png writes a PNG that zlib decodes back to the pixels") {
    std::vector<std::uint8_t> px;
    for (int i = 0; i < 3 * 5 * 3; ++i) px.push_back(std::uint8_t(i * 5));
    const std::string png = encode_png(px, 3, 5, 3);
    REQUIRE(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
    std::size_t at = 8;
    std::string idat;
    std::vector<std::string> types;
    while (at + 12 <= png.size()) {
        const std::uint32_t len = be32(png, at);
        const std::string type = png.substr(at + 4, 4), data = png.substr(at + 8, len);
        const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(png.data() + at + 4), len + 4);
        CHECK(be32(png, at + 8 + len) == std::uint32_t(crc));
        if (type == "IHDR") {
            CHECK(be32(data, 0) == 5);  // width
            CHECK(be32(data, 4) == 3);  // height
            CHECK(int(data[8]) == 8);   // bit depth
            CHECK(int(data[9]) == 2);   // RGB
        }
        if (type == "IDAT") idat += data;
        types.push_back(type);
        at += 12 + len;
    }
    CHECK(at == png.size());
    CHECK(types == std::vector<std::string>{"IHDR", "IDAT", "IEND"});
    std::string raw(3 * (1 + 15), '\0');
    uLongf size = raw.size();
    REQUIRE(uncompress(reinterpret_cast<Bytef*>(&raw[0]), &size,
                       reinterpret_cast<const Bytef*>(idat.data()), uLong(idat.size())) == Z_OK);
    REQUIRE(size == raw.size());
    for (std::size_t y = 0; y < 3; ++y) {
        CHECK(raw[y * 16] == '\0');  // filter: none
        for (std::size_t i = 0; i < 15; ++i)
            CHECK(std::uint8_t(raw[y * 16 + 1 + i]) == px[y * 15 + i]);
    }
    CHECK_THROWS_WITH_AS(encode_png(px, 3, 5, 2), doctest::Contains("channels must be 1 or 3"),
                         Error);
}

TEST_CASE("base64 matches RFC 4648's test vectors") {
    CHECK(base64("") == "");
    CHECK(base64("f") == "Zg==");
    CHECK(base64("fo") == "Zm8=");
    CHECK(base64("foo") == "Zm9v");
    CHECK(base64("foob") == "Zm9vYg==");
    CHECK(base64("fooba") == "Zm9vYmE=");
    CHECK(base64("foobar") == "Zm9vYmFy");
    CHECK(base64(std::string("\xff\x00\xfe", 3)) == "/wD+");
}

TEST_CASE("WorstExamples keeps the k highest losses over batches, with their images") {
    WorstExamples worst(3);
    // Sample i of batch b is an image filled with 10*b + i; logits favour class 0 by m.
    auto batch = [&](int b, const std::vector<double>& margins,
                     const std::vector<std::int64_t>& labels) {
        std::vector<float> px, z;
        for (std::size_t i = 0; i < margins.size(); ++i) {
            for (int p = 0; p < 4; ++p) px.push_back(float(10 * b + int(i)) / 100);
            z.push_back(float(margins[i]));
            z.push_back(0);
        }
        const std::size_t m = margins.size();
        worst.add(filled(px, {m, 1, 2, 2}, float32), filled(z, {m, 2}, float32),
                  filled(labels, {m}, int64));
    };
    batch(0, {3, 1, -2}, {1, 1, 1});  // losses: large, medium, small (correct)
    batch(1, {0, 4, 2}, {0, 1, 0});   // 0.69 (tie at 0: argmax is class 0), the largest, small
    REQUIRE(worst.seen() == 6);
    auto ex = worst.examples();
    REQUIRE(ex.size() == 3);
    CHECK(ex[0].index == 4);  // margin 4 against its label
    CHECK(ex[1].index == 0);
    CHECK(ex[2].index == 1);
    CHECK(ex[0].loss == doctest::Approx(std::log(1 + std::exp(4.0))));
    CHECK(ex[0].p_label == doctest::Approx(1 / (1 + std::exp(4.0))));
    CHECK(ex[0].label == 1);
    CHECK(ex[0].prediction == 0);
    CHECK(ex[0].pixels == std::vector<float>(4, 0.11f));

    auto images = worst.images({"zero", "one"}, 0.5, 2.0);  // (x * 2 + 0.5) * 255
    REQUIRE(images.size() == 3);
    CHECK(images[0].height == 2);
    CHECK(images[0].channels == 1);
    CHECK(images[0].pixels ==
          std::vector<std::uint8_t>(4, 184));  // (0.11 * 2 + 0.5) * 255, rounded
    CHECK(images[0].caption.find("true: one\npredicted: zero") == 0);
    CHECK(images[0].highlight);

    // A bad batch throws naming the shapes and keeps nothing of it.
    CHECK_THROWS_WITH_AS(worst.add(zeros({2, 1, 2, 2}), zeros({3, 2}), zeros({2}, int64)),
                         doctest::Contains("[3, 2]"), Error);
    CHECK_THROWS_WITH_AS(worst.add(zeros({1, 1, 2, 2}), full({1, 2}, 9.0), full({1}, 5.0, int64)),
                         doctest::Contains("label 5 at 0 outside [0, 2)"), Error);
    CHECK_THROWS_WITH_AS(worst.add(zeros({1, 1, 3, 3}), zeros({1, 2}), zeros({1}, int64)),
                         doctest::Contains("images of 1x3x3 after ones of 1x2x2"), Error);
    CHECK(worst.seen() == 6);
    CHECK(worst.examples().size() == 3);
    CHECK_THROWS_AS(WorstExamples(0), Error);
}

TEST_CASE("line_chart_svg: a constant curve, a long curve and round ticks") {
    const std::string flat =
        line_chart_svg("lr", "epoch", {1, 2, 3}, {{"lr", "green", {1e-3, 1e-3, 1e-3}}});
    CHECK(flat.rfind("<svg ", 0) == 0);  // no XML prolog: it goes inline in HTML
    CHECK(flat.find(">0.001</text>") != std::string::npos);  // an axis at the value's scale
    CHECK(flat.find(">-0") == std::string::npos);
    CHECK(count(flat, "<circle") == 3);

    std::vector<double> xs, ys;
    for (int i = 0; i < 1000; ++i) xs.push_back(i / 100.0), ys.push_back(std::sin(i / 100.0));
    const std::string sine = line_chart_svg("y", "epoch", xs, {{"sin", "red", ys}});
    CHECK(count(sine, "<circle") == 0);  // a long curve is a line alone
    const std::size_t at = sine.find("<polyline points=\"");
    REQUIRE(at != std::string::npos);
    const std::string pts = sine.substr(at, sine.find('"', at + 18) - at);
    CHECK(count(pts, ",") == 400);  // drawn from 400 of the 1000 points
    for (const char* tick : {">0</text>", ">2</text>", ">4</text>", ">6</text>", ">8</text>"})
        CHECK(sine.find(tick) != std::string::npos);
    CHECK(sine.find(">0.01</text>") == std::string::npos);  // not a tick per point
}
