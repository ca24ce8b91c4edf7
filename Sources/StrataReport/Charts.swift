import Foundation

/// Charts drawn by the server as inline SVG (no script, no external files): fixed-size, with their
/// numbers written on them, so a page shows the same thing in any browser or in a screenshot.
public enum Charts {
    public static let width = 560
    public static let barHeight = 22

    /// Horizontal bars, one per label, each with its value printed at its end.
    public static func bars(_ items: [(label: String, value: Double)], title: String, format: (Double) -> String = { number($0) },
                     colour: String = "#3b6ea8") -> String {
        let labelWidth = 190
        let plotWidth = width - labelWidth - 90
        let height = 30 + max(1, items.count) * barHeight
        let top = max(items.map(\.value).max() ?? 0, 1e-12)
        var svg = open(height: height, title: title)
        if items.isEmpty { svg += text(x: 10, y: 40, "no data yet", anchor: "start", colour: "#777") }
        for (index, item) in items.enumerated() {
            let y = 26 + index * barHeight
            let length = max(1, Int(Double(plotWidth) * max(0, item.value) / top))
            svg += text(x: labelWidth - 6, y: y + 15, item.label, anchor: "end")
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y + 3)\" width=\"\(length)\" height=\"\(barHeight - 6)\" fill=\"\(colour)\"><title>\(escape(item.label)): \(escape(format(item.value)))</title></rect>"
            svg += text(x: labelWidth + length + 5, y: y + 15, format(item.value), anchor: "start")
        }
        return svg + "</svg>"
    }

    /// Two series side by side per label (a comparison of two runs).
    public static func pairedBars(_ labels: [String], _ first: [Double], _ second: [Double], names: (String, String), title: String) -> String {
        let labelWidth = 190
        let plotWidth = width - labelWidth - 80
        let rowHeight = 30
        let height = 46 + max(1, labels.count) * rowHeight
        let top = max((first + second).max() ?? 0, 1e-12)
        var svg = open(height: height, title: title)
        svg += "<rect x=\"\(labelWidth)\" y=\"24\" width=\"10\" height=\"10\" fill=\"#3b6ea8\"/>" + text(x: labelWidth + 14, y: 33, names.0, anchor: "start")
        svg += "<rect x=\"\(labelWidth + 180)\" y=\"24\" width=\"10\" height=\"10\" fill=\"#d9822b\"/>" + text(x: labelWidth + 194, y: 33, names.1, anchor: "start")
        for (index, label) in labels.enumerated() {
            let y = 42 + index * rowHeight
            svg += text(x: labelWidth - 6, y: y + 17, label, anchor: "end")
            for (series, values, colour) in [(0, first, "#3b6ea8"), (1, second, "#d9822b")] {
                let value = index < values.count ? values[index] : 0
                let length = max(1, Int(Double(plotWidth) * max(0, value) / top))
                svg += "<rect x=\"\(labelWidth)\" y=\"\(y + 2 + series * 13)\" width=\"\(length)\" height=\"11\" fill=\"\(colour)\"><title>\(escape(label)): \(number(value))</title></rect>"
            }
        }
        return svg + "</svg>"
    }

    /// A line over x (store versions, say), with the first and last values labelled.
    public static func line(_ points: [(x: Double, y: Double)], title: String, xLabel: String, format: (Double) -> String = { number($0) }) -> String {
        let height = 200
        let (left, right, top, bottom) = (60, width - 20, 30, height - 30)
        var svg = open(height: height, title: title)
        guard let first = points.first, let last = points.last else {
            return svg + text(x: 10, y: 60, "no data yet", anchor: "start", colour: "#777") + "</svg>"
        }
        let xs = points.map(\.x), ys = points.map(\.y)
        let (xLow, xHigh) = (xs.min()!, max(xs.max()!, xs.min()! + 1))
        let (yLow, yHigh) = (0.0, max(ys.max()!, 1e-12))
        func px(_ x: Double) -> Int { left + Int(Double(right - left) * (x - xLow) / (xHigh - xLow)) }
        func py(_ y: Double) -> Int { bottom - Int(Double(bottom - top) * (y - yLow) / (yHigh - yLow)) }
        svg += "<line x1=\"\(left)\" y1=\"\(bottom)\" x2=\"\(right)\" y2=\"\(bottom)\" stroke=\"#999\"/>"
        svg += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(bottom)\" stroke=\"#999\"/>"
        let path = points.map { "\(px($0.x)),\(py($0.y))" }.joined(separator: " ")
        svg += "<polyline fill=\"none\" stroke=\"#3b6ea8\" stroke-width=\"2\" points=\"\(path)\"/>"
        for point in [first, last] { svg += "<circle cx=\"\(px(point.x))\" cy=\"\(py(point.y))\" r=\"3\" fill=\"#3b6ea8\"/>" }
        svg += text(x: left - 4, y: top + 4, format(yHigh), anchor: "end")
        svg += text(x: left - 4, y: bottom, "0", anchor: "end")
        svg += text(x: left, y: bottom + 16, number(xLow), anchor: "start")
        svg += text(x: right, y: bottom + 16, number(xs.max()!), anchor: "end")
        svg += text(x: (left + right) / 2, y: bottom + 16, xLabel, anchor: "middle", colour: "#555")
        svg += text(x: px(last.x) - 4, y: py(last.y) - 6, format(last.y), anchor: "end")
        return svg + "</svg>"
    }

    private static func open(height: Int, title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(escape(title))\">"
            + text(x: 4, y: 16, title, anchor: "start", colour: "#222", weight: "bold")
    }

    private static func text(x: Int, y: Int, _ content: String, anchor: String, colour: String = "#333", weight: String = "normal") -> String {
        "<text x=\"\(x)\" y=\"\(y)\" text-anchor=\"\(anchor)\" font-size=\"12\" font-family=\"sans-serif\" font-weight=\"\(weight)\" fill=\"\(colour)\">\(escape(content))</text>"
    }

    /// Text safe inside SVG or HTML elements and attributes.
    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default:
                // Control characters are not allowed in XML at all.
                if scalar.value < 0x20 && scalar != "\n" && scalar != "\t" { result += "\u{FFFD}" } else { result.unicodeScalars.append(scalar) }
            }
        }
        return result
    }

    public static func number(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return Int64(value).formatted() }
        return String(format: abs(value) >= 100 ? "%.0f" : abs(value) >= 1 ? "%.2f" : "%.4f", value)
    }

    public static func bytes(_ value: Double) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var amount = value
        var unit = 0
        while amount >= 1024 && unit < units.count - 1 { amount /= 1024; unit += 1 }
        return unit == 0 ? "\(Int(amount)) B" : String(format: "%.1f %@", amount, units[unit])
    }
}
