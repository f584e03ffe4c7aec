import AllocationCounter
import ScionGraph
import ScionRuntime
import Testing

/// After warm-up, an inference through the pointer API allocates nothing on the heap, at the
/// planned batch and below it. The counter sees the calling thread, which with one thread does
/// all the work and with two shares it with the pool's worker (running the same step code).
@Suite struct AllocationTests {
    @Test(arguments: [1, 2])
    func inferenceAllocatesNothing(threads: Int) throws {
        let model = try Fixture.model(.wideResNet(depth: 16, widen: 1))
        let executor = try Executor(model: model, options: .init(maxBatch: 8, threads: threads))
        let input = Fixture.input([8, 3, 32, 32]).floats
        var logits = [Float](repeating: 0, count: 80)
        try input.withUnsafeBufferPointer { x in
            try logits.withUnsafeMutableBufferPointer { y in
                try executor.run(batch: 8, input: x.baseAddress!)  // warm-up
                scion_allocations_start()
                for batch in [8, 3, 1, 8] {
                    try executor.run(batch: batch, input: x.baseAddress!)
                    executor.copyOutput("logits", to: y.baseAddress!, batch: batch)
                }
                let count = scion_allocations_stop()
                #expect(count == 0, "inference made \(count) heap allocations")
            }
        }
    }

    @Test func theCounterSeesAllocations() {
        scion_allocations_start()
        let array = (0..<100).map { Double($0) }
        let count = scion_allocations_stop()
        #expect(count >= 1)
        #expect(array.count == 100)
    }
}
