/// The processes of a data-parallel run and the collectives training needs. A process alone
/// is `SingleProcess`; under `mpirun`, the MPI build's `MPICollective` (module ScionMPI).
///
/// Every process calls each collective in the same order with the same counts (the training
/// loop guarantees it: ranks run the same steps on their shards of the same batches).
public protocol Collective: AnyObject, Sendable {
    /// This process's index, 0..<size; rank 0 writes the run's files.
    var rank: Int { get }
    var size: Int { get }
    /// Sums `values` element-wise over all processes; every process gets the sums.
    func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws
    func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws
    /// Copies rank `root`'s `values` into every process's.
    func broadcast(_ values: UnsafeMutableBufferPointer<Float>, root: Int) throws

    /// Starts summing `values` element-wise over all processes, in place, and returns at once
    /// where the transport can (MPI's non-blocking allreduce). Until `finishReductions()`
    /// returns, `values` must be neither read nor written. Collectives without non-blocking
    /// sums finish the sum here.
    func startAllreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws
    /// Lets started sums advance: MPI moves a non-blocking collective's data only inside MPI
    /// calls, so a caller overlapping work calls this between pieces of it.
    func progressReductions() throws
    /// Returns when every started sum has finished.
    func finishReductions() throws
}

extension Collective {
    public func startAllreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws { try allreduceSum(values) }
    public func progressReductions() throws {}
    public func finishReductions() throws {}
}

extension Collective {
    /// True on the process that writes checkpoints, logs, reports and models.
    public var isRoot: Bool { rank == 0 }

    /// Sums an array over all processes.
    public func allreduceSum(_ values: inout [Double]) throws {
        try values.withUnsafeMutableBufferPointer { try allreduceSum($0) }
    }

    /// Rank `root`'s array in every process (all pass arrays of the same count).
    public func broadcast(_ values: inout [Float], root: Int = 0) throws {
        try values.withUnsafeMutableBufferPointer { try broadcast($0, root: root) }
    }

    /// Stops with an error, rather than corrupting memory in collectives of mismatched sizes,
    /// when the processes' `sizes` differ (they do not train the same graph or state).
    public func checkAgreement(_ sizes: [Double], _ what: String) throws {
        var sums = [1] + sizes
        try allreduceSum(&sums)
        let processes = sums[0]
        guard zip(sums.dropFirst(), sizes).allSatisfy({ $0 == processes * $1 }) else {
            throw TrainingError.inconsistentProcesses(
                "process \(rank)'s \(what) (\(sizes.map { String(Int($0)) }.joined(separator: ", "))) differ from another's"
            )
        }
    }

    /// Rank `root`'s number in every process (a sum to which the other ranks add zero).
    public func broadcast(_ value: Double, root: Int = 0) throws -> Double {
        var v = [rank == root ? value : 0]
        try allreduceSum(&v)
        return v[0]
    }
}

/// One process: collectives are identities.
public final class SingleProcess: Collective {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {}
    public func broadcast(_ values: UnsafeMutableBufferPointer<Float>, root: Int) throws {}
}
