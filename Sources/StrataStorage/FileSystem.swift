#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The system calls the storage layer makes, in one place. Each wrapper names the call it makes and
/// turns a failure into `StorageError.io` with the path and errno.
public enum FileSystem {
    /// `open(2)`.
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> Int32 {
        let fd = path.withCString { Glibc.open($0, flags | O_CLOEXEC, mode) }
        guard fd >= 0 else { throw StorageError.io(path: path, operation: "open", errno: errno) }
        return fd
    }

    /// `write(2)` until every byte is written (retrying on EINTR and short writes).
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw StorageError.io(path: path, operation: "write", errno: errno)
            }
            offset += written
        }
    }

    /// `fsync(2)`: the file's bytes are on stable storage when it returns.
    public static func fsync(_ fd: Int32, path: String) throws {
        guard Glibc.fsync(fd) == 0 else { throw StorageError.io(path: path, operation: "fsync", errno: errno) }
    }

    /// `open(O_DIRECTORY)` + `fsync(2)`: makes the directory's entries (a rename, a new file) durable.
    public static func fsyncDirectory(_ path: String) throws {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { Glibc.close(fd) }
        try fsync(fd, path: path)
    }

    /// `close(2)`.
    public static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// `rename(2)`: atomic replacement within one file system.
    public static func rename(_ from: String, to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw StorageError.io(path: from, operation: "rename to \(to)", errno: errno) }
    }

    /// `unlink(2)`; a missing file is not an error.
    public static func remove(_ path: String) throws {
        guard Glibc.unlink(path) == 0 || errno == ENOENT else { throw StorageError.io(path: path, operation: "unlink", errno: errno) }
    }

    /// `mkdir(2)` for each missing component.
    public static func createDirectories(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if Glibc.mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw StorageError.io(path: current, operation: "mkdir", errno: errno)
            }
        }
    }

    /// `stat(2)`: size in bytes, nil when the path does not exist.
    public static func fileSize(_ path: String) throws -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw StorageError.io(path: path, operation: "stat", errno: errno)
        }
        return Int(info.st_size)
    }

    /// Whether `path` is a regular file (not a pipe, terminal, socket or directory).
    public static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// Copies everything readable from `source` (a pipe or device is read once, to its end) into a new
    /// file `destination`, fsynced; returns the bytes copied.
    public static func copyStream(from source: String, to destination: String) throws -> Int {
        let input = try open(source, O_RDONLY)
        defer { Glibc.close(input) }
        let output = try open(destination, O_WRONLY | O_CREAT | O_EXCL)
        defer { Glibc.close(output) }
        var total = 0
        try readToEnd(input, path: source, bufferSizeBytes: 1 << 20) { bytes in
            try writeAll(output, bytes, path: destination)
            total += bytes.count
        }
        try fsync(output, path: destination)
        return total
    }

    /// `read(2)` until end of file (retrying on EINTR), handing each piece read to `body`.
    static func readToEnd(_ fd: Int32, path: String, bufferSizeBytes: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: bufferSizeBytes)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw StorageError.io(path: path, operation: "read", errno: errno)
            }
            if count == 0 { return }
            try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
    }

    /// `lstat(2)`: whether `path` is itself a symbolic link.
    public static func isSymbolicLink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// `opendir(3)`/`readdir(3)`: entry names, without `.` and `..`; empty when the directory is missing.
    public static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return [] }
            throw StorageError.io(path: path, operation: "opendir", errno: errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// `flock(LOCK_EX | LOCK_NB)` on `path`, retried every 20 ms for up to `waitSeconds`: the returned
    /// descriptor holds the lock until closed.
    public static func lockExclusive(_ path: String, lockedError: StorageError, waitSeconds: Double = 0) throws -> Int32 {
        let fd = try open(path, O_RDWR | O_CREAT)
        var waited = 0.0
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK, waited < waitSeconds else {
                Glibc.close(fd)
                if code == EWOULDBLOCK { throw lockedError }
                throw StorageError.io(path: path, operation: "flock", errno: code)
            }
            usleep(20_000)
            waited += 0.02
        }
        return fd
    }

    /// Reads a whole (small) file with `read(2)`.
    public static func readFile(_ path: String) throws -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { Glibc.close(fd) }
        var result: [UInt8] = []
        try readToEnd(fd, path: path, bufferSizeBytes: 1 << 16) { result.append(contentsOf: $0) }
        return result
    }

    /// Writes `bytes` to `path` atomically: a temporary file, fsync, rename over `path`, fsync of the directory.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, temporaryPath: String) throws {
        let fd = try open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC)
        do {
            try bytes.withUnsafeBytes { try writeAll(fd, $0, path: temporaryPath) }
            try fsync(fd, path: temporaryPath)
        } catch {
            close(fd)
            try? remove(temporaryPath)
            throw error
        }
        close(fd)
        try rename(temporaryPath, to: path)
        try fsyncDirectory(directoryName(path))
    }

    public static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// A read-only memory map of a whole file (`mmap(2)` with `PROT_READ`, `MAP_PRIVATE`), unmapped on deinit.
/// Segment files are immutable once committed, so the mapping never changes under a reader.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let bytes: UnsafeRawBufferPointer

    public init(path: String) throws {
        self.path = path
        let fd = try FileSystem.open(path, O_RDONLY)
        defer { FileSystem.close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw StorageError.io(path: path, operation: "fstat", errno: errno) }
        let size = Int(info.st_size)
        if size == 0 {
            // mmap rejects a zero length; an empty file is reported as truncated by the caller.
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED else {
            throw StorageError.io(path: path, operation: "mmap", errno: errno)
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    /// `madvise(MADV_SEQUENTIAL)`: hint that a full scan follows, so the kernel reads ahead.
    public func adviseSequential() {
        if let base = bytes.baseAddress { _ = madvise(UnsafeMutableRawPointer(mutating: base), bytes.count, MADV_SEQUENTIAL) }
    }

    /// `madvise(MADV_DONTNEED)` over the whole pages inside `range`: a pass that is done with those bytes
    /// gives their pages back (they count in the process's memory until then). Reading them again later
    /// faults them back in from the file: the mapping is read-only and private, so nothing is lost.
    public func release(_ range: Range<Int>) {
        guard let base = bytes.baseAddress, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (range.lowerBound + page - 1) / page * page
        let end = min(range.upperBound, bytes.count) / page * page
        if end > start { _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED) }
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}

/// Sequential writes through a buffer, tracking the offset and a running CRC-32 of every byte written.
final class BufferedFileWriter {
    let path: String
    private let fd: Int32
    private var buffer: [UInt8] = []
    private let capacityBytes = 1 << 20
    private(set) var offset = 0
    private(set) var runningCRC: UInt32 = 0

    init(path: String) throws {
        self.path = path
        fd = try FileSystem.open(path, O_WRONLY | O_CREAT | O_EXCL)
        buffer.reserveCapacity(capacityBytes)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try write(bytes, crc: Checksum.crc32(bytes))
    }

    /// Writes bytes whose own CRC-32 is `crc` (computed elsewhere, in parallel): the running CRC takes it
    /// by zlib's crc32_combine instead of reading the bytes again.
    func write(_ bytes: UnsafeRawBufferPointer, crc: UInt32) throws {
        runningCRC = Checksum.combine(runningCRC, crc, length: bytes.count)
        offset += bytes.count
        if buffer.count + bytes.count > capacityBytes { try flush() }
        if bytes.count >= capacityBytes {
            try FileSystem.writeAll(fd, bytes, path: path)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    func write(_ bytes: [UInt8], crc: UInt32) throws { try bytes.withUnsafeBytes { try write($0, crc: crc) } }

    func writeZeros(_ count: Int) throws {
        if count > 0 { try write([UInt8](repeating: 0, count: count)) }
    }

    func flush() throws {
        try buffer.withUnsafeBytes { try FileSystem.writeAll(fd, $0, path: path) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, fsyncs and closes.
    func finish() throws {
        try flush()
        try FileSystem.fsync(fd, path: path)
        FileSystem.close(fd)
    }

    func abandon() {
        FileSystem.close(fd)
        try? FileSystem.remove(path)
    }
}

import StrataFormat
