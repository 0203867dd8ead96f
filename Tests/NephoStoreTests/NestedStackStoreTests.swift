import Foundation
import NephoStore
import Testing

/// A build's nested stacks and their events in `state.db` (docs/formations.md, "Nested stacks").
@Suite struct NestedStackStoreTests {
    let folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-nested-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    @Test func theRootsPagingStopsAtTheRootsOwnLastEventNotANestedOne() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try StateStore(path: folder.appendingPathComponent("state.db").path)
        let formation = try store.insertFormation(
            FormationRecord(
                name: "demo", provider: "cloudformation", cloudlet: "c", scenario: "s", status: "x"))
        let first = try store.insertBuild(
            BuildRecord(formationID: formation.id, operation: .create, status: "CREATE_IN_PROGRESS"))
        for (id, logical) in [
            ("r1", "demo"), ("r2", "Child"), ("n1", "Child/demo-Child-1AB"), ("n2", "Child/Bucket"),
        ] {
            try store.appendEvent(
                EventRecord(
                    buildID: first.id, providerEventID: id, timestamp: "2026-01-01T00:00:00Z",
                    logicalID: logical))
        }
        #expect(try store.lastEventID(formationID: formation.id) == "r2")
        let second = try store.insertBuild(
            BuildRecord(formationID: formation.id, operation: .update, status: "UPDATE_IN_PROGRESS"))
        #expect(try store.lastEventID(formationID: formation.id, before: second.id) == "r2")

        // The nested stack, as its parent's event named it, once per build.
        let arn = "arn:aws:cloudformation:us-east-1:123456789012:stack/demo-Child-1AB/1"
        #expect(try store.addNestedStack(buildID: first.id, stackID: arn, path: "Child"))
        #expect(try !store.addNestedStack(buildID: first.id, stackID: arn, path: "Child"))
        #expect(try store.nestedStacks(buildID: first.id).first?.inProgress == true)
        try store.updateNestedStack(
            buildID: first.id, stackID: arn, status: "CREATE_COMPLETE", lastEventID: "n2")
        try store.updateNestedStack(buildID: first.id, stackID: arn, status: nil, lastEventID: nil)
        let known = try #require(try store.nestedStacks(buildID: first.id).first)
        #expect(
            known
                == NestedStackRecord(
                    buildID: first.id, stackID: arn, path: "Child", status: "CREATE_COMPLETE",
                    lastEventID: "n2"))
        #expect(!known.inProgress)
        try store.addNestedStack(buildID: second.id, stackID: arn, path: "Child")
        #expect(try store.nestedStack(stackID: arn)?.buildID == second.id, "the latest build's")
        #expect(try store.lastNestedEventID(stackID: arn, before: second.id) == "n2")
        #expect(try store.lastNestedEventID(stackID: arn, before: first.id) == nil)
    }
}
