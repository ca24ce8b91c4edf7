import Dispatch

/// Result slots filled by `concurrentPerform` workers, each writing only its own index. That disjointness
/// is what makes the unchecked Sendable sound.
final class ParallelSlots<Element>: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<Element?>

    init(count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil)
    }

    subscript(index: Int) -> Element? {
        get { storage[index] }
        set { storage[index] = newValue }
    }

    deinit {
        storage.deinitialize()
        storage.deallocate()
    }
}

/// Runs `body` for 0..<count on all cores and returns the results in index order.
public func parallelMap<T>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
    let slots = ParallelSlots<T>(count: count)
    DispatchQueue.concurrentPerform(iterations: count) { index in slots[index] = body(index) }
    return (0..<count).map { slots[$0]! }
}

/// Runs `body` for 0..<count, each index as its own task on the global queue, and returns the results in
/// index order. For tasks that run parallel loops of their own: libdispatch runs a `concurrentPerform`
/// started inside another one's worker serially, so fanning such tasks out with `parallelMap` would leave
/// their inner loops one core.
public func parallelTasks<T>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
    let slots = ParallelSlots<T>(count: count)
    withoutActuallyEscaping(body) { body in
        let group = DispatchGroup()
        for index in 0..<count {
            DispatchQueue.global().async(group: group) { slots[index] = body(index) }
        }
        group.wait()
    }
    return (0..<count).map { slots[$0]! }
}
