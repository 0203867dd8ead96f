import Foundation
import NephoSupport
import NephoTestBench
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `formation:ssh` end to end: a formation whose outputs name a real OpenSSH server
/// on a loopback port (started here as the current user, with a generated host key and
/// an authorized key), and the real `ssh` that nepho runs.
@Suite(.serialized)
struct FormationSSHTests {
    /// A pattern whose outputs point at the test's sshd; the port output has its own
    /// name, which the scenario gives as `outputs.ssh_port`.
    static let pattern = """
        AWSTemplateFormatVersion: '2010-09-09'
        Description: bench-demo pointing at a local sshd
        Parameters:
          LoginUser:
            Type: String
          LoginPort:
            Type: String
        Resources:
          Topic:
            Type: AWS::SNS::Topic
        Outputs:
          SSHEndpoint:
            Value: 127.0.0.1
          SSHUser:
            Value: !Ref LoginUser
          ServerPort:
            Value: !Ref LoginPort
        """

    @Test func runsACommandThereThroughTheRealSSH() async throws {
        guard let server = try await SSHServer.start() else {
            Issue.record("sshd is not installed: scripts/test installs openssh-server")
            return
        }
        defer { server.stop() }
        let fixture = try await FormationFixture.make()
        defer { Task { await fixture.stop() } }
        fixture.addScenario("ssh", pattern: Self.pattern, extra: "outputs:\n  ssh_port: ServerPort")
        let name = FormationFixture.unique("ssh")
        let create = try await fixture.nepho.run([
            "create", "bench-demo/ssh", "--name", name, "-p", "LoginUser=\(server.user)", "-p",
            "LoginPort=\(server.port)",
        ])
        #expect(create.status == 0, "\(create.output)\(create.errorOutput)")

        let printed = try await fixture.nepho.run(["ssh", name, "--print-only", "-o", "json"])
        let address =
            (try? JSONSerialization.jsonObject(with: Data(printed.output.utf8))) as? [String: String]
        #expect(
            address == ["address": "\(server.user)@127.0.0.1", "port": "\(server.port)"], "\(printed.output)")

        let ssh = try await fixture.nepho.run([
            "formation:ssh", name, "-F", server.clientConfig.path, "--", "echo", "hi",
        ])
        #expect(ssh.status == 0, "\(ssh.errorOutput)\n\(server.log())")
        #expect(ssh.output == "hi\n", "\(ssh.output)")
        #expect(
            ssh.errorOutput.contains(
                "ssh -p \(server.port) -F \(server.clientConfig.path) \(server.user)@127.0.0.1"))

        // A command's exit status comes back through nepho (ssh replaced it).
        let failing = try await fixture.nepho.run([
            "formation:ssh", name, "-F", server.clientConfig.path, "--", "exit", "7",
        ])
        #expect(failing.status == 7, "\(failing.errorOutput)")
    }

    @Test func theConventionalSSHPortOutputAndPrintOnly() async throws {
        let fixture = try await FormationFixture.make()
        defer { Task { await fixture.stop() } }
        let conventional = Self.pattern.replacingOccurrences(of: "ServerPort:", with: "SSHPort:")
        fixture.addScenario("ssh-port", pattern: conventional)
        let name = FormationFixture.unique("sshport")
        let create = try await fixture.nepho.run([
            "create", "bench-demo/ssh-port", "--name", name, "-p", "LoginUser=ops", "-p", "LoginPort=2222",
        ])
        #expect(create.status == 0, "\(create.output)\(create.errorOutput)")
        let printed = try await fixture.nepho.run(["formation:ssh", name, "--print-only"])
        #expect(printed.status == 0)
        #expect(printed.output == "ops@127.0.0.1 -p 2222\n", "\(printed.output)")
        #expect(printed.errorOutput == "ssh -p 2222 ops@127.0.0.1\n", "\(printed.errorOutput)")
    }
}

/// OpenSSH's sshd on a free loopback port, for the current user only: a generated host
/// key, one authorized key, and an ssh client configuration that trusts exactly that
/// host key and uses exactly that key (nothing under `~/.ssh` is read or written).
final class SSHServer: @unchecked Sendable {
    let folder: URL
    let port: Int
    let user: String
    let clientConfig: URL
    private let process: ChildProcess

    private init(folder: URL, port: Int, user: String, clientConfig: URL, process: ChildProcess) {
        self.folder = folder
        self.port = port
        self.user = user
        self.clientConfig = clientConfig
        self.process = process
    }

    deinit { stop() }

    func stop() {
        process.signal(SIGTERM)
        try? FileManager.default.removeItem(at: folder)
    }

    func log() -> String {
        (try? String(contentsOf: folder.appendingPathComponent("sshd.log"), encoding: .utf8)) ?? ""
    }

    /// Starts the server, or nil when sshd is not installed. `environment` is set in every
    /// session (sshd's `SetEnv`: what a host's own profile would set; values without spaces).
    static func start(environment: [String: String] = [:]) async throws -> SSHServer? {
        guard
            let sshd = ["/usr/sbin/sshd", "/usr/bin/sshd"].first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            }), let keygen = ProcessRunner.resolve("ssh-keygen")
        else { return nil }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-sshd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        chmod(folder.path, 0o700)
        let user = String(cString: getpwuid(getuid())!.pointee.pw_name)
        for key in ["host_key", "client_key"] {
            let made = try await ProcessRunner.run(
                keygen,
                [
                    "-q", "-t", "ed25519", "-N", "", "-C", "nepho-test", "-f",
                    folder.appendingPathComponent(key).path,
                ],
                timeout: 60)
            guard made.status == 0 else { throw NephoTestError("ssh-keygen: \(made.errorOutput)") }
        }
        func text(_ file: String) throws -> String {
            try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
        }
        try text("client_key.pub").write(
            to: folder.appendingPathComponent("authorized_keys"), atomically: true, encoding: .utf8)
        // As root, sshd wants its privilege separation folder (systemd makes it at boot).
        if getuid() == 0 && !FileManager.default.fileExists(atPath: "/run/sshd") {
            try? FileManager.default.createDirectory(
                atPath: "/run/sshd", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755]
            )
        }
        for _ in 0..<5 {
            let port = try freePort()
            let config = folder.appendingPathComponent("sshd_config")
            try """
            ListenAddress 127.0.0.1
            Port \(port)
            HostKey \(folder.path)/host_key
            AuthorizedKeysFile \(folder.path)/authorized_keys
            PidFile \(folder.path)/sshd.pid
            AllowUsers \(user)
            StrictModes no
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            PermitRootLogin prohibit-password
            LogLevel VERBOSE
            \(environment.isEmpty ? "" : "SetEnv " + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))

            """.write(to: config, atomically: true, encoding: .utf8)
            let clientConfig = folder.appendingPathComponent("ssh_config")
            try """
            Host 127.0.0.1
              IdentityFile \(folder.path)/client_key
              IdentitiesOnly yes
              UserKnownHostsFile \(folder.path)/known_hosts
              GlobalKnownHostsFile /dev/null
              StrictHostKeyChecking yes
              BatchMode yes
              ConnectTimeout 30

            """.write(to: clientConfig, atomically: true, encoding: .utf8)
            let hostKey = try text("host_key.pub").split(separator: " ").prefix(2).joined(separator: " ")
            try "[127.0.0.1]:\(port) \(hostKey)\n".write(
                to: folder.appendingPathComponent("known_hosts"), atomically: true, encoding: .utf8)
            let process = try ChildProcess.spawn(
                path: sshd,
                arguments: ["-D", "-E", folder.appendingPathComponent("sshd.log").path, "-f", config.path],
                environment: ["PATH": "/usr/sbin:/usr/bin:/bin"], currentDirectory: folder.path,
                captureInput: false)
            let server = SSHServer(
                folder: folder, port: port, user: user, clientConfig: clientConfig, process: process)
            if await server.answers() { return server }
            process.signal(SIGTERM)
        }
        let log = (try? String(contentsOf: folder.appendingPathComponent("sshd.log"), encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: folder)
        throw NephoTestError("sshd did not start: \(log)")
    }

    /// Waits (up to a minute) until sshd accepts connections; false if it exited.
    private func answers() async -> Bool {
        for _ in 0..<600 {
            guard process.isRunning else { return false }
            if Self.connects(port) { return true }
            try? await Task.sleep(nanoseconds: 100_000_000)
        }
        return false
    }

    private static func connects(_ port: Int) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// A port nothing listens on now (the kernel's choice for port 0).
    private static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        guard bound else { throw NephoTestError("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A test's own set-up failed.
struct NephoTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
