import Foundation
import NephoClient
import NephoProtocol
import NephoStore
import Testing

/// `formation.follow`: a build's history from SQLite first, then each event as a monitor
/// stores it, each sequence number exactly once, then the outcome; resumable after the
/// last number seen. Events are stored straight into `state.db`, as a monitor (another
/// process) stores them.
@Suite struct StreamingTests {
    func makeBuild(_ daemon: InProcessDaemon) throws -> Int64 {
        let formation = try daemon.store.insertFormation(
            .init(name: "f", provider: "aws", cloudlet: "c", scenario: "s", status: "CREATE_IN_PROGRESS"))
        return try daemon.store.insertBuild(
            .init(formationID: formation.id, operation: .create, status: "CREATE_IN_PROGRESS")
        ).id
    }

    func store(_ daemon: InProcessDaemon, _ build: Int64, _ range: ClosedRange<Int>) throws {
        for n in range {
            _ = try daemon.store.appendEvent(.init(buildID: build, providerEventID: "e\(n)", timestamp: "t"))
        }
    }

    /// Reads the stream's notifications until `count` events came, or its end.
    func sequences(_ client: RawClient, count: Int) async -> (events: [Int], end: [String: Any]?) {
        var seen: [Int] = []
        while seen.count < count, let note = await client.readObject() {
            let params = note["params"] as? [String: Any] ?? [:]
            if note["method"] as? String == DaemonRPC.streamEnd { return (seen, params) }
            guard note["method"] as? String == DaemonRPC.streamItem,
                let item = params["item"] as? [String: Any], item["kind"] as? String == "event",
                let sequence = (item["event"] as? [String: Any])?["sequence"] as? Int
            else { continue }
            seen.append(sequence)
        }
        return (seen, nil)
    }

    /// Reads until the stream's `end` item and `stream.end`; returns the end item.
    func outcome(_ client: RawClient) async -> [String: Any]? {
        var end: [String: Any]?
        while let note = await client.readObject() {
            let params = note["params"] as? [String: Any] ?? [:]
            if note["method"] as? String == DaemonRPC.streamEnd { return end }
            if let item = params["item"] as? [String: Any], item["kind"] as? String == "end" { end = item }
        }
        return nil
    }

    @Test func historyThenLiveEventsInOrderWithoutDuplicatesThenTheOutcome() async throws {
        let daemon = try InProcessDaemon()
        let build = try makeBuild(daemon)
        try store(daemon, build, 1...5)

        let client = try await daemon.rawClient()
        let opened = try #require(
            await client.call(API.formationFollow.name, id: 1, params: #"{"name":"f","after":0}"#))
        #expect(opened.result?["stream"] as? Int != nil, "\(opened)")
        try store(daemon, build, 6...8)
        #expect(
            try daemon.store.appendEvent(.init(buildID: build, providerEventID: "e3", timestamp: "t")) == nil)
        #expect(await sequences(client, count: 8).events == Array(1...8))

        try daemon.store.updateBuild(id: build, status: "CREATE_COMPLETE", finished: true)
        let end = try #require(await outcome(client))
        #expect((end["build"] as? [String: Any])?["status"] as? String == "CREATE_COMPLETE")
        #expect((end["build"] as? [String: Any])?["succeeded"] as? Bool == true)
    }

    @Test func aReconnectingClientResumesAfterTheLastNumberItSaw() async throws {
        let daemon = try InProcessDaemon()
        let build = try makeBuild(daemon)
        try store(daemon, build, 1...10)
        let client = try await daemon.rawClient()
        _ = await client.call(API.formationFollow.name, id: 1, params: #"{"name":"f","after":7}"#)
        #expect(await sequences(client, count: 3).events == [8, 9, 10])
        try store(daemon, build, 11...11)
        #expect(await sequences(client, count: 1).events == [11])
    }

    @Test func theTypedClientFollowsToTheEnd() async throws {
        let daemon = try InProcessDaemon()
        let build = try makeBuild(daemon)
        _ = try daemon.store.appendEvent(
            .init(buildID: build, providerEventID: "a", timestamp: "t", status: "CREATE_IN_PROGRESS"))
        let client = DaemonClient(environment: daemon.home.environment, autoStart: false)
        let progress = try await client.follow(API.formationFollow, FormationFollowParams(name: "f"))
        var kinds: [BuildProgress.Kind] = []
        for try await item in progress {
            kinds.append(item.kind)
            if item.kind == .event {
                #expect(item.event?.sequence == 1 && item.event?.event.status == "CREATE_IN_PROGRESS")
                try daemon.store.updateBuild(
                    id: build, status: "CREATE_FAILED", finished: true, error: "boom")
            }
            if item.kind == .end { #expect(item.build?.succeeded == false && item.build?.error == "boom") }
        }
        #expect(kinds.first == .build && kinds.last == .end && kinds.contains(.event))
        // The client goes on after the stream.
        #expect((try? await client.call(API.formationList, FormationListParams()))?.formations.count == 1)
    }

    /// A commit made while the stream waits is sent at once, not after the wait's limit
    /// (60 s here, so that a loaded machine cannot pass it off as a wake-up).
    @Test func aCommitWhileTheStreamWaitsIsSentWithoutWaitingForItsTimeout() async throws {
        let daemon = try InProcessDaemon(followIdleLook: 60)
        let build = try makeBuild(daemon)
        let client = try await daemon.rawClient()
        _ = await client.call(API.formationFollow.name, id: 1, params: #"{"name":"f"}"#)
        // The stream has sent where the build stands after its first look: it waits now.
        while let note = await client.readObject() {
            let item = (note["params"] as? [String: Any])?["item"] as? [String: Any]
            if item?["kind"] as? String == "status" { break }
        }
        try await Task.sleep(nanoseconds: 500_000_000)
        let start = Date()
        try daemon.store.updateBuild(id: build, status: "CREATE_COMPLETE", finished: true)
        #expect(await outcome(client) != nil)
        #expect(Date().timeIntervalSince(start) < 30, "woken by the commit, not by the 60 s limit")
    }

    @Test func anUnknownFormationEndsTheStreamWithTheError() async throws {
        let daemon = try InProcessDaemon()
        let client = try await daemon.rawClient()
        let opened = try #require(await client.call(API.formationFollow.name, params: #"{"name":"nope"}"#))
        #expect(opened.result?["stream"] as? Int != nil)
        let end = try #require(await client.readObject())
        #expect(end["method"] as? String == DaemonRPC.streamEnd)
        let error = (end["params"] as? [String: Any])?["error"] as? [String: Any]
        #expect(error?["code"] as? Int == NephoError.Code.notFound.rawValue, "\(end)")

        let typed = DaemonClient(environment: daemon.home.environment, autoStart: false)
        await #expect(throws: NephoError.self) {
            for try await _ in try await typed.follow(
                API.formationFollow, FormationFollowParams(name: "nope"))
            {}
        }
    }

    @Test func badParamsAreRefusedBeforeAnyStream() async throws {
        let daemon = try InProcessDaemon()
        let client = try await daemon.rawClient()
        let reply = try #require(await client.call(API.formationFollow.name, params: #"{"after":0}"#))
        #expect(reply.errorCode == RPCErrorObject.invalidParamsCode, "\(reply)")
    }
}
