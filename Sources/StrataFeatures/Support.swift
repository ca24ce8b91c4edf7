/// Hands values to `concurrentPerform` workers that only read them (or write disjoint slots).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
