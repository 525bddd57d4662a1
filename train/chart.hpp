#pragma once
// Line charts as inline SVG, in the style of MetricsLog::svg (the drawing lives in metrics.cpp).
#include <string>
#include <vector>

namespace xg::train {

// One curve of a chart: its legend name, an SVG color and a y per x (NaN: no point).
struct ChartSeries {
    std::string name, color;
    std::vector<double> y;
};
// One panel as an <svg> element without the XML prolog (to inline in HTML). Curves longer than
// 400 points are drawn from 400 evenly spaced ones.
std::string line_chart_svg(const std::string& ylabel, const std::string& xlabel,
                           const std::vector<double>& xs, const std::vector<ChartSeries>& series,
                           double width = 450, double height = 340);

}  // namespace xg::train
