// CSV reader and ingest: the input is a CSV file.
// 1. CSVReader(block:) over the bytes, every record and field read;
// 2. CSVReader(path:) over the same bytes in a temporary file;
// 3. Ingester.ingest of that file into a new temporary store (the table recognised by its header, else
//    forced to one of the four KKBox tables), then every ingested table scanned back: the rows read must
//    be the rows the report says were ingested.
import Foundation
import FuzzSupport
import StrataFormat
import StrataIngest
import StrataStorage

@_cdecl("FuzzCSV_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data ?? emptyInput, size) }
}

private func readAll(_ reader: CSVReader) throws {
    var records = 0
    while try reader.next(), records < 100_000 {
        records += 1
        var sum = reader.fields.count &+ reader.recordLine
        for field in reader.fields { sum &+= reader.bytes(field).count &+ reader.string(field).utf8.count }
        sum &+= reader.recordText().utf8.count &+ (reader.isBlankRecord ? 1 : 0) &+ (reader.unterminatedQuote ? 1 : 0)
        blackHole &+= sum
    }
}

nonisolated(unsafe) private var iteration = 0
private let tables = ["members", "transactions", "user_logs", "labels"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // 1. Block mode: the reader reads a caller-owned buffer of whole records.
    let block = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 64)
    defer { block.deallocate() }
    if size > 0 { block.copyMemory(from: UnsafeRawBufferPointer(start: data, count: size)) }
    try? readAll(CSVReader(block: UnsafeMutableRawBufferPointer(rebasing: block[0..<size]), path: "block.csv"))

    // 2. File mode.
    iteration += 1
    let file = Scratch.path("input.csv")
    Scratch.write(bytes, to: file)
    if let reader = try? CSVReader(path: file) { try? readAll(reader) }

    // 3. Ingest into a fresh store and read it back.
    let store = Scratch.path("store")
    defer { Scratch.remove(store) }
    var options = IngestOptions()
    options.segmentRowCountMax = 64
    options.bufferedRowCountMax = 128
    options.cutoffDay = Int64(Dates.dayNumber(yyyymmdd: 20170301)!)
    var report: IngestReport?
    do {
        report = try Ingester.ingest(store: store, files: [file], options: options)
    } catch IngestError.unrecognisedHeader {
        Scratch.remove(store)
        options.forcedTable = tables[size % tables.count]
        report = try? Ingester.ingest(store: store, files: [file], options: options)
    } catch {}
    guard let report else { return 0 }
    do {
        let opened = try Store(path: store)
        for fileReport in report.files {
            let scan = try TableScan(store: opened, table: fileReport.table)
            var rows = 0
            while let batch = try scan.next() {
                rows += batch.rowCount
                for column in batch.columns { blackHole &+= consume(column) }
            }
            if rows != fileReport.rowsIngested {
                fatalError("ingest reported \(fileReport.rowsIngested) rows of \(fileReport.table), a scan reads \(rows)")
            }
        }
        _ = try opened.loadEntities()
    } catch {
        fatalError("a store just written by ingest does not read back: \(error)")
    }
    return 0
}
