import Foundation
import NephoStore
import Testing

@testable import NephoEngine

/// `formation:describe` during a build lists each resource from its latest event: nested
/// stacks and their resources included, the stacks' own rows not.
@Suite struct FormationResourcesTests {
    @Test func aBuildInProgressListsNestedStacksAndTheirResources() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-resources-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try StateStore(path: folder.appendingPathComponent("state.db").path)
        let (_, build) = try store.insertFormation(
            FormationRecord(
                name: "web", provider: "aws", cloudlet: "c", scenario: "s", status: "CREATE_IN_PROGRESS"),
            firstBuild: BuildRecord(formationID: 0, operation: .create, status: "CREATE_IN_PROGRESS"))
        let stack = "AWS::CloudFormation::Stack"
        for (index, (id, type, status)) in [
            ("web", stack, "CREATE_IN_PROGRESS"), ("Topic", "AWS::SNS::Topic", "CREATE_COMPLETE"),
            ("Network", stack, "CREATE_IN_PROGRESS"),
            ("Network/web-Network-1X2Y", stack, "CREATE_IN_PROGRESS"),
            ("Network/Queue", "AWS::SQS::Queue", "CREATE_IN_PROGRESS"),
            ("Provisioner", "Nepho::Provisioner", "PHASE 1/2"),
        ].enumerated() {
            _ = try store.appendEvent(
                EventRecord(
                    buildID: build.id, providerEventID: "e\(index)", timestamp: "2026-12-04T20:00:0\(index)Z",
                    logicalID: id, resourceType: type, status: status))
        }
        let resources = try CloudFormationDriver.resources(builds: [build], store: store, stack: "web")
        #expect(resources.map(\.logicalID) == ["Topic", "Network", "Network/Queue"])
        #expect(resources.first { $0.logicalID == "Network" }?.status == "CREATE_IN_PROGRESS")
    }
}
