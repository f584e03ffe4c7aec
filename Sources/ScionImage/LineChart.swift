import CScionSupport
import Foundation

/// A small line-chart renderer (PNG through stb): panels of curves on a 0-100% axis, with
/// labels drawn by stb_easy_font. Enough for ACC/ASR-over-epochs figures.
public struct LineChart {
    public struct Series {
        public var label: String
        public var color: (UInt8, UInt8, UInt8)
        public var points: [(x: Double, y: Double)]

        public init(label: String, color: (UInt8, UInt8, UInt8), points: [(x: Double, y: Double)]) {
            self.label = label
            self.color = color
            self.points = points
        }
    }

    public struct Panel {
        public var title: String
        public var series: [Series]
        public var xLabel: String

        public init(title: String, series: [Series], xLabel: String = "epoch") {
            self.title = title
            self.series = series
            self.xLabel = xLabel
        }
    }

    public var panels: [Panel]
    public var panelWidth = 360
    public var panelHeight = 260

    public init(panels: [Panel]) { self.panels = panels }

    public func render() -> Image {
        let margin = (left: 46, right: 12, top: 30, bottom: 40)
        var canvas = Image(width: max(1, panels.count) * panelWidth, height: panelHeight, channels: 3, fill: 255)
        for (p, panel) in panels.enumerated() {
            let x0 = p * panelWidth + margin.left, x1 = (p + 1) * panelWidth - margin.right
            let y0 = margin.top, y1 = panelHeight - margin.bottom
            let xs = panel.series.flatMap { $0.points.map(\.x) }
            let minX = xs.min() ?? 0, maxX = max(xs.max() ?? 1, minX + 1)
            func px(_ x: Double) -> Int { x0 + Int((x - minX) / (maxX - minX) * Double(x1 - x0)) }
            func py(_ y: Double) -> Int { y1 - Int(min(max(y, 0), 1) * Double(y1 - y0)) }
            for tick in stride(from: 0.0, through: 1.0, by: 0.25) {
                line(&canvas, x0, py(tick), x1, py(tick), (225, 225, 225), 1)
                text(&canvas, "\(Int(tick * 100))%", x: x0 - 34, y: py(tick) - 4, (90, 90, 90))
            }
            line(&canvas, x0, y0, x0, y1, (0, 0, 0), 1)
            line(&canvas, x0, y1, x1, y1, (0, 0, 0), 1)
            text(&canvas, panel.title, x: x0, y: 10, (0, 0, 0), scale: 2)
            text(&canvas, String(Int(minX)), x: x0, y: y1 + 6, (90, 90, 90))
            text(&canvas, String(Int(maxX)), x: x1 - 12, y: y1 + 6, (90, 90, 90))
            text(&canvas, panel.xLabel, x: x0 + (x1 - x0) / 2 - 12, y: y1 + 12, (60, 60, 60))
            for (s, series) in panel.series.enumerated() {
                let pts = series.points.sorted { $0.x < $1.x }
                for (a, b) in zip(pts, pts.dropFirst()) {
                    line(&canvas, px(a.x), py(a.y), px(b.x), py(b.y), series.color, 2)
                }
                if pts.count == 1 {
                    line(&canvas, px(pts[0].x) - 2, py(pts[0].y), px(pts[0].x) + 2, py(pts[0].y), series.color, 3)
                }
                let legendY = y1 + 26
                line(&canvas, x0 + s * 110, legendY + 3, x0 + s * 110 + 16, legendY + 3, series.color, 2)
                text(&canvas, series.label, x: x0 + s * 110 + 20, y: legendY, (0, 0, 0))
            }
        }
        return canvas
    }

    private func line(
        _ image: inout Image, _ xa: Int, _ ya: Int, _ xb: Int, _ yb: Int, _ color: (UInt8, UInt8, UInt8), _ width: Int
    ) {
        let steps = max(abs(xb - xa), abs(yb - ya), 1)
        for i in 0...steps {
            let x = xa + (xb - xa) * i / steps, y = ya + (yb - ya) * i / steps
            for dy in 0..<width { for dx in 0..<width { plot(&image, x + dx - width / 2, y + dy - width / 2, color) } }
        }
    }

    private func plot(_ image: inout Image, _ x: Int, _ y: Int, _ color: (UInt8, UInt8, UInt8)) {
        guard x >= 0, x < image.width, y >= 0, y < image.height else { return }
        image[x, y, 0] = color.0
        image[x, y, 1] = color.1
        image[x, y, 2] = color.2
    }

    private func text(
        _ image: inout Image, _ string: String, x: Int, y: Int, _ color: (UInt8, UInt8, UInt8), scale: Int = 1
    ) {
        var rects = [Float](repeating: 0, count: 4 * 2000)
        let count = Int(rects.withUnsafeMutableBufferPointer { scion_text_rects(string, 0, 0, $0.baseAddress!, 2000) })
        for r in 0..<count {
            let ax = Int(rects[4 * r]) * scale, ay = Int(rects[4 * r + 1]) * scale
            let bx = Int(rects[4 * r + 2]) * scale, by = Int(rects[4 * r + 3]) * scale
            for yy in ay..<max(ay + 1, by) { for xx in ax..<max(ax + 1, bx) { plot(&image, x + xx, y + yy, color) } }
        }
    }
}
