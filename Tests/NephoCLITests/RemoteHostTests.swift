import Foundation
import NephoSupport
import NephoTestBench
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `--host ssh://…` end to end (docs/remote.md): a real OpenSSH server on a loopback port
/// (a throw-away host key and user key, `ssh -F` with the test's own configuration) stands
/// for the remote host. Its sessions get a home of their own (sshd's `SetEnv`, as a host's
/// profile would): another `NEPHO_HOME` and runtime folder, the bench-demo cloudlet, and
/// AWS keys of their own, so that what reaches the bench tells whose credentials signed it.
/// The client has an empty home and other keys.
@Suite(.serialized)
struct RemoteHostTests {
    static let remoteKey = "AKIDREMOTEHOST"
    static let clientKey = "AKIDCLIENTLAPTOP"

    struct Setup {
        /// The host's side: its home, its nephod (stopped with `fixture.stop()`).
        let fixture: FormationFixture
        let server: SSHServer
        /// The client: its own empty home, its own keys, ssh through the test's config.
        let client: NephoBinary
        let url: String
        let arn: String

        var bench: CloudFormationBench { fixture.bench }

        func stop() async {
            await fixture.stop()
            server.stop()
        }

        /// Runs `nepho --host URL ARGUMENTS` on the client.
        func run(_ arguments: [String], _ extra: [String: String] = [:]) async throws -> ProcessResult {
            let saved = client.environment
            defer { client.environment = saved }
            for (key, value) in extra { client.environment[key] = value }
            return try await client.run(["--host", url] + arguments)
        }

        /// Starts `nepho --host URL ARGUMENTS` on the client, its output read as it comes.
        func start(_ arguments: [String]) throws -> RunningClient {
            try RunningClient(
                ChildProcess.spawn(
                    path: NephoBinary.executable, arguments: ["--host", url] + arguments,
                    environment: client.environment, currentDirectory: nil, captureInput: false))
        }
    }

    /// Runs `body` with a set-up, then stops its nanny, monitors and sshd (also when it fails).
    static func with(installed: Bool = true, _ body: (Setup) async throws -> Void) async throws {
        guard let setup = try await setUp(installed: installed) else { return }
        do {
            try await body(setup)
        } catch {
            await setup.stop()
            throw error
        }
        await setup.stop()
    }

    /// - Parameter installed: false: the host has no nepho on its PATH (for host:install).
    static func setUp(installed: Bool = true) async throws -> Setup? {
        let fixture = try await FormationFixture.make()
        var remote = fixture.nepho.environment
        remote["AWS_ACCESS_KEY_ID"] = remoteKey
        remote["AWS_SECRET_ACCESS_KEY"] = "remote-secret"
        let binaries = (NephoBinary.executable as NSString).deletingLastPathComponent
        remote["PATH"] = (installed ? "\(binaries):" : "") + "/usr/local/bin:/usr/bin:/bin"
        if !installed { remote["NEPHOD_PATH"] = nil }
        guard let server = try await SSHServer.start(environment: remote) else {
            Issue.record("sshd is not installed: scripts/test installs openssh-server")
            return nil
        }
        let client = NephoBinary()
        for (key, value) in fixture.bench.environment where key.hasPrefix("AWS_") {
            client.environment[key] = value
        }
        client.environment["AWS_ACCESS_KEY_ID"] = clientKey
        client.environment["AWS_SECRET_ACCESS_KEY"] = "client-secret"
        client.environment["NEPHO_SSH_COMMAND"] = "ssh -F \(server.clientConfig.path)"
        let url = "ssh://\(server.user)@127.0.0.1:\(server.port)"
        return Setup(
            fixture: fixture, server: server, client: client, url: url,
            arn: try await fixture.bench.holdFunction())
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// The formation's stack id, once the host's nanny has it.
    static func stackID(_ setup: Setup, _ name: String) async throws -> String {
        var describe = try await setup.run(["formation:describe", name, "-o", "json"])
        for _ in 0..<150 {
            if let id = json(describe.output)["stackID"] as? String { return id }
            try await Task.sleep(nanoseconds: 200_000_000)
            describe = try await setup.run(["formation:describe", name, "-o", "json"])
        }
        return try #require(
            json(describe.output)["stackID"] as? String, "\(describe.output)\(describe.errorOutput)")
    }

    /// Waits until the host's nanny knows `name` (asked through ssh).
    static func waitForFormation(_ setup: Setup, _ name: String) async throws {
        for _ in 0..<300 {
            let list = try await setup.run(["formation:list"])
            if list.output.contains(name) && list.output.contains("CREATE_IN_PROGRESS") { return }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        Issue.record("\(name) never showed up on the host")
    }

    @Test func aHeldBuildCreatedThroughTheHostOutlivesItsClientAndReplaysToAnother() async throws {
        try await Self.with { setup in
            let name = FormationFixture.unique("remote")
            // The client has no cloudlet: bench-demo is the host's.
            #expect(
                !FileManager.default.fileExists(
                    atPath: setup.client.home.appendingPathComponent("cloudlets").path))
            let first = try setup.start([
                "create", "bench-demo/held", "--name", name, "-p", "HoldFunctionArn=\(setup.arn)",
            ])
            // The client shows the build's first event: the stack is there, held.
            #expect(await first.waitFor { $0.contains("User Initiated") }, "\(first.output)\(first.errors)")
            try await Self.waitForFormation(setup, name)
            // The laptop closes: the client (and its ssh) are gone, the build goes on there.
            first.kill()
            #expect(
                try await Self.json(setup.run(["formation:describe", name, "-o", "json"]).output)["status"]
                    != nil
            )
            try await setup.bench.release(
                stackId: try await Self.stackID(setup, name), data: ["Message": "done"])

            // Another client reattaches with the same --host: the whole history, exit 0.
            let watch = try await setup.run(["formation:watch", name])
            #expect(watch.status == 0, "\(watch.errorOutput)")
            #expect(watch.output.contains("CREATE_COMPLETE"), "\(watch.output)")
            #expect(watch.output.contains("CREATE_IN_PROGRESS  User Initiated"), "\(watch.output)")
            #expect(watch.output.contains("Released: done"), "\(watch.output)")

            // It all happened on the host: its home has the formation, the client's none.
            let there = try await setup.fixture.nepho.run(["formation:list"])
            #expect(there.output.contains(name), "\(there.output)")
            #expect(
                !FileManager.default.fileExists(
                    atPath: setup.client.home.appendingPathComponent("state.db").path)
            )

            // The host's own credentials signed every call for the stack; the client's none.
            let calls = try await setup.bench.calls().filter { $0.stackName == name }
            #expect(calls.contains { $0.action == "CreateStack" })
            #expect(calls.allSatisfy { $0.accessKeyID == Self.remoteKey }, "\(calls.map(\.accessKeyID))")

            // daemon:status describes the nanny there.
            let status = try await setup.run(["daemon:status", "-o", "json"])
            #expect(status.status == 0, "\(status.errorOutput)")
            #expect(
                Self.json(status.output)["home"] as? String == setup.fixture.nepho.home.path,
                "\(status.output)")
            // daemon:logs prints the end of the log there.
            let logs = try await setup.run(["daemon:logs", "-o", "json"])
            let log = Self.json(logs.output)
            #expect(
                log["path"] as? String
                    == setup.fixture.nepho.home.appendingPathComponent("log/nephod.log").path)
            #expect((log["lines"] as? [String])?.isEmpty == false, "\(logs.output)\(logs.errorOutput)")
        }
    }

    @Test func forwardCredentialsSignsWithTheClientsKeys() async throws {
        try await Self.with { setup in
            let name = FormationFixture.unique("forward")
            let create = try await setup.run([
                "create", "bench-demo", "--name", name, "--forward-credentials",
            ])
            #expect(create.status == 0, "\(create.errorOutput)")
            let calls = try await setup.bench.calls().filter { $0.stackName == name }
            #expect(calls.contains { $0.action == "CreateStack" })
            #expect(calls.allSatisfy { $0.accessKeyID == Self.clientKey }, "\(calls.map(\.accessKeyID))")
        }
    }

    @Test func aCutSSHConnectionMidWatchReconnectsAndEventsComeExactlyOnce() async throws {
        try await Self.with { setup in
            let name = FormationFixture.unique("cut")
            let create = try await setup.run([
                "create", "bench-demo/held", "--name", name, "-p", "HoldFunctionArn=\(setup.arn)", "--detach",
            ])
            #expect(create.status == 0, "\(create.errorOutput)")
            let watch = try setup.start(["formation:watch", name, "-o", "json"])
            // The first events are there: cut the connection (kill the watch's ssh).
            #expect(await watch.waitFor { $0.contains(#""type":"event""#) }, "\(watch.output)")
            let ssh = try #require(childSSH(of: watch.process.pid), "the watch runs no ssh")
            kill(ssh, SIGKILL)
            #expect(await watch.waitFor(error: true) { $0.contains("reconnecting") }, "\(watch.errors)")
            try await setup.bench.release(
                stackId: try await Self.stackID(setup, name), data: ["Message": "done"])
            let status = await watch.process.exitStatus()
            #expect(status == 0, "\(watch.errors)")
            #expect(watch.errors.contains("reconnected"), "\(watch.errors)")

            let lines = watch.output.split(separator: "\n").map { Self.json(String($0)) }
            #expect(lines.last?["type"] as? String == "end", "\(watch.output)")
            let sequences = lines.compactMap {
                $0["type"] as? String == "event" ? $0["sequence"] as? Int : nil
            }
            let logs = try await setup.run(["formation:logs", name, "-o", "json"])
            let stored =
                (Self.json(logs.output)["builds"] as? [[String: Any]] ?? []).last?["events"] as? [Any] ?? []
            #expect(sequences == Array(1...max(stored.count, 1)), "\(sequences) of \(stored.count)")
        }
    }

    @Test func eachFailureIsOneLineWithItsFix() async throws {
        try await Self.with { setup in
            func expectOneLine(
                _ result: ProcessResult, _ needle: String, sourceLocation: SourceLocation = #_sourceLocation
            ) {
                #expect(result.status != 0, sourceLocation: sourceLocation)
                let lines = result.errorOutput.split(separator: "\n")
                #expect(lines.count == 1, "\(result.errorOutput)", sourceLocation: sourceLocation)
                #expect(
                    result.errorOutput.contains(needle), "\(result.errorOutput)",
                    sourceLocation: sourceLocation)
            }
            // Unreachable: nothing listens on the port.
            let closed = try await setup.client.run([
                "--host", "ssh://\(setup.server.user)@127.0.0.1:1", "formation:list",
            ])
            expectOneLine(closed, "cannot reach ssh://\(setup.server.user)@127.0.0.1:1")
            // Authentication: a user the host does not let in.
            let denied = try await setup.client.run([
                "--host", "ssh://nepho-nobody@127.0.0.1:\(setup.server.port)", "formation:list",
            ])
            expectOneLine(denied, "ssh could not log in")
            // The host key is not known.
            let unknown = try await setup.run(
                ["formation:list"],
                [
                    "NEPHO_SSH_COMMAND":
                        "ssh -F \(setup.server.clientConfig.path) -o UserKnownHostsFile=/dev/null"
                ])
            expectOneLine(unknown, "ssh does not trust the host key")
            // nephod is not installed there.
            let missing = try await setup.run(
                ["formation:list"], ["NEPHO_REMOTE_NEPHOD": "/nonexistent/bin/nephod"])
            expectOneLine(missing, "nephod is not installed on 127.0.0.1")
            #expect(missing.errorOutput.contains("nepho host:install \(setup.url)"))

            // Older releases, which this checkout cannot build: two scripts stand in for them
            // (test doubles). One has no `stdio`; the other speaks protocol 0.
            let folder = setup.client.home.deletingLastPathComponent()
            let noStdio = folder.appendingPathComponent("old-nephod")
            try "#!/bin/sh\necho 'nephod: unknown command \"stdio\"' >&2\nexit 64\n".write(
                to: noStdio, atomically: true, encoding: .utf8)
            let protocol0 = folder.appendingPathComponent("protocol0-nephod")
            try """
            #!/bin/sh
            read line
            echo '{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":0,"daemonVersion":"0.0.9","pid":1,"home":"/x"}}'

            """.write(to: protocol0, atomically: true, encoding: .utf8)
            chmod(noStdio.path, 0o755)
            chmod(protocol0.path, 0o755)
            let old = try await setup.run(["formation:list"], ["NEPHO_REMOTE_NEPHOD": noStdio.path])
            expectOneLine(old, "is older than this nepho")
            let other = try await setup.run(["formation:list"], ["NEPHO_REMOTE_NEPHOD": protocol0.path])
            expectOneLine(other, "is 0.0.9 (protocol 0)")
            #expect(other.errorOutput.contains("nepho host:install \(setup.url)"))

            // The home there cannot be made (its parent is a file), as the host's profile set it.
            let file = folder.appendingPathComponent("a-file")
            try "".write(to: file, atomically: true, encoding: .utf8)
            let wrapper = folder.appendingPathComponent("nephod-bad-home")
            let binaries = (NephoBinary.executable as NSString).deletingLastPathComponent
            try "#!/bin/sh\nNEPHO_HOME=\(file.path)/home exec \(binaries)/nephod \"$@\"\n".write(
                to: wrapper, atomically: true, encoding: .utf8)
            chmod(wrapper.path, 0o755)
            let unwritable = try await setup.run(["formation:list"], ["NEPHO_REMOTE_NEPHOD": wrapper.path])
            expectOneLine(unwritable, "on 127.0.0.1: nepho's home on this host cannot be used")

            // A login script that prints to standard output, before nephod's first line.
            let chatty = folder.appendingPathComponent("nephod-chatty")
            try "#!/bin/sh\necho 'Welcome to the build host'\nexec \(binaries)/nephod \"$@\"\n".write(
                to: chatty, atomically: true, encoding: .utf8)
            chmod(chatty.path, 0o755)
            let noisy = try await setup.run(["formation:list"], ["NEPHO_REMOTE_NEPHOD": chatty.path])
            expectOneLine(noisy, "something on 127.0.0.1 wrote to standard output before nephod answered")

            // A bad URL.
            let bad = try await setup.client.run(["--host", "ssh://-oProxyCommand=x", "formation:list"])
            expectOneLine(bad, "bad host")
        }
    }
}

extension RemoteHostTests {
    @Test func namedHostsAndADefaultHost() async throws {
        try await Self.with { setup in
            let client = setup.client
            let add = try await client.run(["host:add", "lab", setup.url])
            #expect(add.status == 0, "\(add.errorOutput)")
            let list = try await client.run(["host:list", "-o", "json"])
            let hosts = Self.json(list.output)["hosts"] as? [[String: Any]] ?? []
            #expect(hosts.count == 1 && hosts.first?["url"] as? String == setup.url, "\(list.output)")
            #expect(hosts.first?["isDefault"] as? Bool == false)

            // By name; then as the default host, with `--host local` for this machine.
            let started = try await client.run(["--host", "lab", "formation:list"])
            #expect(started.status == 0, "\(started.errorOutput)")
            let named = try await client.run(["--host", "lab", "daemon:status", "-o", "json"])
            #expect(
                Self.json(named.output)["home"] as? String == setup.fixture.nepho.home.path,
                "\(named.errorOutput)")
            #expect(try await client.run(["host:default", "lab"]).status == 0)
            let config = try String(
                contentsOf: client.home.appendingPathComponent("config.yaml"), encoding: .utf8)
            #expect(config.contains("default_host: lab"), "\(config)")
            let byDefault = try await client.run(["daemon:status", "-o", "json"])
            #expect(Self.json(byDefault.output)["home"] as? String == setup.fixture.nepho.home.path)
            let local = try await client.run(["daemon:status", "--host", "local", "--no-autostart"])
            #expect(local.status == 3, "\(local.errorOutput)")
            let environment = client.environment
            client.environment["NEPHO_HOST"] = "local"
            #expect(try await client.run(["daemon:status"]).status == 3)
            client.environment = environment

            // Unknown names and bad URLs: one line each.
            let unknown = try await client.run(["--host", "nowhere", "formation:list"])
            #expect(
                unknown.status != 0 && unknown.errorOutput.contains("no host named \"nowhere\" (known: lab)"))
            let bad = try await client.run(["host:add", "x", "http://example.com"])
            #expect(bad.status != 0 && bad.errorOutput.contains("only ssh:// hosts"), "\(bad.errorOutput)")

            let remove = try await client.run(["host:remove", "lab"])
            #expect(remove.status == 0, "\(remove.errorOutput)")
            let after = try String(
                contentsOf: client.home.appendingPathComponent("config.yaml"), encoding: .utf8)
            #expect(!after.contains("lab"), "\(after)")

            // A broken entry in config.yaml names the file and line.
            try "hosts:\n  lab: ftp://x\n".write(
                to: client.home.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
            let broken = try await client.run(["--host", "lab", "formation:list"])
            #expect(
                broken.status != 0 && broken.errorOutput.contains("config.yaml:2"), "\(broken.errorOutput)")
        }
    }

    @Test func hostInstallCopiesNephoThereAndTheNextCommandUsesIt() async throws {
        try await Self.with(installed: false) { setup in
            // Nothing there yet.
            let before = try await setup.run(["formation:list"])
            #expect(
                before.status != 0 && before.errorOutput.contains("nephod is not installed"),
                "\(before.errorOutput)")

            let install = try await setup.client.run(["host:install", setup.url])
            #expect(install.status == 0, "\(install.errorOutput)")
            #expect(
                install.output.contains("loginctl enable-linger \(setup.server.user)"), "\(install.output)")
            let home = setup.fixture.nepho.home.deletingLastPathComponent()
            for program in ["nepho", "nephod"] {
                #expect(
                    FileManager.default.isExecutableFile(
                        atPath: home.appendingPathComponent(".local/bin/\(program)").path))
            }
            #expect(
                FileManager.default.fileExists(
                    atPath: home.appendingPathComponent(".config/systemd/user/nephod.socket").path))

            let list = try await setup.run(["formation:list"])
            #expect(list.status == 0, "\(list.errorOutput)")
            let status = try await setup.run(["daemon:status", "-o", "json"])
            #expect(status.status == 0, "\(status.errorOutput)")
            let pid = Self.json(status.output)["pid"] as? Int ?? 0
            let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")
            #expect(exe == home.appendingPathComponent(".local/bin/nephod").path, "\(exe ?? "?")")
        }
    }

    @Test func completionOffersTheHostsFormations() async throws {
        try await Self.with { setup in
            let name = FormationFixture.unique("complete")
            let create = try await setup.run(["create", "bench-demo", "--name", name])
            #expect(create.status == 0, "\(create.errorOutput)")
            let script = try await setup.client.run(["completion", "bash"])
            let file = setup.client.home.deletingLastPathComponent().appendingPathComponent("nepho.bash")
            try script.standardOutput.write(to: file)
            let harness = """
                source \(file.path)
                try() { COMP_WORDS=("$@"); COMP_CWORD=$(($#-1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
                  _nepho nepho "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"; echo "${COMPREPLY[*]}"; }
                try nepho formation:watch --host \(setup.url) complete-
                try nepho formation:watch complete-
                """
            var environment = setup.client.environment
            environment["PATH"] =
                URL(fileURLWithPath: NephoBinary.executable).deletingLastPathComponent().path + ":"
                + (environment["PATH"] ?? "")
            environment["NEPHO_NO_AUTOSTART"] = "1"
            let result = try await ProcessRunner.run(
                "bash", ["-c", harness], environment: environment, timeout: 60)
            // The host's formation through --host; none here (no nanny on this machine).
            #expect(result.output == "\(name)\n\n", "\(result.output)\(result.errorOutput)")
        }
    }

    @Test func sshAsksForAKeysPassphraseOnTheTerminal() async throws {
        try await Self.with { setup in
            // A key with a passphrase and no agent: ssh asks on the terminal, nepho sees nothing of it.
            let folder = setup.client.home.deletingLastPathComponent()
            let key = folder.appendingPathComponent("locked_key")
            let made = try await ProcessRunner.run(
                "ssh-keygen",
                ["-q", "-t", "ed25519", "-N", "open-sesame-42", "-C", "nepho-test", "-f", key.path],
                timeout: 60)
            #expect(made.status == 0, "\(made.errorOutput)")
            let authorized = setup.server.folder.appendingPathComponent("authorized_keys")
            let keys = try String(contentsOf: authorized, encoding: .utf8)
            try
                (keys
                + (try String(contentsOf: folder.appendingPathComponent("locked_key.pub"), encoding: .utf8)))
                .write(to: authorized, atomically: true, encoding: .utf8)
            let config = folder.appendingPathComponent("locked_config")
            try String(contentsOf: setup.server.clientConfig, encoding: .utf8)
                .replacingOccurrences(of: setup.server.folder.path + "/client_key", with: key.path)
                .write(to: config, atomically: true, encoding: .utf8)
            let pty = try PseudoTerminal()
            var environment = setup.client.environment
            environment["TERM"] = "xterm"
            environment["SSH_AUTH_SOCK"] = nil
            environment["NEPHO_SSH_COMMAND"] = "ssh -F \(config.path) -o BatchMode=no"
            let list = try pty.spawn(
                path: NephoBinary.executable, arguments: ["--host", setup.url, "cloudlet:list"],
                environment: environment)
            #expect(await pty.waitFor { $0.contains("Enter passphrase for key") }, "\(pty.screen())")
            pty.type("open-sesame-42\r")
            #expect(await pty.waitFor { $0.contains("bench-demo") }, "\(pty.screen())")
            #expect(await list.exitStatus() == 0, "\(pty.screen())")
            #expect(!pty.screen().contains("open-sesame-42"))
        }
    }

    @Test func sshAsksForTheHostKeyOnTheTerminalAndCtrlCDetaches() async throws {
        try await Self.with { setup in
            let name = FormationFixture.unique("tty")
            let create = try await setup.run([
                "create", "bench-demo/held", "--name", name, "-p", "HoldFunctionArn=\(setup.arn)", "--detach",
            ])
            #expect(create.status == 0, "\(create.errorOutput)")
            // No known host key: ssh asks on the terminal, as it does for a person.
            let knownHosts = setup.client.home.deletingLastPathComponent().appendingPathComponent(
                "known_hosts")
            let pty = try PseudoTerminal()
            var environment = setup.client.environment
            environment["TERM"] = "xterm"
            environment["NEPHO_SSH_COMMAND"] =
                "ssh -F \(setup.server.clientConfig.path) -o BatchMode=no -o StrictHostKeyChecking=ask "
                + "-o UserKnownHostsFile=\(knownHosts.path)"
            let watch = try pty.spawn(
                path: NephoBinary.executable, arguments: ["--host", setup.url, "formation:watch", name],
                environment: environment)
            #expect(await pty.waitFor { $0.contains("continue connecting") }, "\(pty.screen())")
            pty.type("yes\r")
            #expect(await pty.waitFor { $0.contains("CREATE_IN_PROGRESS") }, "\(pty.screen())")
            pty.interrupt()
            #expect(await watch.exitStatus() == 130)
            #expect(
                await pty.waitFor(timeout: 10) {
                    $0.contains("Reattach with: nepho --host \(setup.url) formation:watch \(name)")
                }, "\(pty.screen())")
            #expect(
                try String(contentsOf: knownHosts, encoding: .utf8).contains(
                    "[127.0.0.1]:\(setup.server.port)"))
            try await setup.bench.release(
                stackId: try await Self.stackID(setup, name), data: ["Message": "done"])
            let finished = try await setup.run(["formation:watch", name])
            #expect(finished.status == 0, "\(finished.errorOutput)")
        }
    }
}

/// A running `nepho` whose output is read as it comes.
final class RunningClient: @unchecked Sendable {
    let process: ChildProcess
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()

    init(_ process: ChildProcess) {
        self.process = process
        let output = process.standardOutput
        let error = process.standardError
        Thread.detachNewThread { [self] in
            while case let data = output.availableData, !data.isEmpty { lock.withLock { out += data } }
        }
        Thread.detachNewThread { [self] in
            while case let data = error.availableData, !data.isEmpty { lock.withLock { err += data } }
        }
    }

    var output: String { lock.withLock { String(decoding: out, as: UTF8.self) } }
    var errors: String { lock.withLock { String(decoding: err, as: UTF8.self) } }

    func kill() { process.signal(SIGKILL) }

    /// Waits (up to two minutes) until the output (or with `error`, standard error) passes `test`.
    func waitFor(error: Bool = false, _ test: (String) -> Bool) async -> Bool {
        for _ in 0..<1200 {
            if test(error ? errors : output) { return true }
            try? await Task.sleep(nanoseconds: 100_000_000)
        }
        return false
    }
}

/// The pid of an `ssh` child of `parent`.
func childSSH(of parent: pid_t) -> pid_t? {
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = pid_t(entry),
            let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { continue }
        let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
        guard fields.count > 1, pid_t(fields[1]) == parent else { continue }
        let command = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
        if command.hasPrefix("ssh") { return pid }
    }
    return nil
}
