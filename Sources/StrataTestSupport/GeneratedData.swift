import StrataIngest

/// The four CSVs of the KKBox tables, in the order a store ingests them.
public let kkboxTables = ["members", "transactions", "user_logs", "labels"]

/// The CSVs of a small generated dataset (`strata generate`, from 2016-01-01) in a new directory named
/// after the calling test.
public func generatedCSVs(members: Int, months: Int, labelMonths: Int, activity: Double = 1, name: String = #function) throws -> String {
    let directory = temporaryDirectory(name)
    var options = GeneratorOptions()
    options.memberCount = members
    options.monthCount = months
    options.labelMonthCount = labelMonths
    options.activity = activity
    var generator = DatasetGenerator(options: options)
    _ = try generator.generate(into: directory)
    return directory
}

/// A generated dataset's CSVs and a store at `directory/db` holding `tables` of them.
public func generatedStore(members: Int, months: Int, labelMonths: Int, tables: [String] = kkboxTables,
                           name: String = #function) throws -> (directory: String, store: String) {
    let directory = try generatedCSVs(members: members, months: months, labelMonths: labelMonths, name: name)
    let store = directory + "/db"
    _ = try Ingester.ingest(store: store, files: tables.map { directory + "/\($0).csv" })
    return (directory, store)
}
