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

/// The model file: an envelope (format-spec §14) with magic `STRATMDL` around the JSON payload. Doubles
/// are written with the shortest digits that read back bit for bit, so a reloaded model predicts exactly
/// as the saved one.
public enum ModelFile {
    static let magic: [UInt8] = Array("STRATMDL".utf8)
    static let formatVersion: UInt16 = 1
    static let readerVersion: UInt16 = 1
    static let payloadBytesMax = 1 << 30

    public static func encode(_ artifact: ModelArtifact) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return Envelope.seal(magic: magic, formatVersion: formatVersion, minReaderVersion: 1, payload: Array(try encoder.encode(artifact)))
    }

    public static func decode(_ bytes: [UInt8], path: String) throws -> ModelArtifact {
        func corrupt(_ reason: String) -> StorageError { .corrupt(file: path, column: nil, chunk: nil, reason: reason) }
        let payload: Data
        do {
            payload = try bytes.withUnsafeBytes { raw in
                Data(raw[try Envelope.open(raw, magic: magic, readerVersion: readerVersion, what: "model file", payloadBytesMax: payloadBytesMax).payload])
            }
        } catch let error as FormatError {
            throw StorageError.from(error, file: path)
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let artifact: ModelArtifact
        do {
            artifact = try decoder.decode(ModelArtifact.self, from: payload)
        } catch {
            throw corrupt("model payload is not a valid model: \(describeDecodingError(error))")
        }
        let problems = artifact.problems()
        guard problems.isEmpty else { throw corrupt("the model does not hold together: " + problems.joined(separator: "; ")) }
        return artifact
    }

    public static func read(_ path: String) throws -> ModelArtifact { try decode(try FileSystem.readFile(path), path: path) }

    /// The CRC-32 of a model file's bytes before its trailing checksum: what the manifest records for it.
    public static func storedCRC(_ bytes: [UInt8]) -> UInt32 { Envelope.storedCRC(bytes) }
}
