import Foundation
import ScionGraph
import ScionKernels
import ScionRuntime
import Testing

/// Long runs create and drop executors (one per evaluation) and thread pools: their threads and
/// memory must come back. Other suites run concurrently in this process, so the bounds leave
/// room for their transient threads; a leak of one thread per pool exceeds them many times over.
@Suite struct ResourceTests {
    static func threadCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
    }

    /// Resident memory in MiB (Linux /proc/self/statm: pages).
    static func residentMiB() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
            let pages = text.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        else { return 0 }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
    }

    @Test func droppedPoolsAndExecutorsReleaseTheirThreads() throws {
        let model = try Fixture.model(.wideResNet(depth: 16, widen: 1))
        let input = Fixture.input([4, 3, 32, 32])
        _ = try Executor(model: model, options: .init(maxBatch: 4, threads: 3)).run(["image": input])
        let threadsBefore = Self.threadCount(), memoryBefore = Self.residentMiB()
        for _ in 0..<100 {
            let pool = ThreadPool(threads: 3)
            pool.parallelFor(8) { _, _ in }
        }
        for _ in 0..<100 {
            _ = try Executor(model: model, options: .init(maxBatch: 4, threads: 3)).run(["image": input])
        }
        // Workers of dropped pools exit asynchronously after being told to stop: joined in deinit.
        let threadsAfter = Self.threadCount(), memoryAfter = Self.residentMiB()
        // A leak of one worker per pool would add 200 (both workers: 400); other suites' transient
        // threads (NIO event loops, servers) reached 46 in one CI run, so the bound is well above
        // them and well below a leak.
        #expect(threadsAfter - threadsBefore < 150, "threads \(threadsBefore) -> \(threadsAfter) after 200 pools of 3")
        // Each executor holds ~2 MiB (arena at batch 4, packed weights): 100 leaked would add ~200.
        #expect(memoryAfter - memoryBefore < 128, "resident memory \(memoryBefore) -> \(memoryAfter) MiB")
    }
}
