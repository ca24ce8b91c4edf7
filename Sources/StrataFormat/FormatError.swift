/// Damage or a violated limit found while decoding bytes. Raised for anything read from outside the
/// process; the storage layer adds the file, column and chunk it came from.
public struct FormatError: Error, CustomStringConvertible, Equatable {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
