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
    }
}
