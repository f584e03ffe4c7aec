#if MPI
    import CMPI
    import Foundation
    import ScionTraining

    /// `MPI_COMM_WORLD` as a `Collective`: the processes `mpirun` started. MPI is initialised
    /// once, on first use, and finalised at exit; only the thread that trains calls it
    /// (`MPI_THREAD_FUNNELED`).
    ///
    /// ```swift
    /// let world = try MPICollective.world()   // under mpirun -np 2: rank 0 or 1, size 2
    /// ```
    public final class MPICollective: Collective, @unchecked Sendable {
        public let rank: Int
        public let size: Int
        /// Non-blocking sums started and not yet finished (reused, so steps allocate nothing).
        private var requests: [MPI_Request?] = []

        private init() throws {
            var provided: Int32 = 0
            try Self.check(MPI_Init_thread(nil, nil, scion_MPI_THREAD_FUNNELED(), &provided), "MPI_Init_thread")
            atexit { MPI_Finalize() }
            var rank: Int32 = 0, size: Int32 = 0
            try Self.check(MPI_Comm_rank(scion_MPI_COMM_WORLD(), &rank), "MPI_Comm_rank")
            try Self.check(MPI_Comm_size(scion_MPI_COMM_WORLD(), &size), "MPI_Comm_size")
            self.rank = Int(rank)
            self.size = Int(size)
        }

        nonisolated(unsafe) private static var shared: MPICollective?

        /// The world communicator (initialising MPI on the first call).
        public static func world() throws -> MPICollective {
            if let shared { return shared }
            let world = try MPICollective()
            shared = world
            return world
        }

        public func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
            try chunks(values.count) { start, count in
                try Self.check(
                    MPI_Allreduce(
                        scion_MPI_IN_PLACE(), values.baseAddress! + start, count, scion_MPI_FLOAT(), scion_MPI_SUM(),
                        scion_MPI_COMM_WORLD()), "MPI_Allreduce")
            }
        }

        public func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {
            try chunks(values.count) { start, count in
                try Self.check(
                    MPI_Allreduce(
                        scion_MPI_IN_PLACE(), values.baseAddress! + start, count, scion_MPI_DOUBLE(), scion_MPI_SUM(),
                        scion_MPI_COMM_WORLD()), "MPI_Allreduce")
            }
        }

        public func broadcast(_ values: UnsafeMutableBufferPointer<Float>, root: Int) throws {
            try chunks(values.count) { start, count in
                try Self.check(
                    MPI_Bcast(
                        values.baseAddress! + start, count, scion_MPI_FLOAT(), Int32(root), scion_MPI_COMM_WORLD()),
                    "MPI_Bcast")
            }
        }

        public func startAllreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
            try chunks(values.count) { start, count in
                var request: MPI_Request?
                try Self.check(
                    MPI_Iallreduce(
                        scion_MPI_IN_PLACE(), values.baseAddress! + start, count, scion_MPI_FLOAT(), scion_MPI_SUM(),
                        scion_MPI_COMM_WORLD(), &request), "MPI_Iallreduce")
                requests.append(request)
            }
        }

        public func progressReductions() throws {
            guard !requests.isEmpty else { return }
            var done: Int32 = 0
            try Self.check(
                MPI_Testall(Int32(requests.count), &requests, &done, scion_MPI_STATUSES_IGNORE()), "MPI_Testall")
            if done != 0 { requests.removeAll(keepingCapacity: true) }
        }

        public func finishReductions() throws {
            guard !requests.isEmpty else { return }
            defer { requests.removeAll(keepingCapacity: true) }
            try Self.check(
                MPI_Waitall(Int32(requests.count), &requests, scion_MPI_STATUSES_IGNORE()), "MPI_Waitall")
        }

        /// MPI counts are 32-bit: larger buffers go in pieces (every process splits alike).
        private func chunks(_ total: Int, _ body: (Int, Int32) throws -> Void) throws {
            let most = Int(Int32.max)
            var start = 0
            while start < total {
                let count = min(most, total - start)
                try body(start, Int32(count))
                start += count
            }
        }

        private static func check(_ status: Int32, _ call: String) throws {
            guard status == scion_MPI_SUCCESS() else { throw MPIError.failed(call: call, status: Int(status)) }
        }
    }

    /// An MPI call that did not succeed (MPI's default handler aborts first; this is the rest).
    public enum MPIError: Error, CustomStringConvertible {
        case failed(call: String, status: Int)

        public var description: String {
            switch self {
            case .failed(let call, let status): "\(call) failed with MPI error \(status)"
            }
        }
    }
#endif
