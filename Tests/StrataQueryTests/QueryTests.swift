import Foundation
import StrataIngest
import StrataStorage
import StrataTestSupport
import Testing
@testable import StrataQuery

/// A tiny store whose answers can be worked out by hand: 3 members, 6 log rows over Jan–Mar 2016
/// (userD has logs but no member row), and an empty transactions table.
private func tinyStore() throws -> String {
    let directory = temporaryDirectory()
    let files = [
        "members.csv": """
            msno,city,bd,gender,registered_via,registration_init_time
            userA,1,30,male,7,20150101
            userB,1,0,,9,20150601
            userC,5,40,female,7,20151231

            """,
        "user_logs.csv": """
            msno,date,num_25,num_50,num_75,num_985,num_100,num_unq,total_secs
            userA,20160105,1,0,0,0,10,5,100.5
            userA,20160210,2,0,0,0,20,6,200.25
            userB,20160210,0,0,0,0,5,2,-5.0
            userC,20160301,3,0,0,0,1,1,90000.0
            userA,20160331,1,1,1,1,1,1,50
            userD,20160315,0,0,0,0,7,7,10

            """,
        "transactions.csv": """
            msno,payment_method_id,payment_plan_days,plan_list_price,actual_amount_paid,is_auto_renew,transaction_date,membership_expire_date,is_cancel

            """,
    ]
    for (name, text) in files { try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8) }
    let store = directory + "/db"
    _ = try Ingester.ingest(store: store, files: files.keys.sorted().map { directory + "/" + $0 })
    return store
}

/// The result of `sql` as text cells (nil for NULL).
private func rows(_ sql: String, _ store: String, memoryLimitBytes: Int = 1 << 30) throws -> [[String?]] {
    let query = try Query(sql, store: try Store(path: store), memoryLimitBytes: memoryLimitBytes)
    var result: [[String?]] = []
    try query.run { rows in
        for row in 0..<rows.count {
            result.append(try (0..<query.columnNames.count).map { try rows.text(row: row, column: $0) })
        }
        return true
    }
    return result
}

/// The QueryError `sql` throws (fails the test when it throws none).
private func queryError(_ sql: String, _ store: String) throws -> QueryError {
    do {
        _ = try rows(sql, store)
    } catch let error as QueryError {
        return error
    }
    Issue.record("expected an error from: \(sql)")
    return QueryError("none")
}

@Suite struct QueryTests {
    @Test func groupsByMonthWithDistinctUsers() throws {
        let store = try tinyStore()
        let result = try rows("""
            SELECT year(date) * 100 + month(date) AS m, count(*), count(DISTINCT msno), sum(num_100),
                   sum(CASE WHEN total_secs BETWEEN 0 AND 86400 THEN total_secs END) AS valid
            FROM user_logs GROUP BY m ORDER BY m
            """, store)
        #expect(result == [["201601", "1", "1", "10", "100.5"], ["201602", "2", "2", "25", "200.25"], ["201603", "3", "3", "9", "60.0"]])
    }

    @Test func emptyTablesAndEmptyInputs() throws {
        let store = try tinyStore()
        #expect(try rows("SELECT count(*), sum(plan_list_price), min(transaction_date) FROM transactions", store) == [["0", nil, nil]])
        #expect(try rows("SELECT msno FROM transactions", store).isEmpty)
        #expect(try rows("SELECT is_cancel, count(*) FROM transactions GROUP BY is_cancel", store).isEmpty)
        #expect(try rows("SELECT count(*), avg(bd) FROM members WHERE bd > 1000", store) == [["0", nil]])
    }

    @Test func threeValuedLogicAndNulls() throws {
        let store = try tinyStore()
        // gender is NULL for userB: NOT (NULL = 'male') is NULL, so the row is not kept.
        #expect(try rows("SELECT msno FROM members WHERE NOT (gender = 'male')", store) == [["userC"]])
        #expect(try rows("SELECT msno FROM members WHERE gender IS NULL OR bd > 35 ORDER BY msno", store) == [["userB"], ["userC"]])
        #expect(try rows("SELECT count(gender), count(*), coalesce(max(gender), 'none') FROM members", store) == [["2", "3", "male"]])
        #expect(try rows("SELECT gender, count(*) FROM members GROUP BY gender ORDER BY gender NULLS FIRST", store)
                == [[nil, "1"], ["female", "1"], ["male", "1"]])
    }

    @Test func divisionFollowsDuckDB() throws {
        let store = try tinyStore()
        // `/` is float division (IEEE at zero); `//` and `%` fail on a zero divisor.
        #expect(try rows("SELECT bd / 0, 7 / 2, -7 // 2, -7 % 3 FROM members WHERE msno = 'userA'", store) == [["inf", "3.5", "-3", "-1"]])
        #expect(try rows("SELECT 0 / 0 FROM members WHERE msno = 'userA'", store) == [["nan"]])
        let error = try queryError("SELECT city // (bd - bd) FROM members", store)
        #expect(error.message.contains("division by zero"))
        #expect(error.position == 7..<24)
        // A NULL row never divides: CASE sends only the safe rows to the division.
        #expect(try rows("SELECT CASE WHEN bd = 0 THEN NULL ELSE 100 // bd END FROM members ORDER BY msno", store) == [["3"], [nil], ["2"]])
    }

    @Test func joinsUsingTheEntity() throws {
        let store = try tinyStore()
        #expect(try rows("SELECT msno, city FROM user_logs LEFT JOIN members USING (msno) WHERE date >= DATE '2016-03-01' ORDER BY msno", store)
                == [["userA", "1"], ["userC", "5"], ["userD", nil]])
        #expect(try rows("SELECT count(*) FROM user_logs JOIN members USING (msno)", store) == [["5"]])
        #expect(try rows("SELECT m.city, sum(l.num_100) FROM user_logs l JOIN members m USING (msno) GROUP BY m.city ORDER BY 1", store)
                == [["1", "36"], ["5", "1"]])
    }

    @Test func selectiveDateRangeReadsOnlyItsPartition() throws {
        let store = try tinyStore()
        let sql = "SELECT count(*) FROM user_logs WHERE date BETWEEN DATE '2016-02-01' AND DATE '2016-02-29'"
        #expect(try rows(sql, store) == [["2"]])
        let plan = try Query("EXPLAIN " + sql, store: try Store(path: store)).explain()
        #expect(plan.contains("partitions: 1 of 3 read (2 pruned by date)"), "\(plan)")
        #expect(plan.contains("pruning ranges: date in [2016-02-01, 2016-02-29]"), "\(plan)")
    }

    @Test func limitAndOffsetCutAcrossPartitionsInStorageOrder() throws {
        let store = try tinyStore()
        // Storage order: January (1 row), February (2), March (3, clustered by user: ids in order of first
        // appearance, userA, userC, userD, not file order). OFFSET 1 skips all of January; LIMIT 2 then takes
        // February, and a sink that asks to stop is never called again.
        #expect(try rows("SELECT msno, date FROM user_logs LIMIT 2 OFFSET 1", store) == [["userA", "2016-02-10"], ["userB", "2016-02-10"]])
        #expect(try rows("SELECT msno FROM user_logs LIMIT 2 OFFSET 4", store) == [["userC"], ["userD"]])
        let query = try Query("SELECT msno FROM user_logs", store: try Store(path: store))
        var calls = 0
        try query.run { _ in
            calls += 1
            return false
        }
        #expect(calls == 1)
    }

    @Test func groupByBeyondTheMemoryLimitFailsClearly() throws {
        let store = try tinyStore()
        do {
            _ = try rows("SELECT msno, count(*) FROM user_logs GROUP BY msno", store, memoryLimitBytes: 64)
            Issue.record("expected the memory limit to stop the query")
        } catch let error as QueryError {
            #expect(error.message.contains("memory limit"))
            #expect(error.hint?.contains("--memory-limit") == true)
        }
    }

    @Test(arguments: [
        ("SELECT city FROM members WHERE city =", "expected an expression but found the end of the query"),
        ("SELECT cty FROM members", "unknown column 'cty'"),
        ("SELECT * FROM member", "unknown table 'member'"),
        ("SELECT gender + 1 FROM members", "cannot apply + to VARCHAR and BIGINT"),
        ("SELECT city FROM members WHERE gender > 1", "cannot compare VARCHAR with BIGINT"),
        ("SELECT city FROM members WHERE city", "WHERE needs a BOOLEAN condition, not BIGINT"),
        ("SELECT 9223372036854775807 + bd FROM members", "integer overflow in +"),
        ("SELECT CAST(gender AS BIGINT) FROM members", "cannot cast VARCHAR 'male' to BIGINT"),
        ("SELECT CAST(registration_init_time AS BIGINT) FROM members", "cannot cast DATE to BIGINT"),
        ("SELECT sum(count(*)) FROM members", "aggregate function count() is not allowed here"),
        ("SELECT city, bd FROM members GROUP BY city", "column 'bd' must appear in the GROUP BY clause"),
        ("SELECT city FROM members WHERE count(*) > 1", "aggregate functions are not allowed in WHERE"),
        ("SELECT city FROM members ORDER BY 3", "ORDER BY position 3 is not in the select list"),
        ("SELECT year(city) FROM members", "year() needs a DATE, not BIGINT"),
        ("SELECT city FROM members m JOIN user_logs USING (city)", "JOIN ... USING needs the entity column (msno)"),
        ("SELECT 'abc FROM members", "unterminated string literal"),
        ("SELECT city FROM members LIMIT -1", "LIMIT takes a non-negative integer"),
        ("SELECT nosuch(city) FROM members", "unknown function nosuch()"),
        ("SELECT DATE '2016-02-30' FROM members", "invalid date '2016-02-30'"),
    ])
    func errorsNameTheProblem(sql: String, message: String) throws {
        let store = try tinyStore()
        let error = try queryError(sql, store)
        #expect(error.message.contains(message), "\(error.message)")
    }

    @Test func longListsAndChainsNeverOverflowTheStack() throws {
        let store = try tinyStore()
        let list = (0..<20_000).map(String.init).joined(separator: ",")
        #expect(try rows("SELECT count(*) FROM members WHERE city IN (\(list))", store) == [["3"]])
        let ors = Array(repeating: "city = 5", count: 6000).joined(separator: " OR ")
        #expect(try rows("SELECT count(*) FROM members WHERE \(ors)", store) == [["1"]])
        let chain = "SELECT city" + String(repeating: " + 1", count: 6000) + " FROM members"
        let error = try queryError(chain, store)
        #expect(error.message.contains("more than 256 operators deep"))
        // The caret line shows a window of a long line, not all of it.
        #expect(error.rendered(sql: chain).split(separator: "\n").allSatisfy { $0.count < 200 })
    }

    @Test func valuesUnderNullNeverFail() throws {
        let store = try tinyStore()
        // userD has logs but no member row: its city and registration date are NULL after the LEFT JOIN,
        // and whatever the arithmetic leaves under those NULLs must not trap or fail.
        #expect(try rows("""
            SELECT round(city - 9223372036854775807 - 1, -1), date_trunc('month', registration_init_time - 9223372036854775807 - 1)
            FROM user_logs LEFT JOIN members USING (msno) WHERE msno = 'userD'
            """, store) == [[nil, nil]])
        #expect(try queryError("SELECT round(9223372036854775800 + city, -1) FROM members WHERE msno = 'userC'", store).message
                == "integer overflow in round()")
        #expect(try queryError("SELECT registration_init_time + 2147483647 FROM members", store).message.hasPrefix("date out of range"))
        #expect(try rows("SELECT DATE '1850-01-01' + 1, (-9223372036854775807 - 1) % -1 FROM members WHERE msno = 'userA'", store)
                == [["1850-01-02", "0"]])
    }

    @Test func failingOperandsRunOnlyWhereNeeded() throws {
        let store = try tinyStore()
        // bd is 0 for userB: the division runs only on rows the left side leaves open.
        #expect(try rows("SELECT msno FROM members WHERE bd <> 0 AND 100 // bd > 2 ORDER BY msno", store) == [["userA"]])
        #expect(try rows("SELECT msno FROM members WHERE bd = 0 OR 100 // bd > 2 ORDER BY msno", store) == [["userA"], ["userB"]])
        #expect(try rows("SELECT coalesce(city, 1 // 0) FROM members ORDER BY 1", store) == [["1"], ["1"], ["5"]])
        #expect(try rows("SELECT CASE WHEN city = 0 THEN CAST('x' AS BIGINT) ELSE city END FROM members ORDER BY 1", store) == [["1"], ["1"], ["5"]])
        #expect(try rows("SELECT 1 // 0 FROM members WHERE bd > 1000", store).isEmpty)
    }

    @Test func aggregatesAndNamesBehaveAsInDuckDB() throws {
        let store = try tinyStore()
        // Sums of BIGINT are exact past 2^63 along the way; only a final sum outside BIGINT fails.
        #expect(try rows("SELECT avg(bd * 200000000000000000) FROM members", store) == [["4.666666666666667e+18"]])
        #expect(try queryError("SELECT sum(bd * 200000000000000000) FROM members", store).message.contains("is outside BIGINT"))
        // Rows in order: +9e18, +9e18 (past 2^63), -9e18: the sum ends inside BIGINT.
        #expect(try rows("SELECT sum(CASE WHEN bd = 40 THEN -9000000000000000000 ELSE 9000000000000000000 END) FROM members", store)
                == [["9000000000000000000"]])
        // Aliases in HAVING and inside ORDER BY; a key written qualified or not; repeated names made unique.
        #expect(try rows("SELECT city AS c, count(*) AS n FROM members GROUP BY c HAVING c < 5 ORDER BY n * -1", store) == [["1", "2"]])
        #expect(try rows("SELECT m.city + 1, count(*) FROM members m GROUP BY city + 1 ORDER BY 1", store) == [["2", "2"], ["6", "1"]])
        let query = try Query("SELECT city, city, \"CITY\" FROM Members", store: try Store(path: store))
        #expect(query.columnNames == ["city", "city_1", "CITY"])
    }

    @Test func entityTextDecodedByChunkEqualsTheDictionary() throws {
        // Two ingests: two entity segments, ids continuing from the first.
        let store = try tinyStore()
        let directory = (store as NSString).deletingLastPathComponent
        let more = "msno,cutoff_date,is_churn\nuserE,20160401,1\nuserA,20160401,0\n"
        try more.write(toFile: directory + "/labels.csv", atomically: true, encoding: .utf8)
        _ = try Ingester.ingest(store: store, files: [directory + "/labels.csv"])
        let opened = try Store(path: store)
        #expect(opened.manifest.entities.segments.count == 2)
        let dictionary = try opened.loadEntities()
        let names = try EntityNames(store: opened)
        #expect(names.count == dictionary.count)
        for id in 0..<dictionary.count { #expect(try names.string(id) == dictionary.string(id)) }
        #expect(try names.string(dictionary.count).isEmpty)
        #expect(try rows("SELECT l.msno, m.city FROM labels l LEFT JOIN members m USING (msno) ORDER BY l.msno", store) == [["userA", "1"], ["userE", nil]])
    }

    @Test func errorsPointAtTheText() throws {
        let store = try tinyStore()
        let sql = "SELECT city,\n       cty FROM members"
        let error = try queryError(sql, store)
        #expect(error.rendered(sql: sql) == """
            unknown column 'cty' (line 2, column 8)
                     cty FROM members
                     ^~~
            columns of members: msno, city, bd, gender, registered_via, registration_init_time
            """)
    }
}

/// `round(x, places)` splits the scaled value into integer and fraction instead of calling libm's roundl:
/// the same doubles as rounding the 80-bit product half away from zero, for every kind of value.
@Test func roundDoubleEqualsRoundingTheWideProduct() {
    func reference(_ value: Double, _ places: Int) -> Double {
        guard value.isFinite else { return value }
        var scale: Float80 = 1
        for _ in 0..<abs(places) { scale *= 10 }
        let wide = Float80(value)
        return Double(places >= 0 ? (wide * scale).rounded(.toNearestOrAwayFromZero) / scale
                                  : (wide / scale).rounded(.toNearestOrAwayFromZero) * scale)
    }
    var random = TestRandom(state: 42)
    func next() -> UInt64 { random.next() }
    var values: [Double] = [0, -0.0, 0.5, -0.5, 1.5, -2.5, 0.0005, -0.0005, 0.0015, 2.675, -0.3, 1e-320, 0x1p62, -0x1p62, 0x1p63, 9.2e18,
                            1e300, -1e300, .nan, .infinity, -.infinity, .greatestFiniteMagnitude, 123456.78949999999]
    for _ in 0..<20_000 {
        values.append(Double(bitPattern: next()))                                      // any double
        values.append(Double(Int64(bitPattern: next()) % 10_000_000) / 1_000 + 0.0005)  // halves at the third place
        values.append((Double(next() % 1_000_000_000) - 5e8) / 7)
    }
    var checked = 0
    for value in values where !value.isNaN {
        for places in [-3, -1, 0, 1, 2, 3, 6, 15] {
            let got = Functions.roundDouble(value, places: places), want = reference(value, places)
            #expect(got.bitPattern == want.bitPattern, "round(\(value), \(places)): \(got) against \(want)")
            checked += 1
        }
    }
    #expect(checked > 400_000)
    #expect(Functions.roundDouble(.nan, places: 2).isNaN)
    #expect(Functions.roundDouble(-0.3, places: 0).sign == .minus)
}
