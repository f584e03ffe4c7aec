import CScionSupport
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Work split into chunks: `runChunk(i, worker:)` is called once for each chunk index, on any
/// thread; `worker` identifies the thread (for per-thread scratch memory).
public protocol ParallelTask: AnyObject {
    func runChunk(_ index: Int, worker: Int)
}

/// Adapts a closure to `ParallelTask`.
private final class ClosureTask: ParallelTask {
    let body: (Int, Int) -> Void
    init(_ body: @escaping (Int, Int) -> Void) { self.body = body }
    func runChunk(_ index: Int, worker: Int) { body(index, worker) }
}

/// A fixed set of worker threads for data-parallel loops, built for many short parallel regions:
/// no allocation per loop, workers spin briefly between regions and then sleep, and the calling
/// thread works too.
///
/// ```swift
/// let pool = ThreadPool(threads: 2)
/// pool.parallelFor(chunks) { chunk, worker in process(chunk, scratch: scratch[worker]) }
/// pool.parallelFor(chunks, convolutionStep)   // a ParallelTask: no allocation
/// ```
/// `worker` is in `0..<threads` and unique among concurrently running bodies, so it can index
/// per-thread scratch memory.
public final class ThreadPool: @unchecked Sendable {
    public let threads: Int
    /// The state the workers share. Workers retain it, not the pool: the pool's deinit is what
    /// stops them, so a worker holding the pool kept every pool and its threads alive forever
    /// (one leaked thread per dropped pool, that is per evaluation in a long run).
    private let shared: Shared
    private var workers: [pthread_t] = []

    public init(threads: Int) {
        self.threads = max(1, threads)
        shared = Shared(threads: self.threads)
        for worker in 1..<self.threads {
            let context = Unmanaged.passRetained(WorkerContext(shared: shared, id: worker)).toOpaque()
            var thread = pthread_t()
            pthread_create(
                &thread, nil,
                { raw in
                    let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                    context.shared.workerLoop(id: context.id)
                    return nil
                }, context)
            workers.append(thread)
        }
    }

    deinit {
        shared.stop()
        for thread in workers { pthread_join(thread, nil) }
    }

    /// Calls `task.runChunk(index, worker:)` for every index in `0..<count`, spread over the
    /// threads, and returns when all calls have finished. Allocation-free: the hot path of the
    /// executor.
    public func parallelFor(_ count: Int, _ task: any ParallelTask) {
        guard count > 0 else { return }
        guard threads > 1, count > 1 else {
            for i in 0..<count { task.runChunk(i, worker: 0) }
            return
        }
        shared.run(count, task)
    }

    /// Calls `body(index, worker)` for every index in `0..<count`. Convenient, but converting
    /// the closure for the workers allocates once per call; hot paths pass a `ParallelTask`.
    public func parallelFor(_ count: Int, _ body: (Int, Int) -> Void) {
        guard threads > 1, count > 1 else {
            for i in 0..<count { body(i, 0) }
            return
        }
        withoutActuallyEscaping(body) { parallelFor(count, ClosureTask($0)) }
    }

    private final class WorkerContext {
        let shared: Shared
        let id: Int
        init(shared: Shared, id: Int) {
            self.shared = shared
            self.id = id
        }
    }

    /// The loop state, the generation counter the workers watch and the sleep/wake machinery.
    private final class Shared: @unchecked Sendable {
        let threads: Int
        /// The running loop.
        private var task: (any ParallelTask)?
        private var total = 0
        private let generation = Atomic<Int>(0)
        private let next = Atomic<Int>(0)
        private let busy = Atomic<Int>(0)
        private var mutex = pthread_mutex_t()
        private var wake = pthread_cond_t()
        private var stopping = false

        /// Spins this many times waiting for work before sleeping (~tens of microseconds).
        private static let spinLimit = 20_000

        init(threads: Int) {
            self.threads = threads
            pthread_mutex_init(&mutex, nil)
            pthread_cond_init(&wake, nil)
        }

        deinit {
            pthread_cond_destroy(&wake)
            pthread_mutex_destroy(&mutex)
        }

        func stop() {
            pthread_mutex_lock(&mutex)
            stopping = true
            generation.add(1, ordering: .releasing)
            pthread_cond_broadcast(&wake)
            pthread_mutex_unlock(&mutex)
        }

        func run(_ count: Int, _ task: any ParallelTask) {
            self.task = task
            total = count
            next.store(0, ordering: .relaxed)
            busy.store(threads - 1, ordering: .relaxed)
            generation.add(1, ordering: .releasing)
            // Always under the mutex: a worker deciding to sleep re-checks the generation while
            // holding it, so no wake-up can be lost.
            pthread_mutex_lock(&mutex)
            pthread_cond_broadcast(&wake)
            pthread_mutex_unlock(&mutex)
            drain(worker: 0)
            while busy.load(ordering: .acquiring) > 0 { spinPause() }
            self.task = nil
        }

        private func drain(worker: Int) {
            guard let task else { return }
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                if i >= total { return }
                task.runChunk(i, worker: worker)
            }
        }

        func workerLoop(id: Int) {
            var seen = 0
            while true {
                var spins = 0
                var current = generation.load(ordering: .acquiring)
                while current == seen {
                    spins += 1
                    if spins < Self.spinLimit {
                        spinPause()
                    } else {
                        pthread_mutex_lock(&mutex)
                        while generation.load(ordering: .acquiring) == seen && !stopping {
                            pthread_cond_wait(&wake, &mutex)
                        }
                        pthread_mutex_unlock(&mutex)
                        spins = 0
                    }
                    current = generation.load(ordering: .acquiring)
                }
                seen = current
                if stopping { return }
                drain(worker: id)
                busy.subtract(1, ordering: .releasing)
            }
        }
    }
}

@inline(__always)
func spinPause() { scion_cpu_relax() }
