import Foundation
import NephoEngine
import NephoProtocol
import Testing

@testable import NephoCLI

/// The phase record's lines as the monitor stores them (`PhaseChannel`), and as the
/// live table shows them.
@Suite struct PhaseRecordTableTests {
    @Test func recordLinesAreReadAndMalformedOnesSkipped() {
        let text = """
            NEPHO_PHASE 1/3 Installing packages\r
            not a phase line
            NEPHO_PHASE 0/3 bad number
            NEPHO_PHASE 2/3 Configuring: a=b 'quoted'
            NEPHO_RESULT FAILURE bootstrap failed with status 3
            """
        let lines = PhaseChannel.lines(text)
        #expect(lines.count == 3)
        let events = PhaseChannel.events(lines, buildID: 7, timestamp: "2026-11-29T04:00:00.000Z")
        #expect(events.map(\.providerEventID) == ["phase-7-1-of-3", "phase-7-2-of-3", "phase-7-result"])
        #expect(events.map { $0.status ?? "" } == ["PHASE 1/3", "PHASE 2/3", "PROVISIONER_FAILURE"])
        #expect(events[1].reason == "NEPHO_PHASE 2/3 Configuring: a=b 'quoted'")
        #expect(events[2].reason == "NEPHO_RESULT FAILURE bootstrap failed with status 3")
        #expect(
            events.allSatisfy { $0.logicalID == "Provisioner" && $0.resourceType == "Nepho::Provisioner" })
    }

    @Test func theLiveTableShowsTheRecordsPhases() {
        var table = LiveTable(name: "site", color: false)
        table.add(
            BuildEvent(
                eventID: "a", timestamp: "2026-11-29T04:00:00Z", logicalID: "Instance",
                resourceType: "AWS::EC2::Instance", status: "CREATE_COMPLETE"))
        let text = "NEPHO_PHASE 1/3 Installing packages\nNEPHO_PHASE 2/3 Configuring the site\n"
        for event in PhaseChannel.events(
            PhaseChannel.lines(text), buildID: 1, timestamp: "2026-11-29T04:00:05.000Z")
        {
            table.add(
                BuildEvent(
                    eventID: event.providerEventID, timestamp: event.timestamp, logicalID: event.logicalID,
                    resourceType: event.resourceType, status: event.status, reason: event.reason))
        }
        let lines = table.lines(status: "CREATE_IN_PROGRESS", columns: 120, lines: 40)
        #expect(lines.contains { $0.contains("provisioner: 2/3 Configuring the site") }, "\(lines)")
        #expect(lines.contains { $0.contains("Provisioner") && $0.contains("PHASE 2/3") }, "\(lines)")
    }
}
