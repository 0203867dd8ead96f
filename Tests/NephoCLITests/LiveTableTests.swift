import Foundation
import NephoProtocol
import Testing

@testable import NephoCLI

/// The live table's layout limits, which the end-to-end tests on a pty do not reach:
/// a stack with more resources than the terminal has lines, and a narrow terminal.
@Suite struct LiveTableTests {
    func table(resources: Int, working: Set<Int>) -> LiveTable {
        var table = LiveTable(name: "big", color: false)
        for index in 0..<resources {
            let id = "Resource\(index)"
            table.add(
                BuildEvent(
                    eventID: "\(index)-a", timestamp: "2026-11-29T04:00:00Z", logicalID: id,
                    resourceType: "AWS::SSM::Parameter", status: "CREATE_IN_PROGRESS"))
            if !working.contains(index) {
                table.add(
                    BuildEvent(
                        eventID: "\(index)-b", timestamp: "2026-11-29T04:00:03Z", logicalID: id,
                        resourceType: "AWS::SSM::Parameter", status: "CREATE_COMPLETE",
                        reason: String(repeating: "a long reason ", count: 20)))
            }
        }
        return table
    }

    @Test func aTableTallerThanTheTerminalKeepsTheResourcesAtWork() {
        let lines = table(resources: 40, working: [3, 38]).lines(
            status: "CREATE_IN_PROGRESS", columns: 80, lines: 24)
        // One line short of the screen, so that a redraw can move back over all of it.
        #expect(lines.count <= 23, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("  Resource3 ") && $0.contains("CREATE_IN_PROGRESS") })
        #expect(lines.contains { $0.hasPrefix("  Resource38 ") && $0.contains("CREATE_IN_PROGRESS") })
        #expect(lines.contains { $0.hasPrefix("  … ") && $0.hasSuffix(" more finished") }, "\(lines)")
        #expect(lines.last == "  [" + String(repeating: "#", count: 28) + "..] 38/40")
    }

    @Test func everyLineFitsANarrowTerminal() {
        let lines = table(resources: 3, working: []).lines(status: "CREATE_COMPLETE", columns: 40, lines: 24)
        #expect(lines.allSatisfy { $0.count < 40 }, "\(lines)")
        #expect(lines.count == 5)
    }

    @Test func colourOnlyWhenAsked() {
        var coloured = table(resources: 2, working: [1])
        coloured.color = true
        let lines = coloured.lines(status: "CREATE_IN_PROGRESS", columns: 80, lines: 24)
        #expect(lines.contains { $0.contains("\u{1B}[32mCREATE_COMPLETE") })
        #expect(lines.contains { $0.contains("\u{1B}[33mCREATE_IN_PROGRESS") })
        let plain = table(resources: 2, working: [1]).lines(
            status: "CREATE_IN_PROGRESS", columns: 80, lines: 24)
        #expect(!plain.joined().contains("\u{1B}"))
    }
}
