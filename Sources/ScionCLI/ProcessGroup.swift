import ArgumentParser
import Foundation
import ScionKernels
import ScionTraining

#if MPI
    import ScionMPI
#endif

/// The processes of this run. Under `mpirun` (Open MPI sets `OMPI_COMM_WORLD_*`), the MPI build
/// trains data-parallel over MPI's world; otherwise one process trains alone. Rank 0 alone
/// prints and writes.
enum ProcessGroup {
    private static let environment = ProcessInfo.processInfo.environment

    /// This process's rank under mpirun (0 otherwise); known without starting MPI.
    static var rank: Int { environment["OMPI_COMM_WORLD_RANK"].flatMap(Int.init) ?? 0 }
    static var isRoot: Bool { rank == 0 }
    static var launchedSize: Int { environment["OMPI_COMM_WORLD_SIZE"].flatMap(Int.init) ?? 1 }

    /// The collective training uses: MPI's world under mpirun -np N > 1, else one process.
    static func world() throws -> any Collective {
        guard launchedSize > 1 else { return SingleProcess() }
        #if MPI
            return try MPICollective.world()
        #else
            throw UsageError(
                "started by mpirun with \(launchedSize) processes, but this scion was built without MPI: build it with `make mpi`"
            )
        #endif
    }

    /// `--bucket-mb`'s help, for every command that trains.
    static let bucketHelp = ArgumentHelp(
        "Under mpirun: MiB of gradients per allreduce started during the backward pass (default \(TrainingSession.defaultBucketBytes >> 20); 0: one allreduce after it)."
    )

    /// `--bucket-mb` in bytes (the default when absent).
    static func bucketBytes(_ mebibytes: Double?) throws -> Int {
        guard let mebibytes else { return TrainingSession.defaultBucketBytes }
        guard mebibytes >= 0, mebibytes.isFinite else { throw UsageError("--bucket-mb must be 0 or more") }
        return Int(mebibytes * 1_048_576)
    }

    /// Threads per process by default: the CPU budget shared by the ranks on this machine.
    static var defaultThreads: Int {
        let local = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? 1
        return max(1, CPUBudget.threads / max(1, local))
    }
}
