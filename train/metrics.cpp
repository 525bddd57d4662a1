#include "train/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/error.hpp"
#include "train/chart.hpp"

namespace xg::train {

namespace {
constexpr const char* kHeader = "epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds";

std::string esc(const std::string& s) {  // XML text escaping for the title
    std::string r;
    for (char c : s) {
        if (c == '<')
            r += "&lt;";
        else if (c == '>')
            r += "&gt;";
        else if (c == '&')
            r += "&amp;";
        else if (c == '"')
            r += "&quot;";
        else
            r += c;
    }
    return r;
}

// Round axis limits: [lo, hi] widened to multiples of a 1/2/5 step, about 5 ticks.
struct Axis {
    double lo, hi, step;
};
Axis nice_axis(double lo, double hi) {
    if (!(hi > lo)) {  // one value: a range around it at its own scale (e.g. a constant lr)
        double c = std::isfinite(lo) ? lo : 0.0, half = c != 0 ? std::abs(c) / 2 : 0.5;
        lo = c - half;
        hi = c + half;
    }
    double raw = (hi - lo) / 5, mag = std::pow(10.0, std::floor(std::log10(raw)));
    double step = raw / mag < 1.5   ? mag
                  : raw / mag < 3.5 ? 2 * mag
                  : raw / mag < 7.5 ? 5 * mag
                                    : 10 * mag;
    return {std::floor(lo / step) * step, std::ceil(hi / step) * step, step};
}

using Series = ChartSeries;

// One panel at (x0, y0) of size w x h: axes, ticks, a polyline and dots per series, a legend.
// The legend goes top right (falling curves) or bottom right (rising ones).
std::string panel(double x0, double y0, double w, double h, const std::string& ylabel,
                  const std::vector<double>& xs, const std::vector<Series>& series,
                  bool legend_bottom, const std::string& xlabel = "epoch") {
    double lo = INFINITY, hi = -INFINITY;
    for (const auto& s : series)
        for (double v : s.y)
            if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    Axis ya = nice_axis(lo, hi);
    double xmax = xs.empty() ? 1 : std::max(1.0, xs.back());
    double xmin = xs.empty() ? 0 : std::min(xs.front(), xmax - 1);
    const double l = x0 + 60, r = x0 + w - 15, t = y0 + 30, b = y0 + h - 45;
    auto px = [&](double x) { return l + (x - xmin) / (xmax - xmin) * (r - l); };
    auto py = [&](double y) { return b - (y - ya.lo) / (ya.hi - ya.lo) * (b - t); };
    std::string o;
    o += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
        "fill=\"none\" stroke=\"#444\"/>\n",
        l, t, r - l, b - t);
    for (double v = ya.lo; v <= ya.hi + ya.step / 2; v += ya.step) {
        o += fmt::format(
            "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
            "stroke=\"#ddd\"/>\n",
            l, py(v), r, py(v));
        o += fmt::format(
            "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" font-size=\"11\">"
            "{:g}</text>\n",
            l - 5, py(v) + 4, std::round(v / ya.step) * ya.step + 0.0);  // no "-0"
    }
    // Up to 20 points: a tick at each x (epochs); more (steps): round ticks over the range.
    std::vector<double> ticks;
    if (xs.size() <= 20) {
        std::size_t every = std::max<std::size_t>(1, xs.size() / 10);
        for (std::size_t i = 0; i < xs.size(); i += every) ticks.push_back(xs[i]);
    } else {
        Axis xa = nice_axis(xmin, xmax);
        for (double v = xa.lo; v <= xmax + xa.step * 1e-6; v += xa.step)
            if (v >= xmin - xa.step * 1e-6) ticks.push_back(std::round(v / xa.step) * xa.step);
    }
    for (double x : ticks) {
        o += fmt::format(
            "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" "
            "font-size=\"11\">{:g}</text>\n",
            px(x), b + 15, x);
    }
    o += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"12\">"
        "{}</text>\n",
        (l + r) / 2, b + 32, esc(xlabel));
    o += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"13\" "
        "font-weight=\"bold\">{}</text>\n",
        (l + r) / 2, t - 10, esc(ylabel));
    for (std::size_t k = 0; k < series.size(); ++k) {
        const Series& s = series[k];
        std::string pts;
        for (std::size_t i = 0; i < s.y.size() && i < xs.size(); ++i) {
            if (!std::isfinite(s.y[i])) continue;
            pts += fmt::format("{:.1f},{:.1f} ", px(xs[i]), py(s.y[i]));
            if (xs.size() <= 60)  // dots for epochs; a long curve is a line alone
                o += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"/>\n",
                                 px(xs[i]), py(s.y[i]), s.color);
        }
        o += fmt::format(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" "
            "stroke-width=\"2\"/>\n",
            pts, s.color);
        double ly =
            legend_bottom ? b - 15 - 16 * double(series.size() - 1 - k) : t + 15 + 16 * double(k);
        o += fmt::format(
            "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
            "stroke=\"{}\" stroke-width=\"2\"/>\n",
            r - 90, ly, r - 70, ly, s.color);
        o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\">{}</text>\n", r - 65,
                         ly + 4, esc(s.name));
    }
    return o;
}
}  // namespace

void write_file_atomic(const std::string& path, const std::string& text) {
    std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        XG_CHECK(f.good(), "write_file: cannot open '{}' for writing", tmp);
        f << text;
        f.flush();
        XG_CHECK(f.good(), "write_file: writing '{}' failed", tmp);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw Error(fmt::format("write_file: cannot rename '{}' to '{}'", tmp, path));
    }
}

std::string MetricsLog::csv() const {
    std::string s = std::string(kHeader) + "\n";
    for (const auto& m : rows_) {
        s += fmt::format("{},{:.6f},{:.6f},{:.6f},{:.6f},{:.6g},{:.3f}\n", m.epoch, m.train_loss,
                         m.train_acc, m.test_loss, m.test_acc, m.lr, m.seconds);
    }
    return s;
}

void MetricsLog::write_csv(const std::string& path) const {
    write_file_atomic(path, csv());
}

MetricsLog MetricsLog::parse_csv(const std::string& text, const std::string& name) {
    std::istringstream in(text);
    std::string line;
    XG_CHECK(std::getline(in, line) && line == kHeader,
             "read_csv: '{}' does not start with the header '{}'", name, kHeader);
    MetricsLog log;
    for (std::size_t n = 2; std::getline(in, line); ++n) {
        if (line.empty()) continue;
        EpochMetrics m;
        std::istringstream row(line);
        std::string cell;
        std::vector<double> v;
        while (std::getline(row, cell, ',')) {
            std::size_t used = 0;
            double d = 0;
            try {
                d = std::stod(cell, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            XG_CHECK(used == cell.size() && !cell.empty(),
                     "read_csv: '{}' line {}: '{}' is not a number", name, n, cell);
            v.push_back(d);
        }
        XG_CHECK(v.size() == 7, "read_csv: '{}' line {} has {} fields, expected 7", name, n,
                 v.size());
        m.epoch = static_cast<std::size_t>(v[0]);
        m.train_loss = v[1], m.train_acc = v[2], m.test_loss = v[3], m.test_acc = v[4];
        m.lr = v[5], m.seconds = v[6];
        log.add(m);
    }
    return log;
}

MetricsLog MetricsLog::read_csv(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    XG_CHECK(f.good(), "read_csv: cannot open '{}'", path);
    std::stringstream ss;
    ss << f.rdbuf();
    return parse_csv(ss.str(), path);
}

std::string MetricsLog::svg(const std::string& title) const {
    std::vector<double> xs;
    Series trl{"train", "#1f77b4", {}}, tel{"test", "#d62728", {}};
    Series tra{"train", "#1f77b4", {}}, tea{"test", "#d62728", {}};
    for (const auto& m : rows_) {
        xs.push_back(double(m.epoch));
        trl.y.push_back(m.train_loss);
        tel.y.push_back(m.test_loss);
        tra.y.push_back(100 * m.train_acc);
        tea.y.push_back(100 * m.test_acc);
    }
    const double w = 900, h = 380;
    std::string o = fmt::format(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
        "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\">\n"
        "<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n"
        "<text x=\"{2}\" y=\"20\" text-anchor=\"middle\" font-size=\"15\">{3}</text>\n",
        w, h, w / 2, esc(title));
    o += panel(0, 20, w / 2, h - 20, "loss", xs, {trl, tel}, false);
    o += panel(w / 2, 20, w / 2, h - 20, "accuracy (%)", xs, {tra, tea}, true);
    o += "</svg>\n";
    return o;
}

std::string line_chart_svg(const std::string& ylabel, const std::string& xlabel,
                           const std::vector<double>& xs, const std::vector<ChartSeries>& series,
                           double width, double height) {
    // At most 400 points per curve: evenly spaced ones keep the shape and the file small.
    std::vector<double> x = xs;
    std::vector<ChartSeries> ss = series;
    if (xs.size() > 400) {
        x.clear();
        for (auto& s : ss) s.y.clear();
        for (std::size_t j = 0; j < 400; ++j) {
            std::size_t i = j * (xs.size() - 1) / 399;
            x.push_back(xs[i]);
            for (std::size_t k = 0; k < ss.size(); ++k)
                ss[k].y.push_back(i < series[k].y.size() ? series[k].y[i] : NAN);
        }
    }
    std::string o = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
        "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\">\n"
        "<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n",
        width, height);
    // The legend where the curves are not: bottom right when the first one rises.
    const bool rising = !ss.empty() && ss[0].y.size() > 1 && ss[0].y.back() > ss[0].y.front();
    o += panel(0, 0, width, height, ylabel, x, ss, rising, xlabel);
    return o + "</svg>\n";
}

void MetricsLog::write_svg(const std::string& path, const std::string& title) const {
    write_file_atomic(path, svg(title));
}

}  // namespace xg::train
