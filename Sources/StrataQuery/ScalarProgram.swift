import StrataFormat
import StrataStorage

/// A scalar SQL expression bound once over named, typed input columns and evaluated a column at a time:
/// the kernel's entry point for the layers above. Feature views compute derived features and window
/// filters with it, so an expression means the same thing in a feature view as in `strata query`.
///
/// Inputs come in tables: the first (unqualified names resolve there only) and any number of qualified
/// ones (`member.city`). Aggregates are not scalar: the binder refuses them.
package struct ScalarProgram: @unchecked Sendable {
    package struct Table {
        /// The name that qualifies its columns (`member` in `member.city`); for the first table, what its
        /// columns are, as error hints say it ("earlier features and cutoff").
        package var qualifier: String
        package var columns: [ColumnSchema]

        package init(qualifier: String, columns: [ColumnSchema]) {
            self.qualifier = qualifier
            self.columns = columns
        }
    }

    /// An input column: table index and column index within it.
    package struct InputColumn: Hashable, Sendable {
        package var table: Int
        package var column: Int
    }

    private let bound: BoundExpression
    package let tables: [Table]
    /// The input column of each slot of the bound expression.
    package let slotColumns: [InputColumn]
    package let type: SQLType
    package let text: String

    /// Parses and binds `sql`; throws a `QueryError` (with its position in `sql`) for bad syntax, an unknown
    /// name, a type mismatch or an aggregate.
    package init(_ sql: String, tables: [Table]) throws {
        text = sql
        self.tables = tables
        let expression = try Parser.parseExpression(sql)
        let scope = InputScope(
            tables: tables.map { (reference: TableReference(name: $0.qualifier, alias: nil, position: 0..<0), manifest: TableManifest(columns: $0.columns)) },
            usingColumn: nil)
        scope.unqualifiedSide = 0
        bound = try Binder(scope: scope).bind(expression)
        slotColumns = (0..<scope.slotCount).map { slot in
            let column = scope.columns[scope.slotColumns[slot]]
            return InputColumn(table: column.side, column: column.storageIndex)
        }
        type = bound.type
    }

    package func columnName(_ input: InputColumn) -> String { tables[input.table].columns[input.column].name }

    /// The logical type results are stored as: BIGINT → int64, DOUBLE → float64, DATE, BOOLEAN, VARCHAR → string
    /// (a bare NULL is an int64 that is always NULL).
    package var logicalType: LogicalType {
        switch type {
        case .bigint, .null: .int64
        case .double: .float64
        case .date: .date
        case .boolean: .bool
        case .varchar: .string
        }
    }

    /// Evaluates the expression over `rowCount` rows; `column` supplies each input column the expression
    /// reads (in `slotColumns` order), as decoded or computed vectors of `rowCount` rows.
    package func evaluate(rowCount: Int, _ column: (InputColumn) throws -> ColumnVector) throws -> ColumnVector {
        let batch = Batch(columns: try slotColumns.map { TableSource.vector(try column($0)) }, count: rowCount)
        return try Evaluator(context: nil).evaluate(bound, batch).columnVector(logicalType)
    }

    /// The rows (ascending) where the predicate is TRUE; nil when it is TRUE for every row.
    package func selection(rowCount: Int, _ column: (InputColumn) throws -> ColumnVector) throws -> [Int32]? {
        let batch = Batch(columns: try slotColumns.map { TableSource.vector(try column($0)) }, count: rowCount)
        return try Evaluator(context: nil).selection(bound, batch)
    }
}

extension Vector {
    /// The vector as a stored column of `type` (constants are expanded, NULLs become validity bits).
    func columnVector(_ type: LogicalType) -> ColumnVector {
        var validity: Validity?
        if isConstant ? isNull(0) : nulls != nil {
            var bits = Validity()
            for row in 0..<count { bits.append(!isNull(row)) }
            validity = bits
        }
        let values: ColumnValues
        switch type {
        case .float64:
            values = .floats(isConstant ? [Double](repeating: isNull(0) ? 0 : doubleValue(0), count: count) : doubleValues)
        case .string:
            var strings = StringArray()
            for row in 0..<count { strings.append(isNull(row) ? [] : Array(stringValue(row).utf8)) }
            values = .strings(strings)
        default:
            values = .integers(isConstant ? [Int64](repeating: isNull(0) ? 0 : integerValue(0), count: count) : integerValues)
        }
        return ColumnVector(type: type, values: values, validity: validity)
    }
}
