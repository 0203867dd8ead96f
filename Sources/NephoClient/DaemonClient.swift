import Foundation
import NephoProtocol
import NephoSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `NephoAPI` over nephod's Unix socket: one connection, opened (and the daemon started
/// when needed) on the first call, with a handshake that carries the protocol version,
/// `NEPHO_HOME` and the provider context of this process's environment.
///
/// With a `host`, the same conversation goes through `ssh … nephod stdio` to the nanny on
/// that host (docs/remote.md): the handshake then carries no home and no credentials
/// unless `forwarded` has some (`--forward-credentials`); the host completes it.
///
/// Calls are blocking socket round trips (a command makes a few; no event loop to start),
/// serialised by a lock, so one client may be shared between tasks.
public final class DaemonClient: NephoAPI, @unchecked Sendable {
    public let paths: NephoPaths
    public let launcher: DaemonLauncher
    private let environment: [String: String]
    private let lock = NSLock()
    private var fd: Int32 = -1
    private var nextID: Int64 = 1
    private var buffer: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 65536)
    private var notifications: [[UInt8]] = []
    private var handshakeResult: HandshakeResult?
    /// The daemon on the other end (from the kernel, at connect).
    private var daemonPID: Int32?
    /// Seconds of silence after which the daemon counts as stopped or wedged: it sends a
    /// keep-alive every few seconds while it works on a request or holds a stream open.
    /// `NEPHO_DAEMON_TIMEOUT` sets it (default 30).
    public let silenceLimit: Double
    /// Gets each notice the daemon sends while it answers a request (AWS throttling, …).
    public var onNotice: (@Sendable (String) -> Void)?
    /// The remote host whose nephod this client talks to through ssh; nil: the local one.
    public let host: RemoteHost?
    /// With a host: the client's credentials to send (`--forward-credentials`), else empty.
    private let forwarded: [String: String]
    private var ssh: SSHConnection?
    /// With a host: ssh may not prompt (shell completion), and waits little.
    private let batch: Bool
    /// A handshake has worked once: a reconnect waits no person's answer to a prompt.
    private var connectedBefore = false

    /// - Parameters:
    ///   - environment: where `NEPHO_HOME`, `XDG_RUNTIME_DIR`, `NEPHO_NO_AUTOSTART` and the
    ///     `AWS_*` provider context are read from.
    ///   - autoStart: start nephod when none answers (also off with `NEPHO_NO_AUTOSTART=1`).
    ///   - host: talk to the nephod on this host through ssh.
    ///   - forwarded: with `host`, the credential variables to send (`StdioBridge.forwardedVariables`).
    ///   - batch: with `host`, ssh asks nothing (`BatchMode`) and the handshake waits only
    ///     the silence limit (shell completion: nobody is there to answer).
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment, autoStart: Bool = true,
        host: RemoteHost? = nil, forwarded: [String: String] = [:], batch: Bool = false
    ) {
        self.environment = environment
        self.host = host
        self.forwarded = forwarded
        self.batch = batch
        silenceLimit = Double(environment["NEPHO_DAEMON_TIMEOUT"] ?? "").flatMap { $0 > 0 ? $0 : nil } ?? 30
        paths = NephoPaths(environment: environment)
        let disabled = ["1", "true", "yes"].contains(environment["NEPHO_NO_AUTOSTART"]?.lowercased() ?? "")
        launcher = DaemonLauncher(paths: paths, environment: environment, autoStart: autoStart && !disabled)
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
        ssh?.terminate()
    }

    /// How long a remote handshake may take: a first one may wait for a person (a password,
    /// a host key) up to 10 minutes; a reconnect or a batch one, the silence limit.
    private var handshakeLimit: Double {
        batch || connectedBefore ? silenceLimit : max(silenceLimit, 600)
    }

    /// The command that installs nepho on the host, for messages.
    private var installCommand: String { "nepho host:install \(host?.url ?? "ssh://HOST")" }

    /// Closes the connection; the next call opens a new one.
    public func close() {
        lock.withLock {
            if fd >= 0 { Glibc.close(fd) }
            fd = -1
            ssh?.terminate()
            ssh = nil
            buffer = []
            notifications = []
            handshakeResult = nil
        }
    }

    /// Connects (starting the daemon if allowed) and makes the handshake, once.
    @discardableResult
    public func connect() throws -> HandshakeResult {
        try lock.withLock { try connectLocked() }
    }

    @discardableResult
    private func connectLocked() throws -> HandshakeResult {
        if let handshakeResult { return handshakeResult }
        // A daemon that is going away (killed, or leaving when idle) can still accept a
        // connection it will never answer: the handshake has no effect, so a connection
        // closed before its answer is tried again, starting a daemon when none is left.
        var attempt = 0
        while true {
            do {
                return try connectOnce()
            } catch let interrupted as HandshakeInterrupted {
                attempt += 1
                guard attempt < 4 else { throw interrupted.error }
                usleep(UInt32(100_000 * attempt))
            }
        }
    }

    /// The connection closed before the handshake's answer.
    private struct HandshakeInterrupted: Error {
        var error: NephoError
    }

    private func connectOnce() throws -> HandshakeResult {
        if let host {
            let connection = try SSHConnection.open(
                host, environment: environment, autoStart: launcher.autoStart, batch: batch)
            ssh = connection
            fd = connection.socket
            // ssh may ask for a password or a host key on the terminal first: a person's time.
            UnixSocket.setReceiveTimeout(fd, seconds: handshakeLimit)
        } else {
            fd = try launcher.connect()
            UnixSocket.setReceiveTimeout(fd, seconds: silenceLimit)
        }
        let result: HandshakeResult
        do {
            if host == nil { try checkPeer() }
            // A remote handshake carries no home (the host's own is used) and no provider
            // context but forwarded credentials: the host completes it (`StdioBridge`).
            let params = HandshakeParams(
                protocolVersion: NephoVersion.protocolVersion, clientVersion: NephoVersion.current,
                home: host == nil ? paths.home.path : "",
                context: host == nil
                    ? ProviderContext.capture(from: environment) : ProviderContext(environment: forwarded))
            result = try roundTrip(DaemonRPC.handshake.name, params, as: HandshakeResult.self)
            if let host, result.protocolVersion != NephoVersion.protocolVersion {
                throw NephoError(
                    .versionMismatch,
                    "the nephod on \(host.host) is \(result.daemonVersion) (protocol \(result.protocolVersion)), this nepho is "
                        + "\(NephoVersion.current) (protocol \(NephoVersion.protocolVersion)): install this release there with "
                        + "`\(installCommand)`, then stop the old nanny there (`nepho --host \(host.url) daemon:stop`)"
                )
            }
            guard result.protocolVersion == NephoVersion.protocolVersion else {
                throw NephoError(
                    .versionMismatch,
                    "the running nephod \(result.daemonVersion) (pid \(result.pid)) speaks protocol "
                        + "\(result.protocolVersion), this nepho \(NephoVersion.current) speaks protocol "
                        + "\(NephoVersion.protocolVersion). Stop it with `nepho daemon:stop` (or `kill \(result.pid)`; "
                        + "under systemd: `systemctl --user restart nephod`) and run the command again.")
            }
        } catch {
            Glibc.close(fd)
            fd = -1
            buffer = []
            if let connection = ssh, let host {
                ssh = nil
                defer { connection.terminate() }
                if error is ConnectionClosed {
                    if let reason = connection.failure(install: installCommand) { throw reason }
                    throw HandshakeInterrupted(error: closedError(DaemonRPC.handshake.name))
                }
                if error is DaemonSilent {
                    throw NephoError(
                        .daemonUnavailable,
                        "\(host.url) did not answer through ssh for \(Int(handshakeLimit)) s; check that "
                            + "`\(host.sshCommand) true` works")
                }
                if let nepho = error as? NephoError, nepho.code == .internalError,
                    nepho.message.contains("that is not a JSON object")
                {
                    throw NephoError(
                        .daemonUnavailable,
                        "something on \(host.host) wrote to standard output before nephod answered (a login script "
                            + "that prints, e.g. in ~/.bashrc): make it quiet for non-interactive shells, and check "
                            + "with `\(host.sshCommand) nephod --version`")
                }
                if let nepho = error as? NephoError, nepho.code != .versionMismatch {
                    throw NephoError(nepho.code, "on \(host.host): \(nepho.message)", details: nepho.details)
                }
                throw error
            }
            if error is ConnectionClosed {
                throw HandshakeInterrupted(error: closedError(DaemonRPC.handshake.name))
            }
            if let silent = error as? DaemonSilent { throw silent.error }
            if let error = error as? NephoError, error.code == .daemonUnavailable {
                throw HandshakeInterrupted(error: error)
            }
            throw error
        }
        handshakeResult = result
        connectedBefore = true
        if let ssh {
            ssh.relay()
            UnixSocket.setReceiveTimeout(fd, seconds: silenceLimit)
        }
        return result
    }

    /// The pid of the daemon on the other end, from the kernel (works before a handshake).
    public func peerPID() throws -> Int32 {
        if let host {
            throw NephoError(
                .invalidInput, "the pid of the nephod on \(host.host) is not known to this client")
        }
        return try lock.withLock {
            if fd < 0 { fd = try launcher.connect() }
            guard let peer = UnixSocket.peerCredentials(fd) else {
                throw NephoError(.daemonUnavailable, "cannot read the credentials of \(paths.socket.path)")
            }
            return peer.pid
        }
    }

    /// Refuses to talk to (and send credentials to) a socket owned by another user.
    private func checkPeer() throws {
        guard let peer = UnixSocket.peerCredentials(fd) else {
            throw NephoError(.daemonUnavailable, "cannot read the credentials of \(paths.socket.path)")
        }
        daemonPID = peer.pid
        guard peer.uid == getuid() else {
            throw NephoError(
                .permissionDenied,
                "the process listening on \(paths.socket.path) (pid \(peer.pid)) runs as uid \(peer.uid), not as you "
                    + "(uid \(getuid())); nepho will not talk to it")
        }
    }

    // MARK: calls

    /// Calls a method (of the API or the daemon's own) and waits for its answer: a blocking
    /// round trip, for callers that are not async (`daemon:status`, the benchmark).
    public func request<M: WireMethod>(_ method: M, _ params: M.Params) throws -> M.Result {
        do {
            return try lock.withLock {
                try connectLocked()
                return try roundTrip(method.name, params, as: M.Result.self)
            }
        } catch let silent as DaemonSilent {
            close()
            throw silentError(silent)
        } catch let closed as ConnectionClosed {
            close()
            throw closedError(closed.method)
        }
    }

    /// The message for a connection that closed during `method`.
    private func closedError(_ method: String) -> NephoError {
        if let host {
            return NephoError(
                .daemonUnavailable,
                "the connection to \(host.url) closed during \(method) (ssh ended, or nephod there stopped; "
                    + "its log there: ~/.nepho/log/nephod.log)")
        }
        return NephoError(
            .daemonUnavailable,
            "nephod closed the connection during \(method) (it stopped or crashed; its log: "
                + "\(launcher.logFile.path), or `journalctl --user -u nephod`)")
    }

    private func silentError(_ silent: DaemonSilent) -> NephoError {
        if let host {
            return NephoError(
                .daemonUnavailable,
                "nephod on \(host.host) sent nothing through ssh for \(Int(silent.seconds)) s (the network or the "
                    + "host may be down); run the command again")
        }
        return silent.error
    }

    /// `NephoAPI`: every API method, one generic round trip.
    public func call<Params, Result>(_ method: APIMethod<Params, Result>, _ params: Params) async throws
        -> Result
    {
        try request(method, params)
    }

    /// `NephoAPI`: opens a stream. Its items are read on a thread of their own from this
    /// client's connection (notifications of other streams are skipped); the stream ends
    /// with `stream.end`, and fails when the daemon sends an error or the connection drops.
    /// Stopping the iteration closes the connection, which ends the stream in the daemon;
    /// the next call opens a new one.
    public func follow<Params, Item>(_ stream: APIStream<Params, Item>, _ params: Params) async throws
        -> AsyncThrowingStream<Item, Error>
    {
        let id = try request(stream, params).stream
        return AsyncThrowingStream { continuation in
            let reader = Thread { [self] in
                do {
                    while true {
                        guard let (method, line) = try nextNotificationLine() else {
                            throw closedError(stream.name)
                        }
                        if method == DaemonRPC.streamItem {
                            let note = try JSONDecoder().decode(
                                RPCNotification<StreamItem<Item>>.self, from: Data(line))
                            if note.params.stream == id { continuation.yield(note.params.item) }
                        } else if method == DaemonRPC.streamEnd {
                            let note = try JSONDecoder().decode(
                                RPCNotification<StreamEnd>.self, from: Data(line))
                            guard note.params.stream == id else { continue }
                            if let error = note.params.error { throw error.nephoError }
                            continuation.finish()
                            return
                        }
                    }
                } catch let silent as DaemonSilent {
                    close()  // the connection is of no further use; the next call opens one
                    continuation.finish(throwing: silentError(silent))
                } catch {
                    if (error as? NephoError)?.code == .daemonUnavailable { close() }
                    continuation.finish(throwing: error)
                }
            }
            reader.start()
            continuation.onTermination = { [self] ending in
                if case .cancelled = ending { interrupt() }
            }
        }
    }

    /// Ends the connection at once, even while another thread waits on it (a stream's
    /// reader); `close()` then forgets it.
    private func interrupt() {
        let socket = lock.withLock { fd }
        if socket >= 0 { shutdown(socket, Int32(SHUT_RDWR)) }
        close()
    }

    /// The next notification's method and line; nil when the connection closes.
    private func nextNotificationLine() throws -> (String, [UInt8])? {
        try lock.withLock {
            while true {
                let line: [UInt8]
                if !notifications.isEmpty {
                    line = notifications.removeFirst()
                } else {
                    guard fd >= 0, let next = try readLine() else { return nil }
                    line = next
                }
                if let method = FastEnvelope.reply(line)?.method, method != DaemonRPC.keepAlive {
                    return (method, line)
                }
            }
        }
    }

    /// The notice a keep-alive carries, if any.
    static func notice(_ line: [UInt8]) -> String? {
        guard line.count > 60,
            let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
            let params = object["params"] as? [String: Any]
        else { return nil }
        return params["notice"] as? String
    }

    private func roundTrip<P: Encodable, R: Decodable>(_ method: String, _ params: P, as: R.Type) throws -> R
    {
        let id = nextID
        nextID += 1
        try write(RPCRequest(id: .int(id), method: method, params: params))
        while true {
            guard let line = try readLine() else { throw ConnectionClosed(method: method) }
            guard let reply = FastEnvelope.reply(line) else {
                throw NephoError(.internalError, "nephod sent a reply to \(method) that is not a JSON object")
            }
            if reply.id == nil, let method = reply.method {
                if method == DaemonRPC.progress {
                    // This request's progress, for whoever asked for it (`RequestProgress`).
                    if let report = RequestProgress.report,
                        let note = try? JSONDecoder().decode(
                            RPCNotification<ProgressNote>.self, from: Data(line)),
                        note.params.id == .int(id)
                    {
                        report(note.params.text)
                    }
                } else if method != DaemonRPC.keepAlive {
                    notifications.append(line)
                } else if let onNotice, let notice = Self.notice(line) {
                    onNotice(notice)
                }
                continue
            }
            guard reply.id == .int(id) else { continue }
            if let error = reply.error { throw error.nephoError }
            guard reply.hasResult else {
                throw NephoError(.internalError, "nephod answered \(method) with neither result nor error")
            }
            if let none = NoParams() as? R { return none }
            do {
                let data = Data(line)
                let incoming = try OrderedJSONSource.decoder(for: data).decode(
                    RPCIncoming<R>.self, from: data)
                guard let result = incoming.result else {
                    throw NephoError(.internalError, "nephod answered \(method) without a result")
                }
                return result
            } catch let error as DecodingError {
                throw NephoError(
                    .internalError,
                    "nephod sent a reply to \(method) that this nepho cannot read: "
                        + RPCMessageParser.describe(error))
            }
        }
    }

    private func write<P: Encodable>(_ request: RPCRequest<P>) throws {
        let id: Int64? = if case .int(let n)? = request.id { n } else { nil }
        let bytes = try FastEnvelope.request(id: id, method: request.method, params: request.params)
        guard UnixSocket.send(fd, bytes) else {
            if host != nil { throw ConnectionClosed(method: request.method) }
            throw NephoError(
                .daemonUnavailable,
                "cannot write to nephod at \(paths.socket.path): \(String(cString: strerror(errno)))")
        }
    }

    /// The next line from the daemon; nil at end of stream.
    private func readLine() throws -> [UInt8]? {
        var scanned = 0
        while true {
            if let newline = buffer[scanned...].firstIndex(of: 10) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return line
            }
            scanned = buffer.count
            let n = chunk.withUnsafeMutableBytes { UnixSocket.receive(fd, into: $0) }
            if n == 0 { return nil }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    throw DaemonSilent(pid: daemonPID, seconds: silenceLimit)
                }
                return nil
            }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }
}

/// The connection closed before the answer to `method`.
struct ConnectionClosed: Error {
    var method: String
}

/// The daemon sent nothing (not even a keep-alive) for the client's silence limit: it is
/// stopped (SIGSTOP, a debugger) or wedged. Not retried: the message says what to do.
struct DaemonSilent: Error {
    var pid: Int32?
    var seconds: Double

    var error: NephoError {
        let who = pid.map { "nephod (pid \($0))" } ?? "nephod"
        let recover =
            pid.map {
                "If it is stopped, `kill -CONT \($0)` resumes it; if it is wedged, `kill \($0)` (or `kill -9 \($0)`) "
                    + "and run the command again: a new nephod starts and adopts the builds, which go on meanwhile."
            } ?? "Stop it and run the command again."
        return NephoError(
            .daemonUnavailable, "\(who) sent nothing for \(Int(seconds)) s. \(recover)")
    }
}
