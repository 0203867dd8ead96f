import Foundation
import NephoProtocol
import NephoStore
import NephoSupport

/// Keeps one `nephod monitor BUILD` process alive for every unfinished build of a
/// `NEPHO_HOME`. A monitor holds an exclusive `flock` on its build's lock file
/// (`$NEPHO_HOME/builds/ID.lock`) for as long as it runs, so a free lock means nobody
/// watches the build: the supervisor then starts a monitor and hands it the provider
/// context (credentials included) through a pipe on its standard input, never in its
/// arguments, environment or a file. Monitors run in their own session, so they outlive
/// the daemon; a new daemon (or the next command) adopts them by finding their locks held.
public final class MonitorSupervisor: @unchecked Sendable {
    public let paths: NephoPaths
    private let lock = NSLock()
    /// The provider context each build was started with (memory only).
    private var contexts: [Int64: [String: String]] = [:]
    /// The last context any client brought: used for builds adopted after a restart.
    private var fallback: [String: String]?
    private var spawned: [Int64: (pid: pid_t, at: Date)] = [:]
    /// Builds whose provider call this process is making: their monitor starts once the
    /// call has returned (with the context it returns). After a crash the set is empty, and
    /// the monitor resolves the intent.
    private var launching: Set<Int64> = []
    private var ticking = false
    private var openedStore: StateStore?

    /// One connection for the supervisor's checks (opening a store takes a write lock).
    /// nil once the database is gone (the home removed): nothing is started for it then,
    /// and no folder of the removed home is made again.
    private func store() -> StateStore? {
        lock.withLock {
            guard FileManager.default.fileExists(atPath: paths.database.path) else {
                openedStore = nil
                return nil
            }
            if openedStore == nil { openedStore = try? StateStore(path: paths.database.path) }
            return openedStore
        }
    }

    /// One per engine (`LocalAPI`): the daemon's, or a foreground command's.
    public init(paths: NephoPaths) { self.paths = paths }

    /// Makes `folder` inside its existing parent (the home): a home removed meanwhile is
    /// not made again.
    static func makeFolder(_ folder: URL) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue {
            return
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
    }

    /// `$NEPHO_HOME/builds/ID.lock`.
    public static func lockFile(_ paths: NephoPaths, build: Int64) -> String {
        paths.home.appendingPathComponent("builds").appendingPathComponent("\(build).lock").path
    }

    /// Remembers the context a build runs with (and as the fallback for adopted builds),
    /// except credentials a remote client forwarded: they serve only its own builds.
    public func remember(build: Int64?, context: [String: String]) {
        lock.withLock {
            if let build { contexts[build] = context }
            if !context.isEmpty && context[ProviderContext.forwardedMarker] == nil { fallback = context }
        }
    }

    /// This process is making `build`'s provider call (true) or has made it (false).
    public func launching(build: Int64, _ underWay: Bool) {
        lock.withLock {
            if underWay { launching.insert(build) } else { launching.remove(build) }
        }
    }

    /// Every provider context held in memory (the builds' and the last a client brought).
    public func knownContexts() -> [[String: String]] {
        lock.withLock { Array(contexts.values) + (fallback.map { [$0] } ?? []) }
    }

    /// The number of unfinished builds whose monitor runs.
    public func runningMonitors() -> Int {
        guard let store = store(), let builds = try? store.unfinishedBuilds() else { return 0 }
        return builds.filter { Self.isHeld(Self.lockFile(paths, build: $0.id)) }.count
    }

    /// Starts a monitor for every unfinished build nobody watches. Returns the builds started.
    @discardableResult
    public func ensureMonitors() -> [Int64] {
        guard let store = store(), let builds = try? store.unfinishedBuilds() else { return [] }
        var started: [Int64] = []
        for build in builds where !Self.isHeld(Self.lockFile(paths, build: build.id)) {
            let context: [String: String]? = lock.withLock {
                if let recent = spawned[build.id], kill(recent.pid, 0) == 0,
                    Date().timeIntervalSince(recent.at) < 5
                {
                    return nil  // just started; its lock is not taken yet
                }
                if launching.contains(build.id) { return nil }  // its call is still being made
                // Another live process (a --foreground command) is making its call: its
                // monitor comes once the call returned (or that process died).
                if build.launcherRunning, let started = Timestamp.date(build.startedAt),
                    Date().timeIntervalSince(started) < 900
                {
                    return nil
                }
                return contexts[build.id] ?? fallback
            }
            guard let context else { continue }
            if let pid = try? spawn(build: build.id, context: context) {
                lock.withLock { spawned[build.id] = (pid, Date()) }
                try? store.setMonitor(build: build.id, pid: pid)
                started.append(build.id)
            }
        }
        return started
    }

    /// Checks every `interval` seconds (the daemon calls this once): a monitor killed is
    /// replaced within about that long.
    public func superviseForever(interval: Double = 0.5) {
        let start = lock.withLock { () -> Bool in
            defer { ticking = true }
            return !ticking
        }
        guard start else { return }
        Thread.detachNewThread { [self] in
            while true {
                ensureMonitors()
                Thread.sleep(forTimeInterval: interval)
            }
        }
    }

    /// True when some process holds `path`'s exclusive lock.
    static func isHeld(_ path: String) -> Bool {
        let fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return true
    }

    /// The running `nephod monitor-host` (docs/daemon.md, "Memory"): its pid, the pipe
    /// its requests go to, the pipe its answers come from.
    private var host: (pid: pid_t, requests: Int32, answers: Int32)?
    private let hostLock = NSLock()
    /// False once the host failed: monitors are then started the plain way.
    private var hostUsable = ProcessInfo.processInfo.environment["NEPHO_MONITOR_HOST"] != "0"

    private func spawn(build: Int64, context: [String: String]) throws -> pid_t {
        let logs = paths.home.appendingPathComponent("log")
        try Self.makeFolder(logs)
        let log = logs.appendingPathComponent("monitor-\(build).log").path
        if let pid = hostLock.withLock({ forkThroughHost(build: build, context: context, log: log) }) {
            return pid
        }
        return try spawnProcess(build: build, context: context)
    }

    /// Asks the host for a monitor (starting the host first when needed); nil when it
    /// cannot, after which the host is not used again.
    private func forkThroughHost(build: Int64, context: [String: String], log: String) -> pid_t? {
        guard hostUsable else { return nil }
        if let running = host, kill(running.pid, 0) != 0 { stopHost() }
        if host == nil { host = try? startHost() }
        guard let host else {
            hostUsable = false
            return nil
        }
        let request = MonitorHost.Request(build: build, log: log, context: context)
        var line = (try? JSONEncoder().encode(request)) ?? Data()
        line.append(UInt8(ascii: "\n"))
        defer { line.resetBytes(in: 0..<line.count) }
        var answer: [UInt8] = []
        if Self.writeAll(host.requests, line) {
            answer = Self.readLine(host.answers, timeout: 10)
        }
        let text = String(decoding: answer, as: UTF8.self)
        if let pid = pid_t(text), pid > 0 { return pid }
        FileHandle.standardError.write(
            Data(
                "nephod: monitor host: \(text.isEmpty ? "no answer" : text); starting monitors directly\n"
                    .utf8))
        stopHost()
        hostUsable = false
        return nil
    }

    private func startHost() throws -> (pid: pid_t, requests: Int32, answers: Int32) {
        let executable = try Self.monitorExecutable()
        var requests: [Int32] = [-1, -1]
        var answers: [Int32] = [-1, -1]
        guard pipe(&requests) == 0 else {
            throw NephoError(.internalError, "pipe: \(SystemError.errnoText())")
        }
        guard pipe(&answers) == 0 else {
            close(requests[0])
            close(requests[1])
            throw NephoError(.internalError, "pipe: \(SystemError.errnoText())")
        }
        for fd in [requests[1], answers[0]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        defer {
            close(requests[0])
            close(answers[1])
        }
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") }
        environment["NEPHO_HOME"] = paths.home.path
        environment["XDG_RUNTIME_DIR"] = paths.runtimeDirectory.path
        let pid = try DetachedProcess.spawn(
            path: executable,
            // The last argument leaves room to show `nephod monitor ID` in each forked monitor.
            arguments: ["monitor-host", "(forks-one-monitor-per-build)"], environment: environment,
            logFile: paths.home.appendingPathComponent("log/monitor-host.log").path,
            descriptor3: answers[1], standardInput: requests[0])
        return (pid, requests[1], answers[0])
    }

    private func stopHost() {
        guard let running = host else { return }
        close(running.requests)
        close(running.answers)
        host = nil
    }

    private static func writeAll(_ fd: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return false }
                offset += written
            }
            return true
        }
    }

    /// One line (without its newline) from `fd`, or what came before `timeout` seconds passed.
    private static func readLine(_ fd: Int32, timeout: Double) -> [UInt8] {
        var line: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var byte: UInt8 = 0
        while true {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
            let ready = poll(&entry, 1, left)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0, read(fd, &byte, 1) == 1, byte != UInt8(ascii: "\n") else { return line }
            line.append(byte)
        }
    }

    private func spawnProcess(build: Int64, context: [String: String]) throws -> pid_t {
        let executable = try Self.monitorExecutable()
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw NephoError(.internalError, "pipe: \(SystemError.errnoText())") }
        defer { close(fds[0]) }
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") }
        environment["NEPHO_HOME"] = paths.home.path
        environment["XDG_RUNTIME_DIR"] = paths.runtimeDirectory.path
        let logs = paths.home.appendingPathComponent("log")
        try Self.makeFolder(logs)
        let pid = try DetachedProcess.spawn(
            path: executable, arguments: ["monitor", "\(build)"], environment: environment,
            logFile: logs.appendingPathComponent("monitor-\(build).log").path, standardInput: fds[0])
        let data = (try? JSONEncoder().encode(context)) ?? Data("{}".utf8)
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fds[1], buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
        close(fds[1])
        return pid
    }

    /// `nephod`: this program when it is nephod, else `$NEPHOD_PATH`, beside this program, or on PATH.
    static func monitorExecutable() throws -> String {
        let me =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        if (me as NSString).lastPathComponent == "nephod" { return me }
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["NEPHOD_PATH"], FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        let beside = ((me as NSString).deletingLastPathComponent as NSString).appendingPathComponent("nephod")
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        for folder in (environment["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(folder)/nephod"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw NephoError(
            .internalError,
            "cannot find nephod to monitor the build: install it beside nepho or set NEPHOD_PATH")
    }
}
