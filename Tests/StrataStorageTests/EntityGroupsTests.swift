import StrataTestSupport
import Testing
@testable import StrataFormat
@testable import StrataStorage

/// `EntityGroups`, the one stable sort by (entity, keys…) that ingest, compact and the point-in-time engine
/// share, against a plain stable sort of the same rows.
@Suite struct EntityGroupsTests {
    /// The order a stable sort by (entity, keys…, position) gives.
    func reference(_ entities: [Int64], _ keys: [[Int64]]) -> [Int] {
        entities.indices.sorted { a, b in
            let left = [entities[a]] + keys.map { $0[a] } + [Int64(a)]
            let right = [entities[b]] + keys.map { $0[b] } + [Int64(b)]
            return left.lexicographicallyPrecedes(right)
        }
    }

    func check(_ entities: [Int64], _ keys: [[Int64]], base: Int64 = 0, identity: Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        let count = Int((entities.max() ?? base) - base) + 1
        let groups = EntityGroups(entities: entities, entityCount: count, keys: keys, base: base)
        #expect(groups.order == reference(entities, keys), sourceLocation: sourceLocation)
        #expect(groups.isIdentity == identity, sourceLocation: sourceLocation)
        // Offsets bound each entity's rows.
        for entity in 0..<count {
            let rows = groups.order[groups.offsets[entity]..<groups.offsets[entity + 1]]
            #expect(rows.allSatisfy { entities[$0] == base + Int64(entity) }, sourceLocation: sourceLocation)
        }
    }

    @Test func randomRowsWithTiesSortStably() {
        var random = TestRandom(state: 11)
        for size in [0, 1, 2, 7, 100, 2_000] {
            let entities = (0..<size).map { _ in Int64(random.below(40)) }
            let days = (0..<size).map { _ in Int64(random.below(5)) }   // many ties: position decides
            let expiry = (0..<size).map { _ in Int64(random.below(3)) }
            check(entities, [days], identity: size < 2 || reference(entities, [days]) == Array(0..<size))
            check(entities, [days, expiry], identity: size < 2 || reference(entities, [days, expiry]) == Array(0..<size))
            check(entities, [], identity: size < 2 || reference(entities, []) == Array(0..<size))
        }
    }

    @Test func clusteredRowsAreRecognisedAndCostNoPermutation() {
        // Sorted by (entity, day) with ties: already in order.
        let entities: [Int64] = [3, 3, 3, 5, 9, 9]
        let days: [Int64] = [1, 1, 4, 2, 0, 7]
        check(entities, [days], identity: true)
        // A later key breaking the order within equal (entity, day) is seen.
        check(entities, [days, [0, 0, 0, 0, 0, 0].enumerated().map { Int64($0.offset == 1 ? -1 : 0) }], identity: false)
        // Ids offset by `base` (ingest sorts a segment's id range, not the whole dictionary's).
        check(entities.map { $0 + 1_000_000 }, [days], base: 1_000_003, identity: true)
    }

    @Test func sortedStretchesAreMergedByKey() {
        // Two clustered segments of one month, concatenated: each user's rows come from both, and the
        // second segment's rows may be earlier in time or tie with the first's (then they stay after them).
        let first: [(Int64, Int64)] = [(0, 1), (0, 5), (2, 3), (4, 2), (4, 9)]
        let second: [(Int64, Int64)] = [(0, 5), (1, 1), (2, 1), (4, 9), (4, 10)]
        let rows = first + second
        check(rows.map(\.0), [rows.map(\.1)], identity: false)
        check(rows.map { $0.0 + 7 }, [rows.map(\.1)], base: 7, identity: false)
    }
}
