/// Damage or a violated limit found while decoding bytes. Raised for anything read from outside the
/// process; the storage layer adds the file, column and chunk it came from.
public struct FormatError: Error, CustomStringConvertible, Equatable {
    public var message: String
    /// The bytes are fine but need a newer reader: not damage, so no advice to restore a backup.
    public var needsNewerReader = false

    public init(_ message: String) { self.message = message }

    /// A file whose minimum reader version is above this build's.
    public static func newerFormat(what: String, needs: Int, have: Int) -> FormatError {
        var error = FormatError("\(what) needs reader version \(needs); this Strata reads version \(have): upgrade Strata to open it")
        error.needsNewerReader = true
        return error
    }

    public var description: String { message }
}
