import StrataFormat

/// The facts of a manifest that readers rely on without looking further (format-spec §7),
/// checked once when a manifest is decoded: a manifest whose checksum is fine but which lies is refused
/// before anything allocates, opens or indexes memory with what it says.
extension Manifest {
    /// Entity ids are u32 (format-spec §6).
    public static let entityCountMax = Int(UInt32.max) + 1

    /// Every broken rule, one line each (empty when the manifest is consistent).
    public func problems() -> [String] {
        var problems: [String] = []
        func checkPath(_ path: String, _ what: String) {
            if !StoreNames.isSafeRelativePath(path) { problems.append("\(what) has the path '\(path)', which leaves the store or is empty") }
        }
        func checkCount(_ value: Int, _ what: String) {
            if value < 0 { problems.append("\(what) is negative (\(value))") }
        }
        if version < 0 || parentVersion < 0 || parentVersion >= max(version, 1) {
            problems.append("version \(version) with parent \(parentVersion)")
        }
        // The entity dictionary: segments continue each other's ids and add up to the count.
        if entities.count < 0 || entities.count > Self.entityCountMax {
            problems.append("entities.count \(entities.count) is outside 0...\(Self.entityCountMax)")
        }
        var nextId = 0
        for segment in entities.segments {
            checkPath(segment.file, "entity segment")
            checkCount(segment.count, "entity segment \(segment.file) count")
            if segment.firstId != nextId { problems.append("entity segment \(segment.file) starts at id \(segment.firstId), expected \(nextId)") }
            nextId = segment.firstId &+ max(0, segment.count)
        }
        if nextId != entities.count { problems.append("entity segments hold \(nextId) ids, entities.count says \(entities.count)") }

        var files = Set<String>()
        for (name, table) in tables.sorted(by: { $0.key < $1.key }) {
            if !StoreNames.isValid(name) { problems.append("table name '\(name)' is not a valid name") }
            problems += table.problems(name: name)
            for segment in table.segments {
                checkPath(segment.file, "table \(name) segment")
                if !files.insert(segment.file).inserted { problems.append("table \(name): segment \(segment.file) is listed twice") }
            }
        }
        // The sections of the layers above are theirs to check (`ManifestSection.problems`); the files they
        // name are storage's: inside the store, like every file a manifest names.
        for (key, value) in sections.sorted(by: { $0.key < $1.key }) {
            for file in value.referencedFiles { checkPath(file, "section \(key)") }
        }
        return problems
    }
}

extension TableManifest {
    /// The rules of one table entry: a schema a reader accepts, partition keys that fit its partitioning.
    func problems(name: String) -> [String] {
        var problems: [String] = []
        if columns.isEmpty || columns.count > FormatLimits.columnCountMax {
            problems.append("table \(name) has \(columns.count) columns (1...\(FormatLimits.columnCountMax) allowed)")
        }
        var names = Set<String>()
        for column in columns {
            if column.name.isEmpty || column.name.utf8.count > FormatLimits.columnNameBytesMax {
                problems.append("table \(name) has a column name of \(column.name.utf8.count) bytes (1...\(FormatLimits.columnNameBytesMax) allowed)")
            }
            if !names.insert(column.name).inserted { problems.append("table \(name) has two columns named \(column.name)") }
        }
        switch partitioning {
        case .none:
            if partitionColumn != nil { problems.append("table \(name) is unpartitioned but names partition column \(partitionColumn!)") }
        case .month:
            let column = columns.first { $0.name == partitionColumn }
            if column == nil || column!.type != .date || column!.nullable {
                problems.append("table \(name) is partitioned by month on '\(partitionColumn ?? "null")', which is not a non-nullable date column")
            }
        }
        if sourceBytes < 0 { problems.append("table \(name) has negative sourceBytes") }
        for segment in segments {
            if segment.rowCount < 0 || segment.sizeBytes < 0 {
                problems.append("table \(name): segment \(segment.file) has a negative row count or size")
            }
            let valid = partitioning == .none
                ? segment.partition == 0
                : (101...999_912).contains(segment.partition) && (1...12).contains(segment.partition % 100)
            if !valid { problems.append("table \(name): segment \(segment.file) has partition key \(segment.partition), not valid for \(partitioning.rawValue) partitioning") }
            if let keys = segment.sortedBy {
                // Sort keys are non-nullable integer-like columns, each named once.
                let usable = keys.allSatisfy { key in columns.contains { $0.name == key && $0.type.isIntegerLike && !$0.nullable } }
                if keys.isEmpty || Set(keys).count != keys.count || !usable {
                    problems.append("table \(name): segment \(segment.file) is sorted by [\(keys.joined(separator: ", "))], which is not a list of distinct non-nullable integer, date or entity columns of the table")
                }
            }
        }
        return problems
    }
}
