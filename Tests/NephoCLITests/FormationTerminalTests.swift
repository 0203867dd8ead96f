import Foundation
import NephoSupport
import NephoTestBench
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `formation:watch` and `create` on a real terminal: the real `nepho` runs on a
/// pseudo-terminal (its own session, the terminal as its controlling terminal,
/// TERM=xterm, 80 × 24), against the daemon, the monitors and the test bench. The bench
/// scripts each stack over time and holds it at a resource until the test lets it go.
@Suite(.serialized)
struct FormationTerminalTests {
    /// The bench-demo stack plus a wait condition whose signals are the provisioner's phases.
    static let phasedPattern = """
        AWSTemplateFormatVersion: '2010-09-09'
        Description: bench-demo with a wait condition (provisioner phases)
        Parameters:
          Greeting:
            Type: String
            Default: hello
        Resources:
          Topic:
            Type: AWS::SNS::Topic
          Setting:
            Type: AWS::SSM::Parameter
            Properties:
              Name: !Sub '${AWS::StackName}-greeting'
              Type: String
              Value: !Ref Greeting
          ReadyHandle:
            Type: AWS::CloudFormation::WaitConditionHandle
          Ready:
            Type: AWS::CloudFormation::WaitCondition
            Properties:
              Handle: !Ref ReadyHandle
              Timeout: '1800'
              Count: 3
        Outputs:
          URL:
            Value: http://127.0.0.1/bench-demo
        """

    static let escape = "\u{1B}["

    /// Whether `raw` holds an SGR (colour or style) sequence.
    func hasColour(_ raw: String) -> Bool {
        raw.range(of: "\u{1B}\\[[0-9;]*m", options: .regularExpression) != nil
    }

    /// The screen row of resource `id` (the table indents rows by two spaces).
    func row(_ screen: TerminalScreen, _ id: String) -> [String] {
        screen.lines.filter { $0.hasPrefix("  \(id) ") }
    }

    @Test func liveTableShowsResourcesPhasesAndProgressRedrawnInPlace() async throws {
        let fixture = try await FormationFixture.make()
        defer { Task { await fixture.stop() } }
        fixture.addScenario("phased", pattern: Self.phasedPattern)
        let name = FormationFixture.unique("live")
        try await fixture.bench.script(stack: name, stepSeconds: 0.2, holding: [.create: "Ready"])
        let create = try await fixture.nepho.run(["create", "bench-demo/phased", "--name", name, "--detach"])
        #expect(create.status == 0, "\(create.output)\(create.errorOutput)")

        let pty = try PseudoTerminal(columns: 80, rows: 24)
        let watch = try fixture.onTerminal(pty, ["formation:watch", name])
        // Held at the wait condition: the resources before it are done, it is at work.
        let held = await pty.waitFor { raw in
            let screen = TerminalScreen(raw)
            return row(screen, "Ready").first?.contains("CREATE_IN_PROGRESS") == true
                && row(screen, "ReadyHandle").first?.contains("CREATE_COMPLETE") == true
        }
        #expect(held, "\(TerminalScreen(pty.screen()).text)")
        for phase in 1...2 {
            try await fixture.bench.signal(stack: name, logicalId: "Ready", uniqueId: "phase-\(phase)-of-2")
            let shown = await pty.waitFor {
                TerminalScreen($0).text.contains("  provisioner: \(phase)/2 phase \(phase) of 2")
            }
            #expect(shown, "phase \(phase): \(TerminalScreen(pty.screen()).text)")
        }
        try await fixture.bench.releaseHold(stack: name)
        let status = await watch.exitStatus(timeout: 180)
        #expect(status == 0, "\(pty.screen())")

        let raw = pty.screen()
        let screen = TerminalScreen(raw)
        // Redrawn in place: cursor up and erase, and one table on the screen, not a copy per redraw.
        #expect(raw.range(of: "\u{1B}\\[[0-9]+A\u{1B}\\[J", options: .regularExpression) != nil)
        let headers = screen.lines.filter { $0.hasPrefix("\(name)  ") }
        #expect(headers.count == 1, "\(screen.lines.joined(separator: "\n"))")
        #expect(headers.first?.contains("CREATE_COMPLETE") == true)
        for resource in ["Topic", "Setting", "ReadyHandle", "Ready", name] {
            let rows = row(screen, resource)
            #expect(rows.count == 1 && rows[0].contains("CREATE_COMPLETE"), "\(resource): \(screen.text)")
        }
        #expect(screen.text.contains("  provisioner: 2/2 phase 2 of 2"))
        #expect(screen.text.contains("  [" + String(repeating: "#", count: 30) + "] 4/4"), "\(screen.text)")
        // Nothing wrapped: every line fits the 80 columns.
        #expect(screen.lines.allSatisfy { $0.count < 80 }, "\(screen.lines)")
        // The end: the build finished, then the outputs.
        let finished = try #require(screen.text.firstIndex(of: "\(name): create finished: CREATE_COMPLETE"))
        #expect(screen.text[(finished + 1)...].allSatisfy { $0.hasPrefix("  URL: ") || $0.hasPrefix("  ") })
        #expect(screen.text.last == "  URL: http://127.0.0.1/bench-demo")
        // Colour on the terminal: statuses in green (done) and yellow (at work).
        #expect(raw.contains("\(Self.escape)32mCREATE_COMPLETE"))
        #expect(raw.contains("\(Self.escape)33mCREATE_IN_PROGRESS"))

        // NO_COLOR: the same table, no colour.
        let plain = try PseudoTerminal(columns: 80, rows: 24)
        let replay = try fixture.onTerminal(plain, ["formation:watch", name], ["NO_COLOR": "1"])
        #expect(await replay.exitStatus(timeout: 120) == 0)
        let plainScreen = TerminalScreen(plain.screen())
        #expect(!hasColour(plain.screen()), "\(plain.screen())")
        #expect(row(plainScreen, "Ready").first?.contains("CREATE_COMPLETE") == true)
        #expect(plainScreen.text.contains("\(name): create finished: CREATE_COMPLETE"))

        // Not a terminal: one line per event, no escape sequences at all.
        let piped = try await fixture.nepho.run(["formation:watch", name])
        #expect(piped.status == 0)
        #expect(!piped.output.contains("\u{1B}"))
        let lines = piped.output.split(separator: "\n")
        #expect(
            lines.filter { $0.contains("  Ready  ") && $0.contains("phase-1-of-2") }.count == 1,
            "\(piped.output)")
        #expect(lines.contains { $0.contains("  Topic  AWS::SNS::Topic  CREATE_COMPLETE") })
    }

    @Test func ctrlCWhileWatchingDetachesAndTheBuildGoesOn() async throws {
        let fixture = try await FormationFixture.make()
        defer { Task { await fixture.stop() } }
        let name = FormationFixture.unique("detach")
        try await fixture.bench.script(stack: name, stepSeconds: 0.2, holding: [.create: "Setting"])
        let create = try await fixture.nepho.run(["create", "bench-demo", "--name", name, "--detach"])
        #expect(create.status == 0, "\(create.errorOutput)")

        let pty = try PseudoTerminal()
        let watch = try fixture.onTerminal(pty, ["formation:watch", name])
        let held = await pty.waitFor {
            row(TerminalScreen($0), "Setting").first?.contains("CREATE_IN_PROGRESS") == true
        }
        #expect(held, "\(TerminalScreen(pty.screen()).text)")
        pty.interrupt()
        #expect(await watch.exitStatus(timeout: 60) == 130)
        #expect(
            pty.screen().contains(
                "\r\ndetached; the build goes on. Reattach with: nepho formation:watch \(name)\r\n"),
            "\(pty.screen())")
        try await expectBuildGoesOn(fixture, name)

        // Reattach: the history, then live to the end once the bench lets the build go.
        let again = try PseudoTerminal()
        let reattached = try fixture.onTerminal(again, ["formation:watch", name])
        let replayed = await again.waitFor { raw in
            let screen = TerminalScreen(raw)
            return row(screen, "Topic").first?.contains("CREATE_COMPLETE") == true
                && row(screen, "Setting").first?.contains("CREATE_IN_PROGRESS") == true
        }
        #expect(replayed, "\(TerminalScreen(again.screen()).text)")
        try await fixture.bench.releaseHold(stack: name)
        #expect(await reattached.exitStatus(timeout: 180) == 0, "\(again.screen())")
        let screen = TerminalScreen(again.screen())
        #expect(row(screen, "Setting").first?.contains("CREATE_COMPLETE") == true, "\(screen.text)")
        #expect(screen.text.contains("\(name): create finished: CREATE_COMPLETE"))
    }

    @Test func ctrlCWhileCreateWatchesDetachesAndTheBuildGoesOn() async throws {
        let fixture = try await FormationFixture.make()
        defer { Task { await fixture.stop() } }
        let name = FormationFixture.unique("create-detach")
        try await fixture.bench.script(stack: name, stepSeconds: 0.2, holding: [.create: "Setting"])

        let pty = try PseudoTerminal()
        let create = try fixture.onTerminal(pty, ["create", "bench-demo", "--name", name])
        let held = await pty.waitFor {
            row(TerminalScreen($0), "Setting").first?.contains("CREATE_IN_PROGRESS") == true
        }
        #expect(held, "\(TerminalScreen(pty.screen()).text)")
        pty.interrupt()
        #expect(await create.exitStatus(timeout: 60) == 130)
        let text = TerminalScreen(pty.screen()).text
        #expect(text.contains { $0.hasPrefix("\(name): creating (build ") }, "\(text)")
        #expect(
            pty.screen().contains(
                "\r\ndetached; the build goes on. Reattach with: nepho formation:watch \(name)\r\n"),
            "\(text)")
        try await expectBuildGoesOn(fixture, name)

        let watch = Task { try await fixture.nepho.run(["formation:watch", name]) }
        try await Task.sleep(nanoseconds: 1_000_000_000)
        try await fixture.bench.releaseHold(stack: name)
        let watched = try await watch.value
        #expect(watched.status == 0, "\(watched.output)\(watched.errorOutput)")
        #expect(watched.output.contains("Setting  AWS::SSM::Parameter  CREATE_IN_PROGRESS"))
        #expect(watched.output.contains("\(name): create finished: CREATE_COMPLETE"))
    }

    /// After a detach: the build is still recorded as running, its monitor still runs,
    /// and CloudFormation still builds the stack.
    func expectBuildGoesOn(_ fixture: FormationFixture, _ name: String) async throws {
        let detail = try await fixture.describe(name)
        let last = (detail["builds"] as? [[String: Any]])?.last
        #expect(last?["finishedAt"] == nil || last?["finishedAt"] is NSNull, "\(detail)")
        #expect(detail["status"] as? String == "CREATE_IN_PROGRESS", "\(detail)")
        let monitor = try await fixture.monitorPID(name)
        #expect(monitor.map { kill($0, 0) == 0 } == true, "no monitor runs for the build")
        #expect(try await fixture.stackStatus(name) == "CREATE_IN_PROGRESS")
    }
}
