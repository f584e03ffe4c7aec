import Foundation
import ScionGraph
import ScionKernels
import ScionRuntime
import Testing

/// Long runs create and drop executors (one per evaluation) and thread pools: their threads and
/// memory must come back. Other suites run concurrently in this process, so the thread bound
/// leaves room for their transient threads (a leak of one thread per pool exceeds it many times
/// over), and memory is checked by the executors' deallocation (their deinit frees the arena),
/// not by the process's resident size, which other suites move by more than a leak would.
@Suite struct ResourceTests {
    static func threadCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
    }

    @Test func droppedPoolsAndExecutorsReleaseTheirThreads() throws {
        let model = try Fixture.model(.wideResNet(depth: 16, widen: 1))
        let input = Fixture.input([4, 3, 32, 32])
        _ = try Executor(model: model, options: .init(maxBatch: 4, threads: 3)).run(["image": input])
        let threadsBefore = Self.threadCount()
        var pools: [Weak<ThreadPool>] = [], executors: [Weak<Executor>] = []
        for _ in 0..<100 {
            let pool = ThreadPool(threads: 3)
            pool.parallelFor(8) { _, _ in }
            pools.append(Weak(pool))
        }
        for _ in 0..<100 {
            let executor = try Executor(model: model, options: .init(maxBatch: 4, threads: 3))
            _ = try executor.run(["image": input])
            executors.append(Weak(executor))
        }
        // Workers of dropped pools exit asynchronously after being told to stop: joined in deinit.
        let threadsAfter = Self.threadCount()
        // A leak of one worker per pool would add 200 (both workers: 400); other suites' transient
        // threads (NIO event loops, servers) reached 46 in one CI run, so the bound is well above
        // them and well below a leak.
        #expect(threadsAfter - threadsBefore < 150, "threads \(threadsBefore) -> \(threadsAfter) after 200 pools of 3")
        // Each executor holds ~2 MiB (arena at batch 4, packed weights), freed when it is.
        #expect(executors.filter { $0.object != nil }.count == 0, "executors still alive")
        #expect(pools.filter { $0.object != nil }.count == 0, "thread pools still alive")
    }
}

/// A reference that does not keep its object alive.
struct Weak<T: AnyObject> {
    weak var object: T?
    init(_ object: T) { self.object = object }
}
