import Foundation
import StrataFeatures
import StrataFormat
import StrataStorage

/// Feature values in and out of JSON: numbers as numbers, dates as "YYYY-MM-DD", booleans as true/false,
/// strings as strings, NULL as null — the types `strata features get --format json` prints.
enum FeatureJSON {
    static func append(_ value: FeatureValue, type: LogicalType, to output: inout [UInt8]) {
        switch value {
        case .null: output += JSONText.nullBytes
        case .integer(let integer):
            switch type {
            case .date: JSONText.appendString(ValueText.date(integer, style: .iso), to: &output)
            case .bool: output += Array((integer != 0 ? "true" : "false").utf8)
            default: JSONText.appendInteger(integer, to: &output)
            }
        case .float(let float): JSONText.appendNumber(float, to: &output)
        case .string(let text): JSONText.appendString(text, to: &output)
        }
    }

    /// `{"name": value, ...}` for `columns` of `values`.
    static func appendObject(names: [String], types: [LogicalType], values: [FeatureValue], columns: [Int], to output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        for (index, column) in columns.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            JSONText.appendString(names[column], to: &output)
            output.append(UInt8(ascii: ":"))
            append(values[column], type: types[column], to: &output)
        }
        output.append(UInt8(ascii: "}"))
    }

    /// `{"name": value, ...}` of an online vector, read straight from the mapped row.
    static func appendObject(_ vector: OnlineVector, layout: OnlineLayout, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        layout.keys.withUnsafeBufferPointer { keys in
            layout.keyEnds.withUnsafeBufferPointer { keyEnds in
                layout.types.withUnsafeBufferPointer { types in
                    vector.withRow { validity, slots in
                        var keyStart = 0
                        for column in 0..<types.count {
                            if column > 0 { output.append(UInt8(ascii: ",")) }
                            output.append(contentsOf: UnsafeBufferPointer(rebasing: keys[keyStart..<keyEnds[column]]))
                            keyStart = keyEnds[column]
                            let word = validity.loadUnaligned(fromByteOffset: 8 * (column >> 6), as: UInt64.self).littleEndian
                            if word & (1 << UInt64(column & 63)) == 0 {
                                output.append(contentsOf: JSONText.nullBytes)
                                continue
                            }
                            let bits = slots.loadUnaligned(fromByteOffset: 8 * column, as: UInt64.self).littleEndian
                            switch types[column] {
                            case .float64: JSONText.appendNumber(Double(bitPattern: bits), to: &output)
                            case .int64, .entity: JSONText.appendInteger(Int64(bitPattern: bits), to: &output)
                            default: append(vector.value(column), type: types[column], to: &output)
                            }
                        }
                    }
                }
            }
        }
        output.append(UInt8(ascii: "}"))
    }

    /// A what-if value given for a feature of `type`; throws naming the feature when it cannot be one.
    static func value(_ json: JSONValue, type: LogicalType, feature: String) throws -> FeatureValue {
        func wrong(_ expected: String) -> APIError { .badRequest("feature \(feature) takes \(expected)") }
        switch (json, type) {
        case (.null, _): return .null
        case (.string(let text), .string): return .string(text)
        case (.string(let text), .date):
            guard let day = Dates.parse(text) else { throw wrong("a date as \"YYYY-MM-DD\" or YYYYMMDD") }
            return .integer(Int64(day))
        case (.integer(let number), .date):
            guard let day = Dates.parse(String(number)) else { throw wrong("a date as \"YYYY-MM-DD\" or YYYYMMDD") }
            return .integer(Int64(day))
        case (.bool(let flag), .bool): return .integer(flag ? 1 : 0)
        case (.integer(let number), .float64): return .float(Double(number))
        case (.unsigned(let number), .float64): return .float(Double(number))
        case (.double(let number), .float64): return .float(number)
        case (.integer(let number), .int64), (.integer(let number), .bool), (.integer(let number), .entity): return .integer(number)
        case (.double(let number), .int64) where number == number.rounded() && abs(number) < 9e15: return .integer(Int64(number))
        case (_, .string): throw wrong("a string")
        case (_, .date): throw wrong("a date as \"YYYY-MM-DD\" or YYYYMMDD")
        case (_, .float64): throw wrong("a number")
        default: throw wrong("an integer")
        }
    }
}

/// What every answer from one online table repeats, written once when the table is opened rather than per
/// request: the answer's opening up to the msno (`{"view":…,"source":"online","msno":`) and each column's
/// `"name":`, back to back.
final class OnlineLayout: Sendable {
    let opening: [UInt8]
    let keys: [UInt8]
    /// Column c's key is `keys[keyEnds[c - 1] ..< keyEnds[c]]` (from 0 for the first).
    let keyEnds: [Int]
    let types: [LogicalType]

    init(view: String, table: OnlineTable) {
        var opening: [UInt8] = []
        VectorAnswer(view: view, viewVersion: table.entry.featureViewVersion, asOfDay: table.asOfDay, source: "online", names: [], types: [],
                     rows: [], unknown: []).appendHeader(to: &opening)
        opening += Array(",\"msno\":".utf8)
        self.opening = opening
        var keys: [UInt8] = [], ends: [Int] = []
        for schema in table.schemas {
            JSONText.appendString(schema.name, to: &keys)
            keys.append(UInt8(ascii: ":"))
            ends.append(keys.count)
        }
        self.keys = keys
        keyEnds = ends
        types = table.schemas.map(\.type)
    }
}
