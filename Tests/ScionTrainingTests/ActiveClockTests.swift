import Foundation
import ScionTraining
import Testing

@Suite struct ActiveClockTests {
    @Test func aGapLongerThanTheStopGapIsLeftOutButOneTick() {
        let watcher = StopWatcher(start: 100, tick: 0.25, stopGap: 1.5)
        #expect(watcher.observe(100.25) == 100.25)
        #expect(watcher.observe(101.5) == 101.5)  // 1.25 s late: a busy machine, not a stop
        #expect(watcher.observe(111.5) == 101.75)  // stopped for 10 s
        #expect(watcher.observe(111.75) == 102.0)
        #expect(watcher.stoppedSeconds == 9.75)
    }

    @Test func aReadingOlderThanTheLastOneCountsNoStop() {
        let watcher = StopWatcher(start: 0, tick: 0.25, stopGap: 1.5)
        _ = watcher.observe(0.5)
        #expect(watcher.observe(0.4) == 0.4)
        #expect(watcher.observe(0.75) == 0.75)
        #expect(watcher.stoppedSeconds == 0)
    }

    @Test func theClockAdvances() {
        let a = ActiveClock.now()
        Thread.sleep(forTimeInterval: 0.01)
        #expect(ActiveClock.now() > a)
    }
}
