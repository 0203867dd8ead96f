import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Waits for one child's exit on a thread of its own (no polling) and hands its status
/// to whoever asks: the exit code, or 128 + the signal number when a signal ended it.
public final class ProcessExit: @unchecked Sendable {
    public let pid: pid_t
    private let lock = NSLock()
    private var status: Int32?
    private var waiters: [CheckedContinuation<Int32, Never>] = []

    /// Starts reaping `pid`, a child of this process.
    public init(reaping pid: pid_t) {
        self.pid = pid
        Thread.detachNewThread { [self] in reap() }
    }

    /// True until the child has exited and been reaped.
    public var isRunning: Bool { lock.withLock { status == nil } }

    /// Runs `body` only while the child has not been reaped, so that a signal it sends
    /// cannot reach another process that took the pid.
    public func whileRunning(_ body: () -> Void) {
        lock.withLock { if status == nil { body() } }
    }

    /// The exit status, once the child has ended.
    public func value() async -> Int32 {
        await withCheckedContinuation { continuation in
            let done: Int32? = lock.withLock {
                if let status { return status }
                waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// The exit status, waiting up to `timeout` seconds for it (nil if still running):
    /// for callers that are not async.
    public func wait(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let status = lock.withLock({ status }) { return status }
            guard Date() < deadline else { return nil }
            usleep(5_000)
        }
    }

    private func reap() {
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        let code: Int32 = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        let pending = lock.withLock {
            status = code
            defer { waiters = [] }
            return waiters
        }
        for waiter in pending { waiter.resume(returning: code) }
    }
}
