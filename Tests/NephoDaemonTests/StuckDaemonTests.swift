import Foundation
import NephoClient
import NephoProtocol
import NephoSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A stopped or wedged daemon does not hang its clients; a busy one keeps them by its
/// keep-alives; a connection that never makes its handshake, or one too many, is refused.
@Suite(.serialized) struct StuckDaemonTests {
    @Test func aStoppedDaemonIsNamedWithHowToRecoverInsteadOfHangingTheClient() async throws {
        let home = TestHome()
        defer { Task { await NephoProgram.stopDaemon(home) } }
        #expect(try await NephoProgram.run(["cloudlet:list"], home: home).status == 0)
        let pid = try #require(try await NephoProgram.daemonPID(home))
        kill(pid, SIGSTOP)
        let started = Date()
        let stuck = try await NephoProgram.run(
            ["cloudlet:list"], home: home, extra: ["NEPHO_DAEMON_TIMEOUT": "2"], timeout: 60)
        kill(pid, SIGCONT)
        #expect(stuck.status != 0)
        #expect(Date().timeIntervalSince(started) < 20, "the client gave up after its limit, not for ever")
        #expect(
            stuck.errorOutput.contains("nephod (pid \(pid)) sent nothing for 2 s"), "\(stuck.errorOutput)")
        #expect(stuck.errorOutput.contains("kill -CONT \(pid)"))
        #expect(
            try await NephoProgram.run(["cloudlet:list"], home: home).status == 0, "resumed, it answers again"
        )
    }

    @Test func aQuietStreamLivesOnTheDaemonsKeepAlives() async throws {
        let daemon = try InProcessDaemon(keepAliveInterval: 0.3)
        let formation = try daemon.store.insertFormation(
            .init(name: "f", provider: "aws", cloudlet: "c", scenario: "s", status: "CREATE_IN_PROGRESS"))
        let build = try daemon.store.insertBuild(
            .init(formationID: formation.id, operation: .create, status: "CREATE_IN_PROGRESS"))
        var environment = daemon.home.environment
        environment["NEPHO_DAEMON_TIMEOUT"] = "2"
        let client = DaemonClient(environment: environment, autoStart: false)
        let progress = try await client.follow(API.formationFollow, FormationFollowParams(name: "f"))
        Task {
            try await Task.sleep(nanoseconds: 5_000_000_000)  // longer than twice the client's limit
            try daemon.store.updateBuild(id: build.id, status: "CREATE_COMPLETE", finished: true)
        }
        var last: BuildProgress?
        for try await item in progress { last = item }
        #expect(last?.kind == .end && last?.build?.succeeded == true)
    }

    @Test func aConnectionWithoutAHandshakeIsClosedInTime() async throws {
        let daemon = try InProcessDaemon(handshakeTimeLimit: 0.5)
        let silent = try RawClient(socket: daemon.home.socket)
        UnixSocket.setReceiveTimeout(silent.fd, seconds: 10)
        let started = Date()
        #expect(await silent.isClosedByPeer())
        #expect(Date().timeIntervalSince(started) < 5)
        let polite = try await daemon.rawClient()
        #expect(await polite.call("daemon.ping", id: 2)?.result != nil, "a client that shook hands is served")
    }

    @Test func oneConnectionTooManyIsRefusedWithAReason() async throws {
        let daemon = try InProcessDaemon(maximumConnections: 2)
        let first = try await daemon.rawClient()
        let second = try await daemon.rawClient()
        let third = try RawClient(socket: daemon.home.socket)
        let refusal = try #require(await third.readObject())
        #expect(
            refusal.errorMessage?.contains("has 2 connections open, the most it takes") == true, "\(refusal)")
        #expect(await first.call("daemon.ping", id: 3)?.result != nil)
        #expect(await second.call("daemon.ping", id: 4)?.result != nil)
    }
}
