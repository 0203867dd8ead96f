import Foundation
import NephoProtocol
import Testing

@testable import NephoCLI

/// `formation:watch` reads provisioner phases from the reasons CloudFormation writes
/// (docs/provisioners.md, "What CloudFormation records").
@Suite struct ProvisionerPhaseTests {
    @Test func aRecordedSignalNamesItsPhaseInItsUniqueId() {
        #expect(
            ProvisionerPhase(reason: "Received SUCCESS signal with UniqueId phase-2-of-6")
                == ProvisionerPhase(number: 2, total: 6, text: "phase 2 of 6"))
        #expect(ProvisionerPhase(reason: "Received SUCCESS signal with UniqueId i-0abc123") == nil)
        #expect(ProvisionerPhase(reason: "Received SUCCESS signal with UniqueId phase-7-of-6") == nil)
    }

    @Test func theHandOffsFailureAsCloudFormationQuotesItNamesThePhase() {
        // The wait condition's CREATE_FAILED reason around the hand-off's FAILURE signal.
        let reason =
            "WaitCondition received failed message: 'bootstrap failed with status 1 during "
            + "NEPHO_PHASE 3/6 Preparing the database\nNEPHO_PHASE 3/6 Preparing the database\n"
            + "ERROR 2002 (HY000): Can't connect to server' for uniqueId: i-0abc123"
        let phase = ProvisionerPhase(reason: reason)
        #expect(phase == ProvisionerPhase(number: 3, total: 6, text: "Preparing the database", failed: true))
        #expect(phase?.summary == "3/6 Preparing the database (failed)")
    }

    @Test func aPhaseOnTheQuotedLineEndsAtTheClosingQuote() {
        let reason = "WaitCondition received failed message: 'NEPHO_PHASE 1/2 installing' for uniqueId: i-1"
        #expect(ProvisionerPhase(reason: reason)?.text == "installing")
    }

    @Test func otherReasonsAreNoPhase() {
        for reason in [
            nil, "", "Resource creation Initiated",
            "WaitCondition timed out. Received 3 conditions when expecting 7",
            "NEPHO_PHASE x/6 bad", "NEPHO_PHASE 0/6 zero",
        ] {
            #expect(ProvisionerPhase(reason: reason) == nil, "\(reason ?? "nil")")
        }
    }

    @Test func theLiveTableShowsTheLatestPhaseOnOneLine() {
        var table = LiveTable(name: "wiki")
        let failure =
            "WaitCondition received failed message: 'bootstrap failed with status 1 during "
            + "NEPHO_PHASE 3/6 Preparing the database\nline one\nline two' for uniqueId: i-0abc123"
        table.add(event("Received SUCCESS signal with UniqueId phase-2-of-6", status: "CREATE_IN_PROGRESS"))
        table.add(event(failure, status: "CREATE_FAILED"))
        #expect(table.phases == ["2/6 phase 2 of 6", "3/6 Preparing the database (failed)"])
        #expect(table.rows.count == 1)
        #expect(!table.rows[0].reason.contains("\n"))
    }

    private func event(_ reason: String, status: String) -> BuildEvent {
        BuildEvent(
            eventID: UUID().uuidString, timestamp: "2026-11-29T05:00:00Z",
            logicalID: "BootstrapWaitCondition",
            resourceType: "AWS::CloudFormation::WaitCondition", status: status, reason: reason)
    }
}
