import CCairo
import Foundation

/// A horizontal bar chart: drawn as inline SVG for browsers (`Charts.bars`) and as PNG through cairo
/// for mail clients that block SVG. Both come from the same items.
public struct BarChart: Sendable {
    public var id: String
    public var title: String
    public var items: [(label: String, value: Double)]
    public var format: @Sendable (Double) -> String
    public var colour: (hex: String, red: Double, green: Double, blue: Double)

    public static let blue = (hex: "#3b6ea8", red: 0x3b / 255.0, green: 0x6e / 255.0, blue: 0xa8 / 255.0)
    public static let orange = (hex: "#d9822b", red: 0xd9 / 255.0, green: 0x82 / 255.0, blue: 0x2b / 255.0)

    public init(id: String, title: String, items: [(label: String, value: Double)], format: @escaping @Sendable (Double) -> String = { Charts.number($0) },
                colour: (hex: String, red: Double, green: Double, blue: Double) = BarChart.blue) {
        self.id = id
        self.title = title
        self.items = items
        self.format = format
        self.colour = colour
    }

    public func svg() -> String { Charts.bars(items, title: title, format: format, colour: colour.hex) }

    /// The same chart as a PNG image (cairo's image surface and PNG writer), same layout as the SVG.
    public func png() throws -> [UInt8] {
        let width = Charts.width
        let labelWidth = 190
        let plotWidth = width - labelWidth - 90
        let height = 30 + max(1, items.count) * Charts.barHeight
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height)) else { throw ReportError("cairo could not make an image surface") }
        defer { cairo_surface_destroy(surface) }
        guard let cr = cairo_create(surface) else { throw ReportError("cairo could not make a drawing context") }
        defer { cairo_destroy(cr) }
        cairo_set_source_rgb(cr, 1, 1, 1)
        cairo_paint(cr)
        cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD)
        cairo_set_font_size(cr, 12)
        func text(_ content: String, x: Double, y: Double, anchor: String, grey: Double = 0.2) {
            var extents = cairo_text_extents_t()
            cairo_text_extents(cr, content, &extents)
            let left = anchor == "end" ? x - extents.x_advance : anchor == "middle" ? x - extents.x_advance / 2 : x
            cairo_set_source_rgb(cr, grey, grey, grey)
            cairo_move_to(cr, left, y)
            cairo_show_text(cr, content)
        }
        text(title, x: 4, y: 16, anchor: "start", grey: 0.13)
        cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
        if items.isEmpty { text("no data yet", x: 10, y: 40, anchor: "start", grey: 0.47) }
        let top = max(items.map(\.value).max() ?? 0, 1e-12)
        for (index, item) in items.enumerated() {
            let y = Double(26 + index * Charts.barHeight)
            let length = max(1, Int(Double(plotWidth) * max(0, item.value) / top))
            text(item.label, x: Double(labelWidth - 6), y: y + 15, anchor: "end")
            cairo_set_source_rgb(cr, colour.red, colour.green, colour.blue)
            cairo_rectangle(cr, Double(labelWidth), y + 3, Double(length), Double(Charts.barHeight - 6))
            cairo_fill(cr)
            text(format(item.value), x: Double(labelWidth + length + 5), y: y + 15, anchor: "start")
        }
        cairo_surface_flush(surface)
        final class Sink { var bytes: [UInt8] = [] }
        let sink = Sink()
        let status = cairo_surface_write_to_png_stream(surface, { closure, data, length in
            let sink = Unmanaged<Sink>.fromOpaque(closure!).takeUnretainedValue()
            sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
            return CAIRO_STATUS_SUCCESS
        }, Unmanaged.passUnretained(sink).toOpaque())
        guard status == CAIRO_STATUS_SUCCESS else { throw ReportError("cairo could not write the PNG of chart \(id): \(String(cString: cairo_status_to_string(status)))") }
        return sink.bytes
    }
}
