import Foundation

/// What a long request tells its caller while it runs: one line, for example that AWS is
/// throttling and nepho keeps trying. The engine posts to the request's board (a task-local
/// set by whoever runs the request); the daemon sends each new line to the client at once
/// in a `daemon.keepalive` notification (`{"notice": …}`), a foreground command prints it.
public final class RequestNotices: @unchecked Sendable {
    @TaskLocal public static var current: RequestNotices?

    private let lock = NSLock()
    private var last: String?
    private let deliver: @Sendable (String) -> Void

    /// `deliver` gets each line that differs from the one before.
    public init(deliver: @escaping @Sendable (String) -> Void) { self.deliver = deliver }

    /// Posts `line` to the running request's board, if it has one.
    public static func post(_ line: String) { current?.post(line) }

    public func post(_ line: String) {
        let fresh = lock.withLock {
            guard line != last else { return false }
            last = line
            return true
        }
        if fresh { deliver(line) }
    }
}

/// The parameters of a `daemon.keepalive` notification that carries a notice.
public struct KeepAliveParams: Codable, Sendable, Equatable {
    public var notice: String?
    public init(notice: String?) { self.notice = notice }
}
