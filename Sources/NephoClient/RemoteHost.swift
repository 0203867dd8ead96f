import Foundation
import NephoProtocol
import NephoSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A host whose nephod a client talks to through ssh: `ssh://[USER@]HOST[:PORT]`
/// (docs/remote.md). The system's `ssh` does everything else (config, agent, keys,
/// known hosts, prompts); nepho handles no password and listens on nothing.
public struct RemoteHost: Sendable, Equatable, CustomStringConvertible {
    public var user: String?
    public var host: String
    public var port: Int?
    /// The nephod to run there (a path or a name on its PATH); nil: `~/.local/bin/nephod`
    /// when it exists, else `nephod` from the PATH of an ssh session.
    public var nephod: String?

    public init(user: String? = nil, host: String, port: Int? = nil, nephod: String? = nil) {
        self.user = user
        self.host = host
        self.port = port
        self.nephod = nephod
    }

    /// Parses `ssh://[USER@]HOST[:PORT]`; the error says what is wrong, in one line.
    public static func parse(_ text: String) throws -> RemoteHost {
        func bad(_ why: String) -> NephoError {
            NephoError(
                .invalidInput,
                "bad host \"\(text)\": \(why); give ssh://[USER@]HOST[:PORT] (e.g. ssh://ops@build.example.com:2222) "
                    + "or the name of a host added with `nepho host:add`")
        }
        guard text.hasPrefix("ssh://") else { throw bad("only ssh:// hosts are supported") }
        var rest = Substring(text.dropFirst("ssh://".count))
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.contains("/"), !rest.contains("?"), !rest.contains("#") else {
            throw bad("a host has no path")
        }
        var user: String?
        if let at = rest.lastIndex(of: "@") {
            user = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
            guard let name = user, !name.isEmpty else { throw bad("the user before @ is empty") }
            guard !name.hasPrefix("-"), name.allSatisfy(isNameCharacter) else {
                throw bad("the user \"\(name)\" is not a user name (letters, digits, '.', '_', '-')")
            }
        }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw bad("an unclosed [ in the address") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            guard host.contains(":"), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw bad("\"\(host)\" in brackets is not an IPv6 address")
            }
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw bad("unexpected text after ]") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.firstIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw bad("the host name is empty") }
        // Only these characters (OpenSSH before 9.6 passes %h and %r through a shell in a
        // ProxyCommand, CVE-2023-51385): no quote, `$`, `;` or space reaches ssh.
        guard !host.hasPrefix("-"), host.contains(":") || host.allSatisfy(isNameCharacter) else {
            throw bad("\"\(host)\" is not a host name (letters, digits, '.', '_', '-', or [an IPv6 address])")
        }
        var port: Int?
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                throw bad("the port \"\(portText)\" is not a number from 1 to 65535")
            }
            port = number
        }
        return RemoteHost(user: user, host: String(host), port: port)
    }

    /// A character of a user or host name nepho passes to ssh.
    static func isNameCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || "._-".contains(character))
    }

    /// `ssh://…` again.
    public var url: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return "ssh://" + (user.map { "\($0)@" } ?? "") + name + (port.map { ":\($0)" } ?? "")
    }

    public var description: String { url }

    /// The ssh command a person would type to reach the host, for messages.
    public var sshCommand: String {
        "ssh " + (port.map { "-p \($0) " } ?? "") + (user.map { "\($0)@" } ?? "") + host
    }

    /// The arguments after the ssh program: options, `--`, the host, the remote command.
    /// `batch`: no prompt and a short connect timeout (shell completion: nobody answers).
    public func sshArguments(command: String, batch: Bool = false) -> [String] {
        // Nothing else: the user's ssh configuration decides the rest (a dead connection is
        // noticed by the client's silence limit, the nanny sending a keep-alive every 5 s).
        var arguments = ["-T"]
        if batch { arguments += ["-o", "BatchMode=yes", "-o", "ConnectTimeout=5"] }
        if let port { arguments += ["-p", "\(port)"] }
        if let user { arguments += ["-l", user] }
        return arguments + ["--", host, command]
    }

    /// What the remote shell runs: nephod's bridge to the nanny there (which does not
    /// start one with `autoStart` false).
    public func remoteCommand(autoStart: Bool = true) -> String {
        let options = autoStart ? "stdio" : "stdio --no-autostart"
        if let nephod { return "\(Self.shellQuoted(nephod)) \(options)" }
        return #"sh -c 'if [ -x "$HOME/.local/bin/nephod" ]; then exec "$HOME/.local/bin/nephod" "#
            + options + #"; fi; exec nephod "# + options + "'"
    }

    public static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// The ssh program and its first arguments: `NEPHO_SSH_COMMAND` (split at spaces, no
    /// shell quoting, like `GIT_SSH_COMMAND` without the shell), else `ssh` from PATH.
    public static func sshProgram(environment: [String: String]) -> [String] {
        if let command = environment["NEPHO_SSH_COMMAND"]?.split(separator: " ").map(String.init),
            !command.isEmpty
        {
            return command
        }
        return ["ssh"]
    }
}

/// One ssh connection to a host's `nephod stdio`: our end of a socket pair whose other end
/// is ssh's standard input and output (so the client reads and writes it as it does the
/// local socket, timeouts included), and ssh's standard error, kept until the handshake
/// has worked (then shown as ssh would), so that a failure becomes one line.
final class SSHConnection: @unchecked Sendable {
    let host: RemoteHost
    let socket: Int32
    let exit: ProcessExit
    private let lock = NSLock()
    private var errorLines: [String] = []
    private var relaying = false

    private init(host: RemoteHost, socket: Int32, exit: ProcessExit) {
        self.host = host
        self.socket = socket
        self.exit = exit
    }

    /// Starts `ssh … nephod stdio`.
    static func open(_ host: RemoteHost, environment: [String: String], autoStart: Bool, batch: Bool = false)
        throws
        -> SSHConnection
    {
        let program = RemoteHost.sshProgram(environment: environment)
        guard
            let path = program[0].contains("/")
                ? program[0] : ProcessRunner.resolve(program[0], environment: environment)
        else {
            throw NephoError(
                .notFound,
                "cannot find \(program[0]) on PATH: nepho reaches \(host) with the system's ssh client; "
                    + "install OpenSSH's client (e.g. `apt-get install openssh-client`)")
        }
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0
        else {
            throw NephoError(.daemonUnavailable, "socketpair: \(String(cString: strerror(errno)))")
        }
        var errorPipe: [Int32] = [-1, -1]
        // Close-on-exec from the start: no program another thread spawns meanwhile inherits it.
        guard closeOnExecPipe(&errorPipe) == 0 else {
            Glibc.close(pair[0])
            Glibc.close(pair[1])
            throw NephoError(.daemonUnavailable, "pipe: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pair[1], 0)
        posix_spawn_file_actions_adddup2(&actions, pair[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errorPipe[1], 2)
        let command =
            [path] + program.dropFirst()
            + host.sshArguments(command: host.remoteCommand(autoStart: autoStart), batch: batch)
        let (pid, rc) = CleanSpawn.spawn(
            path: path, command: command, environment: environment, actions: &actions)
        Glibc.close(pair[1])
        Glibc.close(errorPipe[1])
        guard rc == 0 else {
            Glibc.close(pair[0])
            Glibc.close(errorPipe[0])
            throw NephoError(.daemonUnavailable, "cannot run \(path): \(String(cString: strerror(rc)))")
        }
        let connection = SSHConnection(host: host, socket: pair[0], exit: ProcessExit(reaping: pid))
        let errorFD = errorPipe[0]
        Thread.detachNewThread { [connection] in connection.readErrors(errorFD) }
        return connection
    }

    /// ssh's pid.
    var pid: pid_t { exit.pid }

    /// From now on ssh's messages go to standard error as they come (the handshake worked).
    func relay() {
        let pending = lock.withLock {
            relaying = true
            defer { errorLines = [] }
            return errorLines
        }
        for line in pending { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    /// Ends ssh (SIGTERM), unless it has already left: the client closes its socket, but an
    /// ssh waiting on a dead network or a prompt would not notice that for minutes.
    func terminate() {
        exit.whileRunning { _ = kill(exit.pid, SIGTERM) }
    }

    private func readErrors(_ fd: Int32) {
        defer { Glibc.close(fd) }
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            pending += chunk[0..<n]
            while let newline = pending.firstIndex(of: 10) {
                take(String(decoding: pending[..<newline], as: UTF8.self))
                pending.removeSubrange(...newline)
            }
        }
        if !pending.isEmpty { take(String(decoding: pending, as: UTF8.self)) }
    }

    private func take(_ line: String) {
        // What the host's shell or programs write comes through ssh's standard error too:
        // shown without control characters (no escape sequence reaches the terminal).
        let text = String(line.unicodeScalars.filter { ($0.value >= 0x20 && $0.value != 0x7f) || $0 == "\t" })
        let shown: Bool = lock.withLock {
            if relaying { return true }
            if errorLines.count < 200 { errorLines.append(text) }
            return false
        }
        if shown { FileHandle.standardError.write(Data((text + "\n").utf8)) }
    }

    /// Why the connection closed before nephod answered the handshake, as one line with
    /// the fix: waits (briefly) for ssh to exit and reads its status and messages.
    func failure(install: String) -> NephoError? {
        let status = exit.wait(timeout: 10)
        Thread.sleep(forTimeInterval: 0.05)  // the last of ssh's messages
        let lines = lock.withLock { errorLines }.filter { !$0.isEmpty }
        let said =
            lines.last.map { String($0.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }) }
            ?? "no message"
        let all = lines.joined(separator: "\n")
        let version = "nepho \(NephoVersion.current), protocol \(NephoVersion.protocolVersion)"
        if all.contains("unknown command") && all.contains("stdio") {
            return NephoError(
                .versionMismatch,
                "the nephod on \(host.host) is older than this nepho (it has no `nephod stdio`; this is \(version)): "
                    + "install this release there with `\(install)`")
        }
        if status == 127 || all.contains("nephod: not found") || all.contains("command not found")
            || (all.contains("nephod") && all.contains("No such file"))
        {
            return NephoError(
                .notFound,
                "nephod is not installed on \(host.host) (ssh: \(said)): run `\(install)` to copy this nepho and nephod "
                    + "there (\(version)), or install them into ~/.local/bin or a folder on the PATH of its ssh sessions"
            )
        }
        guard status == 255 else {
            if let status, status != 0 {
                return NephoError(
                    .daemonUnavailable,
                    "nephod on \(host.host) stopped before answering (exit status \(status); ssh: \(said)); "
                        + "see its log there: `\(host.sshCommand) cat ~/.nepho/log/nephod.log`")
            }
            return nil
        }
        if all.contains("Host key verification failed")
            || all.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        {
            return NephoError(
                .permissionDenied,
                "ssh does not trust the host key of \(host.host) (ssh: \(said)): check the key and record it in "
                    + "~/.ssh/known_hosts, e.g. by connecting once with `\(host.sshCommand)`")
        }
        if all.contains("Permission denied") || all.contains("Too many authentication failures") {
            return NephoError(
                .permissionDenied,
                "ssh could not log in to \(host.url) (ssh: \(said)): load your key into the agent (`ssh-add`), "
                    + "install it there (`ssh-copy-id \(host.port.map { "-p \($0) " } ?? "")\(host.user.map { "\($0)@" } ?? "")\(host.host)`), "
                    + "or name it in ~/.ssh/config (IdentityFile)")
        }
        return NephoError(
            .daemonUnavailable,
            "cannot reach \(host.url) (ssh: \(said)): check the host name and port, that sshd runs there, "
                + "and that `\(host.sshCommand) true` works")
    }
}
