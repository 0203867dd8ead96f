import Foundation
import NephoProtocol
import Testing

@testable import NephoClient

/// What `nephod stdio` makes of a remote client's handshake, and which `--host` values are
/// hosts (docs/remote.md). The whole path through a real sshd: `RemoteHostTests`.
@Suite struct RemoteHandshakeTests {
    let host = [
        "NEPHO_HOME": "/srv/ops/nepho", "HOME": "/srv/ops", "PATH": "/usr/bin:/bin", "AWS_PROFILE": "build",
        "AWS_REGION": "eu-west-1", "SSH_CONNECTION": "127.0.0.1 1 127.0.0.1 22",
    ]

    func complete(_ context: [String: String]) throws -> HandshakeParams {
        let client = HandshakeParams(
            protocolVersion: NephoVersion.protocolVersion, clientVersion: "x", home: "",
            context: ProviderContext(environment: context))
        let line = try FastEnvelope.request(id: 1, method: DaemonRPC.handshake.name, params: client)
        let completed = try StdioBridge.completeHandshake(line, environment: host)
        struct Request: Decodable { var params: HandshakeParams }
        return try JSONDecoder().decode(Request.self, from: Data(completed)).params
    }

    @Test func theHostsHomeAndContextByDefault() throws {
        let params = try complete([:])
        #expect(params.home == "/srv/ops/nepho")
        #expect(params.context == ProviderContext.capture(from: host))
        #expect(params.context.environment["AWS_PROFILE"] == "build")
    }

    @Test func forwardedKeysReplaceTheHostsIdentityAndNothingElseComes() throws {
        let params = try complete([
            "AWS_ACCESS_KEY_ID": "AKIDCLIENT", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t",
            "PATH": "/laptop/bin", "HOME": "/home/laptop", "AWS_ENDPOINT_URL": "http://elsewhere",
            "SSH_AUTH_SOCK": "/tmp/agent",
        ])
        let environment = params.context.environment
        #expect(environment["AWS_ACCESS_KEY_ID"] == "AKIDCLIENT")
        #expect(environment["AWS_SESSION_TOKEN"] == "t")
        #expect(environment["AWS_PROFILE"] == nil)  // the host's identity is dropped…
        #expect(environment["AWS_REGION"] == "eu-west-1")  // …not its region, unless one came
        #expect(environment["PATH"] == "/usr/bin:/bin")
        #expect(environment["HOME"] == "/srv/ops")
        #expect(environment["AWS_ENDPOINT_URL"] == nil)
        #expect(environment["SSH_AUTH_SOCK"] == nil)
        // Tagged, so the nanny never makes them the fallback for other builds.
        #expect(params.context.carriesForwardedCredentials)
        #expect(try complete([:]).context.carriesForwardedCredentials == false)
        #expect(
            try complete([ProviderContext.forwardedMarker: "1"]).context.carriesForwardedCredentials == false)
    }

    @Test func onlyAHandshakeIsAccepted() throws {
        let line = try FastEnvelope.request(id: 1, method: "formation.list", params: NoParams())
        #expect(throws: NephoError.self) { try StdioBridge.completeHandshake(line, environment: host) }
    }

    @Test func hosts() throws {
        #expect(try RemoteHost.parse("ssh://build") == RemoteHost(host: "build"))
        #expect(
            try RemoteHost.parse("ssh://ops@build:2222/")
                == RemoteHost(user: "ops", host: "build", port: 2222))
        #expect(try RemoteHost.parse("ssh://[::1]:22") == RemoteHost(host: "::1", port: 22))
        #expect(try RemoteHost.parse("ssh://[::1]:22").url == "ssh://[::1]:22")
        #expect(
            try RemoteHost.parse("ssh://ops@build:2222").sshArguments(command: "c")
                == ["-T", "-p", "2222", "-l", "ops", "--", "build", "c"])
        for bad in [
            "build", "http://build", "ssh://", "ssh://-oProxyCommand=x", "ssh://-l@build", "ssh://build:0",
            "ssh://build:99999", "ssh://build/path", "ssh://@build", "ssh://bu ild",
        ] {
            #expect(throws: NephoError.self, "\(bad)") { try RemoteHost.parse(bad) }
        }
        #expect(
            try RemoteHost.parse("ssh://build").sshArguments(command: "c", batch: true)
                == ["-T", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "--", "build", "c"])
        #expect(
            try RemoteHost.parse("ssh://o.p-s_1@b-1.example.com")
                == RemoteHost(user: "o.p-s_1", host: "b-1.example.com"))
        #expect(try RemoteHost.parse("ssh://[2001:db8::1]").host == "2001:db8::1")
    }

    /// OpenSSH before 9.6 passes %h and %r of a ProxyCommand through a shell
    /// (CVE-2023-51385): a user or host with a shell's characters never reaches ssh.
    @Test func shellCharactersInAUserOrHostAreRefused() throws {
        for bad in [
            "ssh://$(touch${IFS}x)@build", "ssh://`id`@build", "ssh://o'p@build", "ssh://ops@build;id",
            "ssh://ops@$(id)", "ssh://ops@bu|ild", "ssh://[::1;id]", "ssh://[build]", "ssh://ops@b\u{e9}ld",
            "ssh://o\"p@build", "ssh://ops@build&",
        ] {
            let error = #expect(throws: NephoError.self, "\(bad)") { try RemoteHost.parse(bad) }
            #expect(error?.code == .invalidInput)
        }
    }
}

/// The ssh a client starts ends with it: a handshake nobody answers gives up after the
/// silence limit (a batch client's, as shell completion uses), and the ssh is ended.
@Suite struct SSHProcessTests {
    @Test func anUnansweredBatchHandshakeEndsItsSSH() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-ssh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        // Test double for ssh: a program that answers nothing and ignores its input's end.
        // Run by sh, not executed: a file another test's spawn may hold open for writing cannot be (ETXTBSY).
        let fake = root.appendingPathComponent("silent-ssh")
        let pidFile = root.appendingPathComponent("pid")
        try "#!/bin/sh\necho $$ > '\(pidFile.path)'\nexec sleep 300\n".write(
            to: fake, atomically: true, encoding: .utf8)
        chmod(fake.path, 0o755)
        let client = DaemonClient(
            environment: [
                "NEPHO_SSH_COMMAND": "/bin/sh " + fake.path, "NEPHO_DAEMON_TIMEOUT": "1",
                "PATH": "/usr/bin:/bin",
                "NEPHO_HOME": root.appendingPathComponent("home").path,
            ],
            host: try RemoteHost.parse("ssh://build"), batch: true)
        let started = Date()
        #expect(throws: NephoError.self) { try client.connect() }
        #expect(
            Date().timeIntervalSince(started) < 60,
            "not the 10 minutes a first interactive handshake may take")
        let pid = try #require(
            Int32(
                String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        var gone = false
        for _ in 0..<200 where !gone {
            gone = kill(pid, 0) != 0
            if !gone { usleep(25_000) }
        }
        #expect(gone, "ssh (pid \(pid)) still runs")
        if !gone { kill(pid, SIGKILL) }
    }

    /// After a handshake has worked, a reconnect that gets no answer gives up after the
    /// silence limit (not the 10 minutes a first one may wait for a password).
    @Test(.timeLimit(.minutes(1))) func aSilentReconnectGivesUpAfterTheSilenceLimit() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-ssh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        // Test double for ssh: the first connection answers the handshake as a nanny
        // would; every later one answers nothing and ignores its input's end.
        let fake = root.appendingPathComponent("once-ssh")
        let marker = root.appendingPathComponent("answered").path
        let pidFile = root.appendingPathComponent("pid")
        try """
        #!/bin/sh
        if [ -f '\(marker)' ]; then echo $$ > '\(pidFile.path)'; exec sleep 300; fi
        touch '\(marker)'
        read -r line
        id=$(printf '%s' "$line" | sed -n 's/^{"jsonrpc":"2.0","id":\\([0-9]*\\),.*/\\1/p')
        printf '{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":%s,"daemonVersion":"%s","pid":1,"home":"/h"}}\\n' \\
            "$id" \(NephoVersion.protocolVersion) '\(NephoVersion.current)'
        exec cat >/dev/null

        """.write(to: fake, atomically: true, encoding: .utf8)
        chmod(fake.path, 0o755)
        let client = DaemonClient(
            environment: [
                "NEPHO_SSH_COMMAND": "/bin/sh " + fake.path, "NEPHO_DAEMON_TIMEOUT": "1",
                "PATH": "/usr/bin:/bin",
                "NEPHO_HOME": root.appendingPathComponent("home").path,
            ],
            host: try RemoteHost.parse("ssh://build"))
        #expect(try client.connect().pid == 1)
        client.close()
        let started = Date()
        let error = #expect(throws: NephoError.self) { try client.connect() }
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(
            error?.message.contains("did not answer through ssh for 1 s") == true,
            "\(String(describing: error))")
        let pid = try #require(
            Int32(
                String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        usleep(200_000)
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
    }
}
