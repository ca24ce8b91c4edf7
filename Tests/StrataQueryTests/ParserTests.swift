import Testing
@testable import StrataQuery

@Suite struct ParserTests {
    @Test func parsesEveryClause() throws {
        let statement = try Parser.parse("""
            SELECT city, count(*) AS n FROM members m LEFT JOIN labels USING (msno)
            WHERE bd BETWEEN 18 AND 60 AND gender IS NOT NULL GROUP BY city HAVING count(*) > 1
            ORDER BY n DESC NULLS FIRST, 1 LIMIT 5 OFFSET 2
            """)
        #expect(statement.items.count == 2)
        #expect(statement.from.alias == "m")
        #expect(statement.join?.isLeft == true)
        #expect(statement.groupBy.count == 1)
        #expect(statement.orderBy.map(\.descending) == [true, false])
        #expect(statement.orderBy[0].nullsFirst == true)
        #expect(statement.limit == 5 && statement.offset == 2)
    }

    @Test func lexesCommentsQuotesAndCase() throws {
        let statement = try Parser.parse("""
            -- a comment line
            select "City", 'it''s' AS "Quoted Name" FROM Members -- trailing comment
            WHERE bd >= 1.5e1;
            """)
        guard case .expression(let first, _) = statement.items[0], case .column(nil, let name) = first.kind else {
            Issue.record("expected a column")
            return
        }
        #expect(name == "City")
        guard case .expression(let second, let alias) = statement.items[1], case .string(let text) = second.kind else {
            Issue.record("expected a string literal")
            return
        }
        #expect(text == "it's")
        #expect(alias == "Quoted Name")
        #expect(statement.from.name == "members")
    }

    @Test func deepNestingIsAnErrorNotACrash() throws {
        let sql = "SELECT " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + " FROM members"
        #expect(throws: QueryError.self) { try Parser.parse(sql) }
        let negations = "SELECT " + String(repeating: "NOT ", count: 5000) + "TRUE FROM members"
        #expect(throws: QueryError.self) { try Parser.parse(negations) }
        // Reasonable nesting parses.
        _ = try Parser.parse("SELECT " + String(repeating: "(", count: 100) + "1" + String(repeating: ")", count: 100) + " FROM members")
    }

    @Test func syntaxErrorsPointAtTheToken() throws {
        for (sql, message, offset) in [
            ("SELECT city FROM members WHERE city = = 1", "expected an expression but found '='", 38),
            ("SELECT city FROM members ORDER city", "expected BY after ORDER but found 'city'", 31),
            ("SELECT city, FROM members", "expected an expression but found FROM", 13),
            ("SELECT city FROM members WHERE city IN (SELECT 1)", "subqueries are not supported", 40),
            ("SELECT city FROM members JOIN labels ON members.msno = labels.msno", "JOIN ... ON is not supported", 37),
            ("SELECT city FROM members; SELECT 1", "unexpected SELECT after the end of the query", 26),
            ("SELECT city ? FROM members", "unexpected character '?'", 12),
        ] {
            do {
                _ = try Parser.parse(sql)
                Issue.record("expected an error for \(sql)")
            } catch let error as QueryError {
                #expect(error.message == message, "\(sql)")
                #expect(error.position?.lowerBound == offset, "\(sql)")
            }
        }
    }
}
