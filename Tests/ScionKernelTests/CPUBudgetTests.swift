import ScionKernels
import Testing

/// The default thread count follows a container's CPU limit (cgroup v2 `cpu.max`, v1 quota).
@Suite struct CPUBudgetTests {
    @Test func quotaCapsTheCores() {
        #expect(CPUBudget.limited(cores: 8, cpuMax: "200000 100000\n") == 2)
        #expect(CPUBudget.limited(cores: 8, cpuMax: "150000 100000") == 2, "1.5 CPUs round up")
        #expect(CPUBudget.limited(cores: 8, cpuMax: "50000 100000") == 1)
        #expect(CPUBudget.limited(cores: 2, cpuMax: "800000 100000") == 2, "never above the cores")
        #expect(CPUBudget.limited(cores: 4, cpuMax: "max 100000") == 4, "no limit")
        #expect(CPUBudget.limited(cores: 4, cpuMax: nil, quota: "300000\n", period: "100000\n") == 3)
        #expect(CPUBudget.limited(cores: 4, cpuMax: nil, quota: "-1", period: "100000") == 4, "v1: no limit")
        #expect(CPUBudget.limited(cores: 4, cpuMax: "garbage") == 4)
        #expect(CPUBudget.threads >= 1)
    }
}
