/// Names a user gives to things in a store (tables, feature views, models) and the store-relative paths
/// built from them. A name becomes a path component and an SQL identifier, so it is checked here, once,
/// against one grammar; a path read from a manifest is checked before anything opens it.
public enum StoreNames {
    /// `[A-Za-z_][A-Za-z0-9_]{0,63}`: no separators, no dots, never empty, a valid SQL identifier.
    public static let grammar = "[A-Za-z_][A-Za-z0-9_]{0,63}"
    public static let nameBytesMax = 64

    /// Whether `name` follows the grammar.
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= nameBytesMax, isLetter(first) || first == UInt8(ascii: "_") else { return false }
        return bytes.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
    }

    /// Throws unless `name` follows the grammar; `what` says what the name is for ("table", "--out").
    public static func validate(_ name: String, what: String) throws {
        guard isValid(name) else {
            let shown = "'\(name.prefix(80))'"
            throw StorageError.invalid("\(what) \(shown) is not a valid name: use letters, digits and _ (\(grammar)), at most \(nameBytesMax) bytes, starting with a letter or _")
        }
    }

    /// Whether `path` is a relative path that stays inside the store: non-empty components, none of
    /// them `.` or `..`, no leading `/`, no NUL or backslash.
    public static func isSafeRelativePath(_ path: String) -> Bool {
        guard !path.isEmpty, path.utf8.count <= 1024, !path.hasPrefix("/") else { return false }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty || component == "." || component == ".." { return false }
            if component.utf8.contains(0) || component.utf8.contains(UInt8(ascii: "\\")) { return false }
        }
        return true
    }

    private static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") }
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
