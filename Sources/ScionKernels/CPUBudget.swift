import Foundation

/// How many threads the kernels should use by default: the cores this process may run on,
/// capped by a cgroup CPU quota (a container's `resources.limits.cpu`, which
/// `activeProcessorCount` does not see). Reads cgroup v2's `cpu.max`, else v1's
/// `cpu.cfs_quota_us` and `cpu.cfs_period_us`.
public enum CPUBudget {
    public static let threads: Int = {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let v2 = try? String(contentsOfFile: "/sys/fs/cgroup/cpu.max", encoding: .utf8)
        let quota = try? String(contentsOfFile: "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", encoding: .utf8)
        let period = try? String(contentsOfFile: "/sys/fs/cgroup/cpu/cpu.cfs_period_us", encoding: .utf8)
        return limited(cores: cores, cpuMax: v2, quota: quota, period: period)
    }()

    /// `cores` capped by the quota, rounded up (1.5 CPUs: 2 threads), at least 1.
    public static func limited(cores: Int, cpuMax: String?, quota: String? = nil, period: String? = nil) -> Int {
        var limit: Double?
        if let fields = cpuMax?.split(whereSeparator: \.isWhitespace), fields.count == 2,
            let q = Double(fields[0]), let p = Double(fields[1]), p > 0
        {
            limit = q / p  // "max 100000" fails Double("max"): no limit
        } else if let q = quota.flatMap({ Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }), q > 0,
            let p = period.flatMap({ Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }), p > 0
        {
            limit = q / p
        }
        guard let limit, limit > 0 else { return max(1, cores) }
        return max(1, min(cores, Int(limit.rounded(.up))))
    }
}
