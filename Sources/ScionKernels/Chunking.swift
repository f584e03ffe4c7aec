/// How `rows` of work split into chunks: at most `maxRows` each, and a multiple of the thread
/// count so every thread gets the same number of chunks.
public struct Chunking: Sendable {
    public let count: Int
    public let rows: Int
    public let total: Int
    /// The batch split, where the kernel's method depends on it (Winograd's tile size).
    public let batch: Int
    /// Each run of `channelGroups` consecutive chunks covers the same rows and splits the output
    /// channels between its chunks (1: every chunk has all channels).
    public let channelGroups: Int

    public init(rows total: Int, maxRows: Int, threads: Int, batch: Int = 0) {
        self.total = total
        self.batch = batch
        channelGroups = 1
        var chunks = max(1, (total + maxRows - 1) / maxRows)
        if threads > 1 { chunks = (chunks + threads - 1) / threads * threads }
        chunks = min(chunks, max(total, 1))
        count = chunks
        rows = (total + chunks - 1) / chunks
    }

    /// Groups of `rows` rows, each split into `channelGroups` chunks by output channel.
    init(rowGroupsOf rows: Int, total: Int, channelGroups: Int) {
        (self.rows, self.total, self.channelGroups, batch) = (rows, total, channelGroups, 0)
        count = (total + rows - 1) / rows * channelGroups
    }
}
