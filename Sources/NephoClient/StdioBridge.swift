import Foundation
import NephoProtocol
import NephoSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `nephod stdio`: joins its standard input and output to the local nephod's socket
/// (starting nephod when none runs, as a client does), for a `nepho --host ssh://…` that
/// runs it through ssh (docs/remote.md). No listener of any kind: ssh is the transport.
///
/// It reads the client's handshake first and completes it with what only this host
/// knows: its `NEPHO_HOME`, and the provider context of this session (its `HOME`, `PATH`,
/// `AWS_*` profile or keys), so the nanny uses this host's own credentials. A client
/// that forwards its credentials (`--forward-credentials`) sends only its keys and region;
/// they replace this host's credential variables for that connection's requests. After
/// the handshake, bytes go through unchanged both ways.
public enum StdioBridge {
    /// The variables a forwarding client may set: its identity and region.
    public static let forwardedVariables: Set<String> = [
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
    ]
    /// This host's variables that name another identity, dropped when the client forwards its own.
    static let credentialVariables: Set<String> = [
        "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    ]

    /// Runs the bridge until either side closes; returns the exit status.
    public static func run(
        arguments: [String] = [], environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        guard let first = readLine(from: 0) else { return 0 }
        let id = FastEnvelope.header(first)?.id ?? .int(1)
        do {
            let handshake = try completeHandshake(first, environment: environment)
            let paths = NephoPaths(environment: environment)
            do {
                try PrivateHome.prepare(paths.home)
            } catch {
                throw NephoError(
                    .permissionDenied,
                    "nepho's home on this host cannot be used: \(error). Make it a folder of yours (mode 700), "
                        + "or set NEPHO_HOME for ssh sessions (e.g. in ~/.ssh/environment or sshd's SetEnv)")
            }
            let disabled =
                arguments.contains("--no-autostart")
                || ["1", "true", "yes"].contains(environment["NEPHO_NO_AUTOSTART"]?.lowercased() ?? "")
            let launcher = DaemonLauncher(paths: paths, environment: environment, autoStart: !disabled)
            let socket = try launcher.connect()
            guard UnixSocket.send(socket, handshake) else {
                throw NephoError(.daemonUnavailable, "cannot write to nephod at \(paths.socket.path)")
            }
            pump(socket: socket)
            return 0
        } catch {
            let nepho = error as? NephoError ?? NephoError(.internalError, "\(error)")
            var line = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
            line += Array(((try? JSONEncoder().encode(id)) ?? Data("1".utf8)))
            line += Array(#","error":"#.utf8)
            line += Array((try? JSONEncoder().encode(RPCErrorObject(nepho))) ?? Data("{}".utf8))
            line += Array("}\n".utf8)
            _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            return 1
        }
    }

    /// The client's handshake line with this host's home and provider context.
    static func completeHandshake(_ line: [UInt8], environment: [String: String]) throws -> [UInt8] {
        struct Incoming: Decodable {
            var id: Int64?
            var method: String
            var params: HandshakeParams
        }
        guard let incoming = try? JSONDecoder().decode(Incoming.self, from: Data(line)),
            incoming.method == DaemonRPC.handshake.name
        else {
            throw NephoError(
                .invalidInput,
                "nephod stdio expects a nepho client's handshake first (it is run by `nepho --host`)")
        }
        var params = incoming.params
        params.home = NephoPaths(environment: environment).home.path
        var context = ProviderContext.capture(from: environment).environment
        let forwarded = params.context.environment.filter { forwardedVariables.contains($0.key) }
        if forwarded["AWS_ACCESS_KEY_ID"] != nil {
            context = context.filter { !credentialVariables.contains($0.key) }
            for (key, value) in forwarded { context[key] = value }
            context[ProviderContext.forwardedMarker] = "1"
        }
        params.context = ProviderContext(environment: context)
        return try FastEnvelope.request(id: incoming.id, method: incoming.method, params: params)
    }

    /// One line (with its newline) read a byte at a time, so nothing after it is consumed;
    /// nil at end of input or past 1 MiB.
    static func readLine(from fd: Int32) -> [UInt8]? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < 1 << 20 {
            let n = read(fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            guard n == 1 else { return nil }
            line.append(byte)
            if byte == 10 { return line }
        }
        return nil
    }

    /// Copies standard input to the socket and the socket to standard output until the
    /// daemon closes, or standard input ends (the ssh connection went away).
    static func pump(socket: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var fds = [
            pollfd(fd: 0, events: Int16(POLLIN), revents: 0),
            pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[1].revents != 0 {
                let n = read(socket, &buffer, buffer.count)
                if n < 0 && errno == EINTR { continue }
                guard n > 0, writeAll(1, buffer, n) else { return }
            }
            if fds[0].revents != 0 {
                let n = read(0, &buffer, buffer.count)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    shutdown(socket, Int32(SHUT_WR))
                    return
                }
                guard writeAll(socket, buffer, n) else { return }
            }
        }
    }

    private static func writeAll(_ fd: Int32, _ buffer: [UInt8], _ count: Int) -> Bool {
        var offset = 0
        while offset < count {
            let n = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + offset, count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }
}
