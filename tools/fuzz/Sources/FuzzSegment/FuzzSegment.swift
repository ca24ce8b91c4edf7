// Segment files and the chunk decoder: the input is a segment file. It is written to a temporary file
// and opened with SegmentReader, every chunk of every column read (ChunkDecoder behind each block's
// CRC) and every value touched — first exactly as given, then with every checksum recomputed
// (header, blocks, footer, file, trailer) so that mutations reach the decoders.
import Foundation
import FuzzSupport
import StrataFormat
import StrataStorage

@_cdecl("FuzzSegment_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    if let directory = ProcessInfo.processInfo.environment["STRATA_FUZZ_EXPORT_SEEDS"] {
        do { try exportSeeds(to: directory) } catch { harnessFailure("exporting seeds: \(error)") }
        return 0
    }
    return runLibFuzzer(argc, argv) { data, size in fuzz(data ?? emptyInput, size) }
}

private func readSegment(_ bytes: [UInt8]) {
    let file = Scratch.path("input.seg")
    Scratch.write(bytes, to: file)
    guard let reader = try? SegmentReader(path: file) else { return }
    blackHole &+= reader.rowCount &+ reader.columns.count &+ Int(truncatingIfNeeded: reader.computeFileCRC())
    for column in 0..<reader.columns.count {
        _ = reader.columnIndex(named: reader.columns[column].name)
        for chunk in 0..<reader.chunkCount {
            guard let vector = try? reader.read(column: column, chunk: chunk) else { continue }
            blackHole &+= consume(vector)
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    readSegment(bytes)
    let fixed = Fixups.segment(bytes)
    if fixed != bytes { readSegment(fixed) }
    return 0
}
