import Foundation
import NephoProtocol
import NephoSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Finds or starts the daemon, as tmux does: connect; when nobody answers, take the lock
/// file, connect once more (another client may have just started one), spawn `nephod serve
/// --on-demand` detached, wait until it reports ready on a pipe, release the lock.
/// Two clients starting at once therefore end with one daemon.
public struct DaemonLauncher: Sendable {
    public let paths: NephoPaths
    public let environment: [String: String]
    public let autoStart: Bool
    /// Seconds to wait for the lock and for a spawned daemon to become ready.
    public var startTimeout: Double = 30

    public init(paths: NephoPaths, environment: [String: String], autoStart: Bool) {
        self.paths = paths
        self.environment = environment
        self.autoStart = autoStart
    }

    /// How the error for a daemon that is not running (and may not be started) begins.
    public static let notRunning = "no nephod is running"

    /// Where an auto-started daemon writes its log: `$NEPHO_HOME/log/nephod.log`.
    public var logFile: URL { paths.home.appendingPathComponent("log/nephod.log") }
    public var lockFile: URL { paths.runtimeDirectory.appendingPathComponent("nephod.lock") }

    /// A connected socket to a daemon (started now if needed and allowed).
    public func connect() throws -> Int32 {
        let socket = paths.socket.path
        do {
            return try UnixSocket.connect(path: socket)
        } catch let error as SocketError where error.code == ENOENT || error.code == ECONNREFUSED {
            guard autoStart else {
                throw NephoError(
                    .daemonUnavailable,
                    "\(Self.notRunning) on \(socket), and auto-start is off (--no-autostart or NEPHO_NO_AUTOSTART=1). "
                        + "Start one with `nephod`, or `systemctl --user start nephod.socket`, or run the command with --foreground."
                )
            }
        } catch {
            throw NephoError(.daemonUnavailable, "cannot reach nephod: \(error)")
        }
        return try startAndConnect()
    }

    private func startAndConnect() throws -> Int32 {
        let socket = paths.socket.path
        let folder = paths.runtimeDirectory.path
        try? FileManager.default.createDirectory(
            atPath: (folder as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if mkdir(folder, 0o700) == 0 {
            chmod(folder, 0o700)
        } else if errno != EEXIST {
            throw NephoError(
                .daemonUnavailable, "cannot create \(folder): \(String(cString: strerror(errno)))")
        }
        let lock = open(lockFile.path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard lock >= 0 else {
            throw NephoError(
                .daemonUnavailable,
                "cannot open the lock file \(lockFile.path): \(String(cString: strerror(errno)))")
        }
        defer { close(lock) }  // also releases the flock
        let deadline = Date().addingTimeInterval(startTimeout)
        while flock(lock, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, Date() < deadline else {
                throw NephoError(
                    .daemonUnavailable,
                    "another nepho has held \(lockFile.path) for \(Int(startTimeout)) s while starting nephod"
                )
            }
            usleep(10_000)
        }
        if let fd = try? UnixSocket.connect(path: socket) { return fd }

        try spawnAndWait(deadline: deadline)
        do {
            return try UnixSocket.connect(path: socket)
        } catch {
            throw NephoError(
                .daemonUnavailable, "nephod reported ready but \(socket) does not answer: \(error)")
        }
    }

    /// The nephod to start: `$NEPHOD_PATH`, the one beside this program, or the first on PATH.
    public func nephodExecutable() -> String? {
        if let explicit = environment["NEPHOD_PATH"], !explicit.isEmpty { return explicit }
        if let me = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let sibling = (me as NSString).deletingLastPathComponent + "/nephod"
            if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        }
        return ProcessRunner.resolve("nephod", environment: environment)
    }

    private func spawnAndWait(deadline: Date) throws {
        guard let executable = nephodExecutable() else {
            throw NephoError(
                .daemonUnavailable,
                "cannot find nephod (looked beside nepho and on PATH; NEPHOD_PATH names it); "
                    + "install it, or run the command with --foreground")
        }
        do {
            try PrivateHome.prepare(paths.home)
        } catch {
            throw NephoError(.permissionDenied, "\(error)")
        }
        try FileManager.default.createDirectory(
            at: logFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        rotateLog()
        let logStart = (try? FileManager.default.attributesOfItem(atPath: logFile.path)[.size] as? Int) ?? 0
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else {
            throw NephoError(.daemonUnavailable, "pipe: \(String(cString: strerror(errno)))")
        }
        _ = fcntl(pipeFDs[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipeFDs[1], F_SETFD, FD_CLOEXEC)
        defer { close(pipeFDs[0]) }
        // The daemon serves many commands: it gets no command's credentials in its environment.
        let daemonEnvironment = environment.filter {
            !$0.key.hasPrefix("AWS_")
                && !["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET"].contains($0.key)
        }
        let pid: pid_t
        do {
            pid = try DetachedProcess.spawn(
                path: executable,
                arguments: ["serve", "--on-demand", "--ready-fd", "3", "--log-file", logFile.path],
                environment: daemonEnvironment, logFile: logFile.path, descriptor3: pipeFDs[1])
        } catch {
            close(pipeFDs[1])
            throw NephoError(.daemonUnavailable, "cannot start nephod: \(error)")
        }
        close(pipeFDs[1])

        var reply: [UInt8] = []
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else {
                throw NephoError(
                    .daemonUnavailable,
                    "nephod (pid \(pid)) did not report ready within \(Int(startTimeout)) s; see \(logFile.path)"
                )
            }
            var poller = pollfd(fd: pipeFDs[0], events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(remaining, 1) * 1000))
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 256)
            let n = read(pipeFDs[0], &chunk, chunk.count)
            if n > 0 {
                reply.append(contentsOf: chunk[0..<n])
                if reply.contains(10) { break }
                continue
            }
            if n < 0 && errno == EINTR { continue }
            // The pipe closed without READY: the daemon exited. Show why.
            throw NephoError(
                .daemonUnavailable, "nephod could not start (see \(logFile.path))",
                details: logTail(from: logStart))
        }
        guard String(decoding: reply, as: UTF8.self).hasPrefix("READY") else {
            throw NephoError(
                .daemonUnavailable, "nephod sent an unexpected readiness message; see \(logFile.path)")
        }
    }

    /// Keeps one old log: past 10 MiB, nephod.log becomes nephod.log.1.
    private func rotateLog() {
        let size = (try? FileManager.default.attributesOfItem(atPath: logFile.path)[.size] as? Int) ?? 0
        guard size > 10 << 20 else { return }
        let old = logFile.path + ".1"
        unlink(old)
        rename(logFile.path, old)
    }

    private func logTail(from offset: Int) -> [String] {
        guard let data = FileManager.default.contents(atPath: logFile.path), data.count > offset else {
            return []
        }
        let text = String(decoding: data[offset...], as: UTF8.self)
        return text.split(separator: "\n").suffix(5).map(String.init)
    }
}
