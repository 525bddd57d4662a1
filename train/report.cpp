#include "train/report.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "core/error.hpp"
#include "train/png.hpp"

namespace xg::train {

namespace {
constexpr const char* kStyle = R"(
body{font-family:sans-serif;margin:24px;color:#222;background:#fff;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0 0 10px}
section{border-top:1px solid #ccc;padding:14px 0}
nav a{margin-right:14px;font-size:13px}
#report-status{font-size:12px;color:#888}#report-status.bad{color:#b00;font-weight:bold}
.charts{display:flex;flex-wrap:wrap;gap:10px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px}
th{background:#f3f3f3;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
.bar{background:#3a78b5;height:10px}
.grid{display:flex;flex-wrap:wrap;gap:8px}
figure{margin:0;width:104px;text-align:center;font-size:11px}
figure img{width:84px;height:84px;image-rendering:pixelated;border:3px solid #7a7;display:block;
margin:0 auto}
figure.wrong img{border-color:#d33}
pre{background:#f6f6f6;border:1px solid #ddd;padding:8px;white-space:pre-wrap;font-size:13px}
)";

// Checks every section rendered and reports into #report-status (and body's data-status).
constexpr const char* kScript = R"(
(function () {
  var errors = [];
  window.addEventListener('error', function (e) { errors.push('script error: ' + e.message); });
  window.addEventListener('load', function () {
    var sections = document.querySelectorAll('section');
    var want = Number(document.body.getAttribute('data-sections'));
    if (sections.length !== want)
      errors.push('expected ' + want + ' sections, found ' + sections.length);
    sections.forEach(function (s) {
      var h = s.querySelector('h2');
      var name = h ? h.textContent : s.id;
      if (!h) errors.push(s.id + ': no heading');
      s.querySelectorAll('svg').forEach(function (g) {
        var b = g.getBoundingClientRect();
        if (!g.childElementCount || b.width < 1 || b.height < 1) errors.push(name + ': empty chart');
      });
      s.querySelectorAll('img').forEach(function (im) {
        if (!im.complete || im.naturalWidth < 1) errors.push(name + ': an image did not decode');
      });
      var kind = s.getAttribute('data-kind');
      if ((kind === 'chart' || kind === 'heatmap') && !s.querySelector('svg'))
        errors.push(name + ': no chart');
      if (kind === 'images' && !s.querySelector('img')) errors.push(name + ': no image');
      if (s.textContent.replace(name, '').trim() === '' && !s.querySelector('svg,img'))
        errors.push(name + ': empty');
    });
    var st = document.getElementById('report-status');
    st.textContent = errors.length ? 'report-error: ' + errors.join('; ') : 'report-ok';
    st.className = errors.length ? 'bad' : 'ok';
    document.body.setAttribute('data-status', errors.length ? 'error' : 'ok');
  });
})();
)";

std::string num(double v, const char* fmt_spec = "{:.4g}") {
    return std::isfinite(v) ? fmt::format(fmt::runtime(fmt_spec), v) : std::string("&ndash;");
}

// Shade of a heat map cell: white to dark blue with t in [0, 1].
std::string shade(double t) {
    t = std::min(1.0, std::max(0.0, t));
    auto mix = [t](int a, int b) { return int(std::lround(a + (b - a) * t)); };
    return fmt::format("rgb({},{},{})", mix(247, 8), mix(251, 48), mix(255, 107));
}

std::string heat_map(const ConfusionMatrix& cm, const std::vector<std::string>& names) {
    const std::size_t n = cm.num_classes();
    std::size_t longest = 1;
    for (const auto& s : names) longest = std::max(longest, s.size());
    const double cell = n > 20 ? 22 : 42,
                 label = 16 + 6.0 * double(std::min<std::size_t>(longest, 24));
    const double l = label + 24, t = label + 24, w = l + cell * double(n) + 10,
                 h = t + cell * double(n) + 10;
    std::string o = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 "
        "{0} {1}\" font-family=\"sans-serif\">\n<rect width=\"{0}\" height=\"{1}\" "
        "fill=\"white\"/>\n",
        w, h);
    o += fmt::format(
        "<text x=\"{:.1f}\" y=\"14\" text-anchor=\"middle\" font-size=\"13\">predicted</text>\n"
        "<text transform=\"translate(14 {:.1f}) rotate(-90)\" text-anchor=\"middle\" "
        "font-size=\"13\">true</text>\n",
        l + cell * double(n) / 2, t + cell * double(n) / 2);
    for (std::size_t i = 0; i < n; ++i) {
        const std::string name = html_escape(names[i]);
        const double c = double(i) * cell + cell / 2;
        o += fmt::format(
            "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" font-size=\"11\">{}</text>\n",
            l - 5, t + c + 4, name);
        o += fmt::format(
            "<text transform=\"translate({:.1f} {:.1f}) rotate(-60)\" font-size=\"11\">{}"
            "</text>\n",
            l + c + 4, t - 5, name);
        std::size_t row = 0;
        for (std::size_t j = 0; j < n; ++j) row += cm.count(i, j);
        for (std::size_t j = 0; j < n; ++j) {
            const std::size_t k = cm.count(i, j);
            const double frac = row ? double(k) / double(row) : 0;
            o += fmt::format(
                "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\" "
                "stroke=\"#fff\"><title>true {}, predicted {}: {} ({:.1f}%)</title></rect>\n",
                l + double(j) * cell, t + double(i) * cell, cell, cell, shade(frac), name,
                html_escape(names[j]), k, 100 * frac);
            if (n <= 20 && k > 0)
                o += fmt::format(
                    "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"11\" "
                    "fill=\"{}\">{}</text>\n",
                    l + double(j) * cell + cell / 2, t + c + 4, frac > 0.5 ? "#fff" : "#222", k);
        }
    }
    return o + "</svg>\n";
}

std::string per_class_table(const ConfusionMatrix& cm, const std::vector<std::string>& names) {
    const auto acc = cm.per_class_accuracy();
    std::string o =
        "<table><tr><th>class</th><th>correct</th><th>samples</th><th>accuracy</th>"
        "<th></th></tr>\n";
    for (std::size_t i = 0; i < cm.num_classes(); ++i) {
        std::size_t row = 0;
        for (std::size_t j = 0; j < cm.num_classes(); ++j) row += cm.count(i, j);
        const double a = acc[i];
        o += fmt::format(
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
            "class=\"num\">{}</td><td style=\"width:160px\"><div class=\"bar\" "
            "style=\"width:{:.1f}%\"></div></td></tr>\n",
            html_escape(names[i]), cm.count(i, i), row,
            std::isfinite(a) ? fmt::format("{:.2f}%", 100 * a) : "&ndash;",
            std::isfinite(a) ? 100 * a : 0.0);
    }
    o += fmt::format(
        "<tr><th>all</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
        "class=\"num\">{}</td><td></td></tr>\n</table>\n",
        std::size_t(std::lround(cm.accuracy() * double(cm.total()))), cm.total(),
        cm.total() ? fmt::format("{:.2f}%", 100 * cm.accuracy()) : "&ndash;");
    return o;
}

std::string slug(std::size_t i, const std::string& heading) {
    std::string s = "s" + std::to_string(i + 1) + "-";
    for (char c : heading) {
        if (std::isalnum(static_cast<unsigned char>(c)))
            s += char(std::tolower(static_cast<unsigned char>(c)));
        else if (s.back() != '-')
            s += '-';
    }
    while (s.back() == '-') s.pop_back();
    return s;
}
}  // namespace

std::string html_escape(const std::string& s) {
    std::string r;
    r.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&':
                r += "&amp;";
                break;
            case '<':
                r += "&lt;";
                break;
            case '>':
                r += "&gt;";
                break;
            case '"':
                r += "&quot;";
                break;
            case '\'':
                r += "&#39;";
                break;
            default:
                r += c;
        }
    }
    return r;
}

Report::Report(std::string title) : title_(std::move(title)) {}

Report& Report::add(std::string kind, const std::string& heading, std::string body) {
    sections_.push_back({std::move(kind), heading, std::move(body)});
    return *this;
}

Report& Report::add_table(const std::string& heading, const Rows& rows) {
    std::string o = "<table>\n";
    for (const auto& row : rows)
        o += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", html_escape(row.first),
                         html_escape(row.second));
    return add("table", heading, o + "</table>\n");
}

Report& Report::add_metrics(const MetricsLog& log, bool lr_chart) {
    XG_CHECK(!log.rows().empty(), "Report::add_metrics: the metrics log has no epoch");
    std::vector<double> xs;
    ChartSeries trl{"train", "#1f77b4", {}}, tel{"test", "#d62728", {}};
    ChartSeries tra{"train", "#1f77b4", {}}, tea{"test", "#d62728", {}};
    ChartSeries lr{"lr", "#2ca02c", {}};
    std::string table =
        "<table><tr><th>epoch</th><th>train loss</th><th>train acc</th><th>test loss</th>"
        "<th>test acc</th><th>lr (end)</th><th>seconds</th></tr>\n";
    double total = 0;
    for (const auto& m : log.rows()) {
        xs.push_back(double(m.epoch));
        trl.y.push_back(m.train_loss), tel.y.push_back(m.test_loss);
        tra.y.push_back(100 * m.train_acc), tea.y.push_back(100 * m.test_acc);
        lr.y.push_back(m.lr);
        total += m.seconds;
        table += fmt::format(
            "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}%</td>"
            "<td class=\"num\">{}</td><td class=\"num\">{}%</td><td class=\"num\">{}</td>"
            "<td class=\"num\">{}</td></tr>\n",
            m.epoch, num(m.train_loss), num(100 * m.train_acc, "{:.2f}"), num(m.test_loss),
            num(100 * m.test_acc, "{:.2f}"), num(m.lr), num(m.seconds, "{:.1f}"));
    }
    table += fmt::format(
        "<tr><th>total</th><td colspan=\"5\"></td><td class=\"num\">{:.1f}</td></tr></table>\n",
        total);
    add("chart", "Loss and accuracy per epoch",
        "<div class=\"charts\">" + line_chart_svg("loss", "epoch", xs, {trl, tel}) +
            line_chart_svg("accuracy (%)", "epoch", xs, {tra, tea}) +
            (lr_chart ? line_chart_svg("learning rate (end of epoch)", "epoch", xs, {lr}) : "") +
            "</div>\n");
    epochs_ = table;  // the table goes last, with the settings
    return *this;
}

Report& Report::add_curve(const std::string& heading, const std::string& xlabel,
                          const std::string& ylabel, const std::vector<double>& xs,
                          const std::vector<ChartSeries>& series) {
    XG_CHECK(!xs.empty() && !series.empty(), "Report::add_curve '{}': no points or no series",
             heading);
    for (const auto& s : series)
        XG_CHECK(s.y.size() == xs.size(),
                 "Report::add_curve '{}': series '{}' has {} values for {} x values", heading,
                 s.name, s.y.size(), xs.size());
    return add("chart", heading,
               "<div class=\"charts\">" + line_chart_svg(ylabel, xlabel, xs, series, 700, 340) +
                   "</div>\n");
}

Report& Report::add_confusion(const ConfusionMatrix& confusion,
                              const std::vector<std::string>& class_names) {
    std::vector<std::string> names = class_names;
    XG_CHECK(names.empty() || names.size() == confusion.num_classes(),
             "Report::add_confusion: {} class names for {} classes", names.size(),
             confusion.num_classes());
    for (std::size_t i = names.size(); i < confusion.num_classes(); ++i)
        names.push_back(std::to_string(i));
    return add("heatmap", "Confusion matrix and per-class accuracy (test)",
               "<p>Rows: true class; columns: predicted class; shade: fraction of the row.</p>\n"
               "<div class=\"charts\"><div>" +
                   heat_map(confusion, names) + "</div><div>" + per_class_table(confusion, names) +
                   "</div></div>\n");
}

Report& Report::add_image_grid(const std::string& heading, const std::vector<ReportImage>& images) {
    XG_CHECK(!images.empty(), "Report::add_image_grid '{}': no images", heading);
    std::string o = "<div class=\"grid\">\n";
    for (const ReportImage& im : images) {
        std::string caption = html_escape(im.caption);
        for (std::size_t p = caption.find('\n'); p != std::string::npos; p = caption.find('\n'))
            caption.replace(p, 1, "<br>");
        o +=
            fmt::format("<figure{}><img alt=\"\" src=\"{}\"><figcaption>{}</figcaption></figure>\n",
                        im.highlight ? " class=\"wrong\"" : "",
                        png_data_uri(im.pixels, im.height, im.width, im.channels), caption);
    }
    return add("images", heading, o + "</div>\n");
}

Report& Report::add_text_samples(const std::string& heading,
                                 const std::vector<std::string>& samples) {
    XG_CHECK(!samples.empty(), "Report::add_text_samples '{}': no samples", heading);
    std::string o;
    for (const auto& s : samples) o += "<pre>" + html_escape(s) + "</pre>\n";
    return add("text", heading, o);
}

Report& Report::add_note(const std::string& heading, const std::string& text) {
    return add("text", heading, "<p>" + html_escape(text) + "</p>\n");
}

std::string Report::html() const {
    std::string nav, body;
    std::vector<Section> sections = sections_;
    if (!epochs_.empty()) sections.push_back({"table", "Epochs and timings", epochs_});
    for (std::size_t i = 0; i < sections.size(); ++i) {
        const Section& s = sections[i];
        const std::string id = slug(i, s.heading), h = html_escape(s.heading);
        nav += fmt::format("<a href=\"#{}\">{}</a>", id, h);
        body += fmt::format("<section id=\"{}\" data-kind=\"{}\">\n<h2>{}</h2>\n{}</section>\n", id,
                            s.kind, h, s.body);
    }
    return fmt::format(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>{0}</title>\n<style>{1}</style>\n<script>{2}</script>\n</head>\n"
        "<body data-sections=\"{3}\" data-status=\"unchecked\">\n<h1>{0}</h1>\n"
        "<p id=\"report-status\">report-unchecked (the page's script did not run)</p>\n"
        "<nav>{4}</nav>\n{5}</body>\n</html>\n",
        html_escape(title_), kStyle, kScript, sections.size(), nav, body);
}

void Report::write(const std::string& path) const {
    write_file_atomic(path, html());
}

}  // namespace xg::train
