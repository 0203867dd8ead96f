import Foundation
import NephoSupport
import NephoTestBench
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Progress and the ETA learned from this nanny's own builds, end to end (docs/formations.md,
/// "Progress and ETA"): the real `nepho` and `nephod` against the test bench, which scripts
/// each stack's resources over time. After three builds of a scenario the fourth is held at
/// a resource: the live table on an 80 × 24 terminal shows the bar with the template's
/// count and an ETA, and marks the held resource OVERDUE once it runs past its p90;
/// `formation:list` and `-o json` show the same. Then `formation:logs --chart` on the
/// terminal, and `--chart html` in headless Chromium.
@Suite(.serialized)
struct FormationProgressTests {
    static let pattern = """
        AWSTemplateFormatVersion: '2010-09-09'
        Resources:
          Topic:
            Type: AWS::SNS::Topic
          Setting:
            Type: AWS::SSM::Parameter
            Properties:
              Name: !Sub '${AWS::StackName}-setting'
              Type: String
              Value: !GetAtt Topic.TopicName
          Note:
            Type: AWS::SSM::Parameter
            DependsOn: Setting
            Properties:
              Name: !Sub '${AWS::StackName}-note'
              Type: String
              Value: note
        """

    func row(_ screen: TerminalScreen, _ id: String) -> String? {
        screen.lines.first { $0.hasPrefix("  \(id) ") }
    }

    /// An update's progress counts what its change set plans from the build's first moment,
    /// not only the resources its events have named so far: here the update is held at its
    /// first resource while `Note` (modified) and `Extra` (added, after `Note`) are still to
    /// come. (The test bench walks every resource of the template in an update, so the
    /// count also takes in those it touches beyond the plan.)
    @Test func anUpdatesProgressCountsItsChangeSetFromItsStart() async throws {
        let fixture = try await FormationFixture.make()
        defer { Task { await fixture.stop() } }
        fixture.addScenario("chain", pattern: Self.pattern)
        let name = FormationFixture.unique("plan")
        let create = try await fixture.nepho.run(["create", "bench-demo/chain", "--name", name])
        #expect(create.status == 0, "\(create.output)\(create.errorOutput)")
        fixture.addScenario(
            "chain",
            pattern: Self.pattern.replacingOccurrences(of: "Value: note", with: "Value: note, changed")
                + """

                  Extra:
                    Type: AWS::SSM::Parameter
                    DependsOn: Note
                    Properties:
                      Name: !Sub '${AWS::StackName}-extra'
                      Type: String
                      Value: extra
                """)
        try await fixture.bench.script(stack: name, stepSeconds: 0.2, holding: [.update: "Topic"])
        let update = try await fixture.nepho.run(["formation:update", name, "--yes", "--detach"])
        #expect(update.status == 0, "\(update.output)\(update.errorOutput)")
        var progress: [String: Any] = [:]
        for _ in 0..<300 {
            let listed = fixture.json(try await fixture.nepho.run(["formation:list", "-o", "json"]).output)
            let formation = (listed["formations"] as? [[String: Any]])?.first {
                $0["name"] as? String == name
            }
            let logs = fixture.json(
                try await fixture.nepho.run(["formation:logs", name, "-o", "json"]).output)
            let last = ((logs["builds"] as? [[String: Any]])?.last?["events"] as? [[String: Any]] ?? [])
                .compactMap { $0["event"] as? [String: Any] }
            let held = last.contains {
                $0["logicalID"] as? String == "Topic" && $0["status"] as? String == "UPDATE_IN_PROGRESS"
            }
            if held, let found = formation?["progress"] as? [String: Any] {
                progress = found
                break
            }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        // Held at Topic, the only resource named so far: Topic, Note and Extra to do.
        #expect(progress["done"] as? Int == 0 && progress["total"] as? Int == 3, "\(progress)")
        try await fixture.bench.releaseHold(stack: name)
        let watched = try await fixture.nepho.run(["formation:watch", name, "-o", "json"])
        #expect(watched.status == 0, "\(watched.output)\(watched.errorOutput)")
        let lines = watched.output.split(separator: "\n").map { fixture.json(String($0)) }
        let counts = lines.filter { $0["type"] as? String == "progress" }.compactMap { line in
            (line["done"] as? Int).flatMap { done in (line["total"] as? Int).map { (done, $0) } }
        }
        // Never above the total, never down, and all of it done at the end.
        #expect(counts.allSatisfy { $0.0 <= $0.1 }, "\(counts)")
        #expect(zip(counts, counts.dropFirst()).allSatisfy { $0.0 <= $1.0 }, "\(counts)")
        #expect(counts.last.map { $0.0 == $0.1 && $0.1 >= 3 } == true, "\(counts)")
    }

    @Test func etaAndOverdueLearnedFromEarlierBuildsThenTheChart() async throws {
        let fixture = try await FormationFixture.make()
        defer { Task { await fixture.stop() } }
        fixture.addScenario("chain", pattern: Self.pattern)
        // Three builds to learn from: each resource takes about a second.
        for index in 1...3 {
            let name = FormationFixture.unique("learn\(index)")
            try await fixture.bench.script(stack: name, stepSeconds: 1)
            let create = try await fixture.nepho.run(["create", "bench-demo/chain", "--name", name])
            #expect(create.status == 0, "\(create.output)\(create.errorOutput)")
        }

        let name = FormationFixture.unique("eta")
        try await fixture.bench.script(stack: name, stepSeconds: 1, holding: [.create: "Note"])
        let create = try await fixture.nepho.run(["create", "bench-demo/chain", "--name", name, "--detach"])
        #expect(create.status == 0, "\(create.output)\(create.errorOutput)")

        let pty = try PseudoTerminal(columns: 80, rows: 24)
        let watch = try fixture.onTerminal(pty, ["formation:watch", name])
        // Held at Note: two of three done, an ETA learned (no "typical durations"), then
        // Note runs past its p90 (about 1 s) and is marked with how long it usually takes.
        let overdue = await pty.waitFor(timeout: 60) { raw in
            let screen = TerminalScreen(raw)
            return row(screen, "Note")?.contains("OVERDUE (usually 1s)") == true
                && screen.lines.contains {
                    $0.hasPrefix("  [" + String(repeating: "#", count: 20) + "..........] 2/3  ETA ")
                }
        }
        let heldScreen = TerminalScreen(pty.screen())
        #expect(overdue, "\(heldScreen.text)")
        #expect(!heldScreen.text.joined().contains("typical durations"), "\(heldScreen.text)")
        #expect(heldScreen.lines.allSatisfy { $0.count < 80 }, "\(heldScreen.lines)")

        // formation:list: the build in flight with its bar and ETA; -o json with the fields.
        let list = try await fixture.nepho.run(["formation:list"])
        let line = try #require(list.output.split(separator: "\n").first { $0.hasPrefix(name + " ") })
        #expect(list.output.split(separator: "\n").first?.hasSuffix("PROGRESS") == true, "\(list.output)")
        #expect(line.contains("[######....] 2/3 ETA ") && line.contains("(1 overdue)"), "\(list.output)")
        let listed = fixture.json(try await fixture.nepho.run(["formation:list", "-o", "json"]).output)
        let formations = listed["formations"] as? [[String: Any]] ?? []
        let progress = try #require(
            formations.first { $0["name"] as? String == name }?["progress"] as? [String: Any])
        #expect(progress["done"] as? Int == 2 && progress["total"] as? Int == 3)
        #expect((progress["remainingSeconds"] as? Double).map { $0 >= 0 } == true)
        #expect(progress["basis"] as? String == "learned")
        #expect((progress["overdue"] as? [[String: Any]])?.first?["logicalID"] as? String == "Note")
        // A finished formation has no progress.
        #expect(formations.filter { $0["progress"] != nil }.count == 1)

        // -o json while watching: progress lines with the overdue resource.
        let json = Task { try await fixture.nepho.run(["formation:watch", name, "-o", "json"]) }
        try await Task.sleep(nanoseconds: 2_000_000_000)
        try await fixture.bench.releaseHold(stack: name)
        #expect(await watch.exitStatus(timeout: 120) == 0, "\(pty.screen())")
        let done = TerminalScreen(pty.screen())
        #expect(done.text.contains("  [" + String(repeating: "#", count: 30) + "] 3/3"), "\(done.text)")
        let lines = try await json.value.output.split(separator: "\n").map { fixture.json(String($0)) }
        let progressLines = lines.filter { $0["type"] as? String == "progress" }
        #expect(!progressLines.isEmpty)
        #expect(
            progressLines.contains {
                ($0["overdue"] as? [[String: Any]])?.first?["usualSeconds"] as? Double != nil
                    && $0["done"] as? Int == 2 && $0["total"] as? Int == 3
            }, "\(lines)")
        #expect(progressLines.allSatisfy { ($0["done"] as? Int ?? 99) <= ($0["total"] as? Int ?? 0) })

        // The chart on an 80 × 24 terminal: one row per resource, the critical path marked.
        let chartPTY = try PseudoTerminal(columns: 80, rows: 24)
        let chart = try fixture.onTerminal(chartPTY, ["formation:logs", name, "--chart"])
        #expect(await chart.exitStatus(timeout: 60) == 0, "\(chartPTY.screen())")
        let screen = TerminalScreen(chartPTY.screen())
        #expect(screen.lines.allSatisfy { $0.count < 80 }, "\(screen.lines)")
        #expect(
            screen.text.first?.hasPrefix("build ") == true
                && screen.text.first?.contains("CREATE_COMPLETE") == true)
        for id in ["Topic", "Setting", "Note"] {
            #expect(screen.text.contains { $0.hasPrefix("* \(id) ") && $0.contains("#") }, "\(screen.text)")
        }
        #expect(screen.text.contains("* critical path: Topic → Setting → Note"), "\(screen.text)")
        #expect(chartPTY.screen().contains("\u{1B}[1;33m"), "colour on a terminal")

        // The HTML page, laid out by headless Chromium.
        let html = try await fixture.nepho.run(["formation:logs", name, "--chart", "html"])
        #expect(html.status == 0, "\(html.errorOutput)")
        let page = fixture.nepho.home.appendingPathComponent("chart.html")
        try html.output.write(to: page, atomically: true, encoding: .utf8)
        let dom = try #require(
            try await Self.chromiumDOM(page),
            "no Chromium: scripts/test installs it (apt-get install chromium)")
        #expect(dom.contains("data-layout=\"ok\""), "\(dom.prefix(2000))")
        #expect(dom.contains("data-bars=\"3\""))
        #expect(dom.contains("data-critical=\"3\""))
        #expect(dom.contains("Critical path: Topic → Setting → Note"))
    }

    /// The DOM headless Chromium made of `page` after its scripts ran; nil without Chromium.
    static func chromiumDOM(_ page: URL) async throws -> String? {
        let candidates = [
            ProcessInfo.processInfo.environment["CHROMIUM"], "/usr/bin/chromium", "/usr/bin/chromium-browser",
        ]
        guard
            let path = candidates.compactMap({ $0 }).first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        else { return nil }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let result = try await ProcessRunner.run(
            path,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--user-data-dir=\(profile.path)",
                "--dump-dom", page.absoluteString,
            ], timeout: 90)
        return result.output
    }
}
