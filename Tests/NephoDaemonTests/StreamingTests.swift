import Foundation
import NephoClient
import NephoProtocol
import NephoStore
import Testing

/// `events.subscribe`: history from SQLite first, then live events, each sequence number
/// exactly once, resumable after the last number seen.
@Suite struct StreamingTests {
    func makeBuild(_ daemon: InProcessDaemon) throws -> Int64 {
        let store = daemon.server.store
        let formation = try store.insertFormation(
            .init(name: "f", provider: "aws", cloudlet: "c", scenario: "s", status: "x"))
        return try store.insertBuild(.init(formationID: formation.id, operation: .create, status: "running"))
            .id
    }

    func sequences(_ client: RawClient, count: Int) async -> [Int] {
        var seen: [Int] = []
        while seen.count < count, let note = await client.readObject() {
            guard note["method"] as? String == DaemonRPC.eventNotification,
                let params = note["params"] as? [String: Any], let sequence = params["sequence"] as? Int
            else { continue }
            seen.append(sequence)
        }
        return seen
    }

    @Test func historyThenLiveEventsInOrderWithoutDuplicates() async throws {
        let daemon = try InProcessDaemon()
        let build = try makeBuild(daemon)
        for n in 1...5 {
            try daemon.server.events.publish(.init(buildID: build, providerEventID: "e\(n)", timestamp: "t"))
        }

        let client = try await daemon.rawClient()
        let subscribed = try #require(
            await client.call("events.subscribe", id: 1, params: #"{"subject":"build:\#(build)","after":0}"#))
        #expect(subscribed.result?["subscription"] as? Int != nil)
        for n in 6...8 {
            try daemon.server.events.publish(.init(buildID: build, providerEventID: "e\(n)", timestamp: "t"))
        }
        #expect(
            try daemon.server.events.publish(.init(buildID: build, providerEventID: "e3", timestamp: "t"))
                == nil)
        #expect(await sequences(client, count: 8) == Array(1...8))
    }

    @Test func aReconnectingClientResumesAfterTheLastNumberItSaw() async throws {
        let daemon = try InProcessDaemon()
        let build = try makeBuild(daemon)
        for n in 1...10 {
            try daemon.server.events.publish(.init(buildID: build, providerEventID: "e\(n)", timestamp: "t"))
        }
        let client = try await daemon.rawClient()
        _ = await client.call("events.subscribe", id: 1, params: #"{"subject":"build:\#(build)","after":7}"#)
        #expect(await sequences(client, count: 3) == [8, 9, 10])
        try daemon.server.events.publish(.init(buildID: build, providerEventID: "e11", timestamp: "t"))
        #expect(await sequences(client, count: 1) == [11])
    }

    @Test func theTypedClientReadsNotificationsAndUnsubscribes() async throws {
        let daemon = try InProcessDaemon()
        let build = try makeBuild(daemon)
        try daemon.server.events.publish(
            .init(buildID: build, providerEventID: "a", timestamp: "t", status: "CREATE_IN_PROGRESS"))
        let client = DaemonClient(environment: daemon.home.environment, autoStart: false)
        let subscription = await offPool {
            try? client.request(DaemonRPC.subscribe, SubscribeParams(subject: "build:\(build)"))
        }
        let note = await offPool { try? client.nextNotification(EventNotification.self, timeout: 30) }
        #expect(note?.method == DaemonRPC.eventNotification)
        #expect(note?.params.sequence == 1)
        #expect(note?.params.event.status == "CREATE_IN_PROGRESS")
        let id = try #require(subscription?.subscription)
        let done = await offPool {
            (try? client.request(DaemonRPC.unsubscribe, UnsubscribeParams(subscription: id))) != nil
        }
        #expect(done)
        let again = await offPool {
            (try? client.request(DaemonRPC.unsubscribe, UnsubscribeParams(subscription: id))) != nil
        }
        #expect(!again, "an unknown subscription is an error")
    }

    @Test func anUnknownSubjectIsAnError() async throws {
        let daemon = try InProcessDaemon()
        let client = try await daemon.rawClient()
        let reply = try #require(
            await client.call("events.subscribe", params: #"{"subject":"nope","after":0}"#))
        #expect(reply.errorCode == NephoError.Code.invalidInput.rawValue)
    }
}
