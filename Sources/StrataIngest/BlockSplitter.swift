import StrataStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A block of whole CSV records read from a file, owned until it is parsed.
final class RecordBlock: @unchecked Sendable {
    private let allocation: UnsafeMutableRawBufferPointer
    /// The records: `allocation[0..<count]`.
    let bytes: UnsafeMutableRawBufferPointer

    init(allocation: UnsafeMutableRawBufferPointer, count: Int) {
        self.allocation = allocation
        bytes = UnsafeMutableRawBufferPointer(rebasing: allocation[0..<count])
    }

    deinit { allocation.deallocate() }
}

/// Cuts a CSV file into blocks of whole records so that several threads can parse it at once.
/// A block ends at its last line end outside quotes (quote state is tracked only in blocks that
/// contain a quote at all, which real KKBox files never do). Memory: one block plus one carried record.
final class BlockSplitter {
    static let blockSizeBytes = CSVReader.blockSizeBytes
    let path: String
    private let fd: Int32
    private var carry: [UInt8] = []
    private var atEOF = false
    private(set) var bytesRead = 0

    /// Reads from byte `offset` on (past the header).
    init(path: String, offset: Int) throws {
        self.path = path
        fd = try FileSystem.open(path, O_RDONLY)
        if offset > 0 && lseek(fd, off_t(offset), SEEK_SET) < 0 {
            let code = errno
            FileSystem.close(fd)
            throw StorageError.io(path: path, operation: "lseek", errno: code)
        }
        bytesRead = offset
    }

    deinit { FileSystem.close(fd) }

    /// The next block, or nil at the end of the file.
    func next() throws -> RecordBlock? {
        if atEOF && carry.isEmpty { return nil }
        let allocation = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.blockSizeBytes, alignment: 64)
        var filled = carry.count
        carry.withUnsafeBytes { if $0.count > 0 { allocation.copyMemory(from: $0) } }
        carry.removeAll(keepingCapacity: true)
        while filled < allocation.count && !atEOF {
            let count = read(fd, allocation.baseAddress! + filled, allocation.count - filled)
            if count < 0 {
                if errno == EINTR { continue }
                let code = errno
                allocation.deallocate()
                throw StorageError.io(path: path, operation: "read", errno: code)
            }
            if count == 0 { atEOF = true }
            filled += count
            bytesRead += count
        }
        if filled == 0 {
            allocation.deallocate()
            return nil
        }
        let cut = atEOF ? filled : recordBoundary(allocation, filled: filled)
        guard cut > 0 else {
            allocation.deallocate()
            throw IngestError.malformed(file: path, line: nil, column: nil,
                                        reason: "a record is longer than \(Self.blockSizeBytes) bytes (an unclosed quote?)")
        }
        if cut < filled {
            carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: allocation[cut..<filled]))
        }
        return RecordBlock(allocation: allocation, count: cut)
    }

    /// Offset just past the last line end that is outside quotes; 0 when there is none.
    private func recordBoundary(_ buffer: UnsafeMutableRawBufferPointer, filled: Int) -> Int {
        let base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        if memchr(base, Int32(UInt8(ascii: "\"")), filled) == nil {
            var index = filled - 1
            while index >= 0 && base[index] != UInt8(ascii: "\n") { index -= 1 }
            return index + 1
        }
        // Quotes toggle the state; an escaped quote ("") toggles it twice.
        var inQuotes = false
        var boundary = 0
        for index in 0..<filled {
            let byte = base[index]
            if byte == UInt8(ascii: "\"") {
                inQuotes.toggle()
            } else if byte == UInt8(ascii: "\n") && !inQuotes {
                boundary = index + 1
            }
        }
        return boundary
    }
}
