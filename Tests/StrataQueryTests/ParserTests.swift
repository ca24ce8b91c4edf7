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
}
