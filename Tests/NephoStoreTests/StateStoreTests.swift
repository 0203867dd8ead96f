import CSQLite
import Foundation
import NephoStore
import Testing

@Suite struct StateStoreTests {
    let folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-store-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()
    var path: String { folder.appendingPathComponent("state.db").path }

    @Test func aNewDatabaseIsMigratedAndSetUpAsDesigned() throws {
        let store = try StateStore(path: path)
        #expect(store.schemaVersion == Migrations.latest)
        let database = try Database(path: path)
        #expect(try database.query("PRAGMA journal_mode").first?.first?.text == "wal")
        #expect(try database.scalar("PRAGMA synchronous") == 2, "FULL")
        #expect(try store.integrityCheck() == "ok")
    }

    @Test func anOlderDatabaseIsMigrated() throws {
        // Schema version 0: an empty file made by an older nepho (or by hand).
        try Database(path: path).execute("CREATE TABLE unrelated (x); PRAGMA user_version = 0")
        let store = try StateStore(path: path)
        #expect(store.schemaVersion == Migrations.latest)
        #expect(try store.formations().isEmpty)
    }

    @Test func aNewerDatabaseIsRefusedAndLeftAlone() throws {
        try Database(path: path).execute("PRAGMA user_version = \(Migrations.latest + 5)")
        #expect {
            _ = try StateStore(path: path)
        } throws: { error in
            let text = "\(error)"
            return text.contains("newer nepho") && text.contains("schema version \(Migrations.latest + 5)")
                && text.contains(path)
        }
        #expect(try Database(path: path).scalar("PRAGMA user_version") == Int64(Migrations.latest + 5))
    }

    @Test func formationsAndBuildsRoundTrip() throws {
        let store = try StateStore(path: path)
        let formation = try store.insertFormation(
            FormationRecord(
                name: "wiki", provider: "aws", cloudlet: "mediawiki", scenario: "default",
                region: "eu-west-1",
                status: "CREATE_IN_PROGRESS"))
        let build = try store.insertBuild(
            BuildRecord(formationID: formation.id, operation: .create, status: "running"))
        #expect(try store.unfinishedBuilds().map(\.id) == [build.id])
        try store.updateBuild(id: build.id, status: "CREATE_COMPLETE", finished: true)
        try store.updateFormation(
            id: formation.id, status: "CREATE_COMPLETE", stackID: "arn:stack", outputs: ["Url": "x"])
        #expect(try store.unfinishedBuilds().isEmpty)
        let stored = try #require(try store.formation(named: "wiki"))
        #expect(stored.stackID == "arn:stack")
        #expect(stored.status == "CREATE_COMPLETE")
        #expect(stored.outputs == ["Url": "x"], "outputs are kept and read back as they were given")
        #expect(try store.builds(formationID: formation.id).first?.finishedAt != nil)
        #expect {
            _ = try store.insertFormation(
                FormationRecord(name: "wiki", provider: "aws", cloudlet: "c", scenario: "s", status: "x"))
        } throws: { "\($0)".contains("UNIQUE") }
    }

    /// A monitor that looked before a destroy superseded its build must not write over
    /// what the destroy recorded (a cancelled create stays CREATE_FAILED, "superseded by destroy").
    @Test func aFinishedBuildIsNeverWrittenAgain() throws {
        let store = try StateStore(path: path)
        let formation = try store.insertFormation(
            FormationRecord(
                name: "f", provider: "aws", cloudlet: "c", scenario: "s", status: "CREATE_IN_PROGRESS"))
        let build = try store.insertBuild(
            BuildRecord(formationID: formation.id, operation: .create, status: "CREATE_IN_PROGRESS"))
        try store.setMonitor(build: build.id, pid: 42)
        #expect(try store.build(id: build.id)?.monitorPID == 42)
        #expect(
            try store.updateBuild(
                id: build.id, status: "CREATE_FAILED", finished: true, error: "superseded by destroy"))
        try store.updateFormation(id: formation.id, status: "DELETE_IN_PROGRESS")
        // The create's monitor, late: neither its progress nor its end is taken.
        #expect(
            try !store.updateBuild(
                id: build.id, formationID: formation.id, status: "DELETE_IN_PROGRESS", finished: false))
        #expect(
            try !store.updateBuild(
                id: build.id, formationID: formation.id, status: "DELETE_COMPLETE", finished: true,
                outputs: ["Url": "x"]))
        try store.setMonitor(build: build.id, pid: 43)
        let stored = try #require(try store.build(id: build.id))
        #expect(stored.status == "CREATE_FAILED" && stored.error == "superseded by destroy")
        #expect(stored.monitorPID == 42)
        let kept = try #require(try store.formation(id: formation.id))
        #expect(kept.status == "DELETE_IN_PROGRESS" && kept.outputs.isEmpty)
    }

    @Test func eventsAreNumberedPerBuildAndUniqueByProviderID() throws {
        let store = try StateStore(path: path)
        let formation = try store.insertFormation(
            FormationRecord(name: "f", provider: "aws", cloudlet: "c", scenario: "s", status: "x"))
        let first = try store.insertBuild(
            BuildRecord(formationID: formation.id, operation: .create, status: "running"))
        let second = try store.insertBuild(
            BuildRecord(formationID: formation.id, operation: .update, status: "running"))
        let a = try store.appendEvent(EventRecord(buildID: first.id, providerEventID: "e1", timestamp: "t"))
        let b = try store.appendEvent(EventRecord(buildID: first.id, providerEventID: "e2", timestamp: "t"))
        let again = try store.appendEvent(
            EventRecord(buildID: first.id, providerEventID: "e1", timestamp: "t"))
        let c = try store.appendEvent(EventRecord(buildID: second.id, providerEventID: "e3", timestamp: "t"))
        #expect(a?.sequence == 1)
        #expect(b?.sequence == 2)
        #expect(again == nil, "a provider event is stored once")
        #expect(c?.sequence == 1, "sequence numbers are per build")
        #expect(try store.events(buildID: first.id, after: 1).map(\.providerEventID) == ["e2"])
    }

    /// An event that came through EventBridge (no CloudFormation EventId) and the same
    /// event from DescribeStackEvents or SNS are stored once, under CloudFormation's id.
    @Test func anEventBridgeEventAndItsCloudFormationTwinAreStoredOnce() throws {
        let store = try StateStore(path: path)
        let formation = try store.insertFormation(
            FormationRecord(name: "f", provider: "aws", cloudlet: "c", scenario: "s", status: "x"))
        let build = try store.insertBuild(
            BuildRecord(formationID: formation.id, operation: .update, status: "running"))
        func event(
            _ id: String, _ time: String, _ status: String, logical: String = "Web", reason: String? = nil
        )
            -> EventRecord
        {
            EventRecord(
                buildID: build.id, providerEventID: id, timestamp: time, logicalID: logical,
                resourceType: "AWS::EC2::Instance", status: status, reason: reason)
        }
        // Replacement: two UPDATE_IN_PROGRESS of one resource in the same second, told apart by their reasons.
        #expect(
            try store.appendEvent(
                event(
                    "eventbridge:1", "2026-01-01T10:00:00Z", "UPDATE_IN_PROGRESS",
                    reason:
                        "Requested update requires the creation of a new physical resource; hence creating one."
                ))
                != nil)
        #expect(
            try store.appendEvent(
                event(
                    "eventbridge:2", "2026-01-01T10:00:00Z", "UPDATE_IN_PROGRESS",
                    reason: "Resource creation Initiated")) != nil)
        #expect(
            try store.appendEvent(event("eventbridge:3", "2026-01-01T10:00:05Z", "UPDATE_COMPLETE")) != nil)
        // A second EventBridge copy of that change (another id) is not added either.
        #expect(
            try store.appendEvent(event("eventbridge:3b", "2026-01-01T10:00:06Z", "UPDATE_COMPLETE")) == nil)
        // Redelivered by the queue: the same EventBridge id.
        #expect(
            try store.appendEvent(event("eventbridge:3", "2026-01-01T10:00:05Z", "UPDATE_COMPLETE")) == nil)
        // DescribeStackEvents' copies: they take over the rows, adding none.
        #expect(
            try store.appendEvent(
                event(
                    "Web-UPDATE_IN_PROGRESS-b", "2026-01-01T10:00:00.700Z", "UPDATE_IN_PROGRESS",
                    reason: "Resource creation Initiated")) == nil)
        #expect(
            try store.appendEvent(
                event(
                    "Web-UPDATE_IN_PROGRESS-a", "2026-01-01T10:00:00.200Z", "UPDATE_IN_PROGRESS",
                    reason:
                        "Requested update requires the creation of a new physical resource; hence creating one."
                ))
                == nil)
        #expect(
            try store.appendEvent(
                event("Web-UPDATE_COMPLETE-c", "2026-01-01T10:00:05.400Z", "UPDATE_COMPLETE")) == nil)
        // The same status of another resource, or of this one much later, is another event.
        #expect(
            try store.appendEvent(
                event("Db-UPDATE_COMPLETE", "2026-01-01T10:00:05.400Z", "UPDATE_COMPLETE", logical: "Db"))
                != nil)
        #expect(
            try store.appendEvent(
                event("Web-UPDATE_COMPLETE-later", "2026-01-01T10:09:00.000Z", "UPDATE_COMPLETE")) != nil)
        // An EventBridge copy of an event stored from CloudFormation first is not added, even redelivered.
        #expect(
            try store.appendEvent(
                event("eventbridge:4", "2026-01-01T10:00:05Z", "UPDATE_COMPLETE", logical: "Db")) == nil)
        let stored = try store.events(buildID: build.id)
        #expect(
            stored.map(\.providerEventID) == [
                "Web-UPDATE_IN_PROGRESS-a", "Web-UPDATE_IN_PROGRESS-b", "Web-UPDATE_COMPLETE-c",
                "Db-UPDATE_COMPLETE",
                "Web-UPDATE_COMPLETE-later",
            ])
        #expect(stored.first?.timestamp == "2026-01-01T10:00:00.200Z", "CloudFormation's exact time")
    }

    @Test func twoConnectionsWritingAtOnceLoseNothing() async throws {
        let setup = try StateStore(path: path)
        let formation = try setup.insertFormation(
            FormationRecord(name: "f", provider: "aws", cloudlet: "c", scenario: "s", status: "x"))
        let build = try setup.insertBuild(
            BuildRecord(formationID: formation.id, operation: .create, status: "running"))
        let path = self.path
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<2 {
                group.addTask {
                    let store = try StateStore(path: path)  // its own SQLite connection
                    for n in 0..<200 {
                        try store.appendEvent(
                            EventRecord(buildID: build.id, providerEventID: "w\(writer)-\(n)", timestamp: "t")
                        )
                    }
                }
            }
            try await group.waitForAll()
        }
        let events = try setup.events(buildID: build.id)
        #expect(events.count == 400)
        #expect(events.map(\.sequence) == Array(1...400).map(Int64.init), "no gaps, no duplicates")
    }
}
