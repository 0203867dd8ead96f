import Foundation
import NephoProtocol
import Testing

@testable import NephoCLI

/// The bar, the ETA and overdue marks of the live table and `formation:list`, and the
/// layout of `formation:logs --chart` (the end-to-end tests on a pty and in Chromium are in
/// FormationProgressTests).
@Suite struct ProgressChartTests {
    static func event(_ second: Int, _ id: String, _ type: String, _ status: String) -> SequencedEvent {
        SequencedEvent(
            build: 1, sequence: Int64(second),
            event: BuildEvent(
                eventID: "\(id)-\(second)-\(status)",
                timestamp:
                    "2026-11-29T04:\(String(format: "%02d", second / 60)):\(String(format: "%02d", second % 60))Z",
                logicalID: id, resourceType: type, status: status))
    }

    /// A: 0–10 s; B waits for A: 10–40 s; C alone: 0–20 s; D waits for C: 20–30 s.
    static let log = BuildLog(
        build: BuildSummary(
            id: 7, formation: "web", operation: "create", status: "CREATE_COMPLETE",
            startedAt: "2026-11-29T04:00:00Z", finishedAt: "2026-11-29T04:00:41Z", succeeded: true, error: nil
        ),
        events: [
            event(0, "web", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS"),
            event(0, "A", "AWS::SNS::Topic", "CREATE_IN_PROGRESS"),
            event(0, "C", "AWS::SQS::Queue", "CREATE_IN_PROGRESS"),
            event(10, "A", "AWS::SNS::Topic", "CREATE_COMPLETE"),
            event(10, "B", "AWS::SSM::Parameter", "CREATE_IN_PROGRESS"),
            event(20, "C", "AWS::SQS::Queue", "CREATE_COMPLETE"),
            event(20, "D", "AWS::SSM::Parameter", "CREATE_IN_PROGRESS"),
            event(30, "D", "AWS::SSM::Parameter", "CREATE_COMPLETE"),
            event(40, "B", "AWS::SSM::Parameter", "CREATE_COMPLETE"),
            event(41, "web", "AWS::CloudFormation::Stack", "CREATE_COMPLETE"),
        ])

    @Test func theCriticalPathFollowsTheDependenciesThatEndedLast() {
        let chart = GanttChart(
            log: Self.log, stack: "web", dependencies: ["B": ["A"], "D": ["C"], "A": [], "C": []])
        #expect(chart.rows.map(\.id) == ["A", "C", "B", "D"])
        #expect(chart.rows.filter(\.critical).map(\.id) == ["A", "B"])
        // Without the template, what ended just before each start stands for its dependency.
        let guessed = GanttChart(log: Self.log, stack: "web", dependencies: nil)
        #expect(guessed.rows.filter(\.critical).map(\.id) == ["A", "B"])
    }

    /// Through a nested stack: the nested stack waits for its own resources (as the engine
    /// gives them, `BuildForecaster.dependencies(of:)`), so the path reaches the nested
    /// resource that held it up.
    @Test func theCriticalPathRunsThroughNestedStacks() {
        let log = BuildLog(
            build: BuildSummary(
                id: 8, formation: "web", operation: "create", status: "CREATE_COMPLETE",
                startedAt: "2026-11-29T04:00:00Z", finishedAt: "2026-11-29T04:00:46Z", succeeded: true,
                error: nil),
            events: [
                (0, "Topic", "CREATE_IN_PROGRESS"), (5, "Topic", "CREATE_COMPLETE"),
                (5, "Network", "CREATE_IN_PROGRESS"), (6, "Network/Queue", "CREATE_IN_PROGRESS"),
                (6, "Network/Inner", "CREATE_IN_PROGRESS"), (7, "Network/Inner/Leaf", "CREATE_IN_PROGRESS"),
                (10, "Network/Queue", "CREATE_COMPLETE"), (10, "Network/Setting", "CREATE_IN_PROGRESS"),
                (15, "Network/Setting", "CREATE_COMPLETE"), (37, "Network/Inner/Leaf", "CREATE_COMPLETE"),
                (38, "Network/Inner", "CREATE_COMPLETE"), (40, "Network", "CREATE_COMPLETE"),
                (40, "Done", "CREATE_IN_PROGRESS"), (45, "Done", "CREATE_COMPLETE"),
            ].map { Self.event($0.0, $0.1, "AWS::SSM::Parameter", $0.2) })
        let chart = GanttChart(
            log: log, stack: "web",
            dependencies: [
                "Topic": [], "Network/Queue": ["Topic"], "Network/Setting": ["Network/Queue"],
                "Network/Inner/Leaf": ["Topic"], "Network/Inner": ["Topic", "Network/Inner/Leaf"],
                "Network": ["Topic", "Network/Queue", "Network/Setting", "Network/Inner"],
                "Done": ["Network"],
            ])
        #expect(
            Set(chart.rows.filter(\.critical).map(\.id))
                == ["Topic", "Network/Inner/Leaf", "Network/Inner", "Network", "Done"])
    }

    @Test func theTerminalChartFitsTheWidthWithBarsInPlace() {
        let chart = GanttChart(log: Self.log, stack: "web", dependencies: ["B": ["A"], "D": ["C"]])
        for columns in [40, 80, 132] {
            let lines = chart.lines(columns: columns, color: false)
            #expect(lines.allSatisfy { $0.count < columns }, "\(lines)")
        }
        let lines = chart.lines(columns: 80, color: false)
        #expect(lines[0].hasPrefix("build 7: create CREATE_COMPLETE  41s"))
        let b = try? #require(lines.first { $0.hasPrefix("* B ") })
        let a = try? #require(lines.first { $0.hasPrefix("* A ") })
        let d = try? #require(lines.first { $0.hasPrefix("  D ") })
        // B starts where A ends; D's bar is not on the critical path.
        #expect(
            a?.lastIndex(of: "#").map { a!.distance(from: a!.startIndex, to: $0) }
                .map { $0 + 1 } == b?.firstIndex(of: "#").map { b!.distance(from: b!.startIndex, to: $0) })
        #expect(d?.contains("=") == true && d?.contains("#") == false)
        #expect(lines.last == "* critical path: A → B")
    }

    @Test func theHTMLPageIsStandaloneAndEscaped() {
        var log = Self.log
        log.events.append(Self.event(5, "<script>", "AWS::SNS::Topic", "CREATE_IN_PROGRESS"))
        let page = GanttChart(log: log, stack: "web", dependencies: nil).html(formation: "web")
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(!page.contains("<script>\""))
        #expect(page.contains("&lt;script&gt;"))
        #expect(!page.contains("http://") && !page.contains("https://"))
        #expect(page.components(separatedBy: "class=\"bar ").count - 1 == 5)
    }

    @Test func theLiveTableShowsTheEtaCountingDownAndOverdueResources() {
        var table = LiveTable(name: "web", color: false)
        for event in Self.log.events.prefix(5) { table.add(event.event) }
        table.estimate = BuildEstimate(
            done: 1, total: 4, rollingBack: false, elapsedSeconds: 12, remainingSeconds: 95, basis: "learned",
            overdue: [
                OverdueResource(
                    logicalID: "C", resourceType: "AWS::SQS::Queue", elapsedSeconds: 200, usualSeconds: 72,
                    p90Seconds: 108)
            ])
        table.estimatedAt = Date().addingTimeInterval(-5)
        let lines = table.lines(status: "CREATE_IN_PROGRESS", columns: 80, lines: 24)
        #expect(lines.allSatisfy { $0.count < 80 }, "\(lines)")
        #expect(
            lines.last?.hasPrefix(
                "  [" + String(repeating: "#", count: 7) + String(repeating: ".", count: 23)
                    + "] 1/4  ETA 1m 3") == true, "\(lines)")
        #expect(
            lines.contains { $0.hasPrefix("  C ") && $0.contains("OVERDUE (usually 1m 12s)") }, "\(lines)")
        #expect(!lines.contains { $0.hasPrefix("  A ") && $0.contains("OVERDUE") })

        table.estimate?.rollingBack = true
        table.estimate?.basis = "prior"
        let rollback = table.lines(status: "ROLLBACK_IN_PROGRESS", columns: 80, lines: 24)
        #expect(rollback.last?.hasPrefix("  rollback [") == true)
        #expect(rollback.last?.hasSuffix("(typical durations)") == true)
    }

    @Test func listingShowsABarAndTheEta() {
        let estimate = BuildEstimate(
            done: 3, total: 10, rollingBack: false, elapsedSeconds: 30, remainingSeconds: 130,
            basis: "learned")
        #expect(Nepho.FormationList.progress(estimate) == "[###.......] 3/10 ETA 2m 10s")
    }

    @Test func aBareChartFlagMeansTheTerminal() {
        #expect(
            CommandLineSpelling.normalize(["formation", "logs", "web", "--chart"])
                == ["formation:logs", "web", "--chart=terminal"])
        #expect(
            CommandLineSpelling.normalize(["formation:logs", "--chart", "html", "web"])
                == ["formation:logs", "--chart", "html", "web"])
        #expect(
            CommandLineSpelling.normalize(["formation:list", "--chart"]) == ["formation:list", "--chart"])
    }
}
