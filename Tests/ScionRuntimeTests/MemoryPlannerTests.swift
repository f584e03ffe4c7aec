import ScionCompiler
import ScionGraph
import ScionRuntime
import Testing

@Suite struct MemoryPlannerTests {
    /// Random live ranges and sizes, like the buffers of a random DAG's schedule.
    func randomRequests(_ rng: inout SeededGenerator, count: Int) -> [BufferRequest] {
        (0..<count).map { id in
            let first = rng.nextInt(below: 40)
            return BufferRequest(
                id: id, size: 1 + rng.nextInt(below: 5000), firstUse: first, lastUse: first + rng.nextInt(below: 12))
        }
    }

    @Test func noTwoLiveBuffersOverlapAndTheFiguresAreOrdered() {
        var rng = SeededGenerator(seed: 17)
        for _ in 0..<200 {
            let requests = randomRequests(&rng, count: 1 + rng.nextInt(below: 60))
            let plan = MemoryPlanner.plan(requests)
            #expect(plan.lowerBoundBytes <= plan.arenaBytes)
            #expect(plan.arenaBytes <= plan.naiveBytes)
            for a in requests {
                let offsetA = plan.offsets[a.id]!
                #expect(offsetA % MemoryPlanner.alignment == 0)
                for b in requests where b.id > a.id && a.firstUse <= b.lastUse && b.firstUse <= a.lastUse {
                    let offsetB = plan.offsets[b.id]!
                    let sizeA = (a.size + 63) / 64 * 64, sizeB = (b.size + 63) / 64 * 64
                    #expect(
                        offsetA + sizeA <= offsetB || offsetB + sizeB <= offsetA, "buffers \(a.id) and \(b.id) overlap")
                }
            }
        }
    }

    @Test func aChainReusesMemory() {
        // a → b → c → d, each live for two steps: two buffers suffice.
        let requests = (0..<4).map { BufferRequest(id: $0, size: 1024, firstUse: $0, lastUse: $0 + 1) }
        let plan = MemoryPlanner.plan(requests)
        #expect(plan.arenaBytes == 2048)
        #expect(plan.naiveBytes == 4096)
        #expect(plan.lowerBoundBytes == 2048)
    }

    @Test func executorArenaIsWellBelowNaive() throws {
        let executor = try Executor(
            model: try Fixture.model(.wideResNet(depth: 16, widen: 1)), options: .init(maxBatch: 8, threads: 1))
        let plan = executor.memoryPlan
        #expect(plan.lowerBoundBytes <= plan.arenaBytes && plan.arenaBytes <= plan.naiveBytes)
        #expect(plan.arenaBytes * 2 < plan.naiveBytes)
    }
}
