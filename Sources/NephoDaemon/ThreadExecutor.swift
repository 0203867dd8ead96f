import Foundation

/// Runs a task's jobs on the thread that calls `run(_:)`: a connection's reader thread
/// answers each request itself, so a round trip costs no hop to Swift's shared pool and
/// back (the pool keeps its few threads for everything else).
///
/// Jobs enqueued from other threads while the operation waits (a continuation resumed
/// elsewhere) are picked up by the same thread; code isolated to an actor still runs there.
final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var finished = false

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        condition.signal()
        condition.unlock()
    }

    private func markFinished() {
        condition.lock()
        finished = true
        condition.signal()
        condition.unlock()
    }

    /// Runs `operation` to completion on the calling thread.
    func run(_ operation: @escaping @Sendable () async -> Void) {
        condition.lock()
        finished = false
        condition.unlock()
        Task(executorPreference: self) {
            await operation()
            self.markFinished()
        }
        while true {
            condition.lock()
            while jobs.isEmpty && !finished { condition.wait() }
            if jobs.isEmpty && finished {
                condition.unlock()
                return
            }
            let next = jobs.removeFirst()
            condition.unlock()
            next.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
