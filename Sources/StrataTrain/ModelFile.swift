import Foundation
import StrataFormat
import StrataStorage

/// A trained model as stored in a run (format-spec §13): what kind, on which features, and its parameters.
public struct ModelArtifact: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable { case gbdt, logistic }
    public var kind: Kind
    public var featureNames: [String]
    public var gbdt: GBDTModel?
    public var logistic: LogisticModel?

    public func probabilities(_ dataset: Dataset, rows: [Int]) -> [Double] {
        switch kind {
        case .gbdt: gbdt!.probabilities(dataset, rows: rows)
        case .logistic: logistic!.probabilities(dataset, rows: rows)
        }
    }
}

/// The model file: `STRATMDL`, u16 format version, u16 min reader version, u32 payload size, the JSON
/// payload, CRC-32 of everything before it. Doubles are written with the shortest digits that read back
/// bit for bit, so a reloaded model predicts exactly as the saved one.
public enum ModelFile {
    static let magic: [UInt8] = Array("STRATMDL".utf8)
    static let formatVersion: UInt16 = 1
    static let readerVersion: UInt16 = 1
    static let payloadBytesMax = 1 << 30

    public static func encode(_ artifact: ModelArtifact) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let payload = Array(try encoder.encode(artifact))
        var writer = ByteWriter(capacity: payload.count + 24)
        writer.append(contentsOf: magic)
        writer.append(formatVersion)
        writer.append(UInt16(1))
        writer.append(UInt32(payload.count))
        writer.append(contentsOf: payload)
        writer.append(Checksum.crc32(writer.bytes))
        return writer.bytes
    }

    public static func decode(_ bytes: [UInt8], path: String) throws -> ModelArtifact {
        func corrupt(_ reason: String) -> StorageError { .corrupt(file: path, column: nil, chunk: nil, reason: reason) }
        guard bytes.count >= 20, Array(bytes[0..<8]) == magic else { throw corrupt("not a Strata model file") }
        let stored = bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self)) }
        guard Checksum.crc32(Array(bytes[0..<(bytes.count - 4)])) == stored else { throw corrupt("model file checksum mismatch") }
        let minReader = UInt16(bytes[10]) | UInt16(bytes[11]) << 8
        guard minReader <= readerVersion else {
            throw StorageError.from(.newerFormat(what: "model file", needs: Int(minReader), have: Int(readerVersion)), file: path)
        }
        let size = Int(UInt32(bytes[12]) | UInt32(bytes[13]) << 8 | UInt32(bytes[14]) << 16 | UInt32(bytes[15]) << 24)
        guard size <= payloadBytesMax, size + 20 == bytes.count else { throw corrupt("model payload size does not match the file") }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let artifact: ModelArtifact
        do {
            artifact = try decoder.decode(ModelArtifact.self, from: Data(bytes[16..<(16 + size)]))
        } catch {
            throw corrupt("model payload is not a valid model: \(describeDecodingError(error))")
        }
        let problems = artifact.problems()
        guard problems.isEmpty else { throw corrupt("the model does not hold together: " + problems.joined(separator: "; ")) }
        return artifact
    }

    public static func read(_ path: String) throws -> ModelArtifact { try decode(try FileSystem.readFile(path), path: path) }

    /// The CRC-32 of a model file's bytes before its trailing checksum: what the manifest records for it.
    /// (A CRC over the whole file, its own checksum included, is the same constant for every file.)
    public static func storedCRC(_ bytes: [UInt8]) -> UInt32 {
        bytes.count < 4 ? 0 : bytes.withUnsafeBytes { Checksum.crc32(UnsafeRawBufferPointer(rebasing: $0[0..<(bytes.count - 4)])) }
    }
}
