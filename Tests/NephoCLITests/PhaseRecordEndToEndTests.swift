import Foundation
import NephoAWS
import NephoSupport
import NephoTestBench
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The provisioner's phase record end to end (docs/provisioners.md): a held bench build
/// of a pattern that declares `NephoPhaseURL`, the real hand-off
/// (`scripts/lib/aws-handoff-tail.sh`) run here with a two-phase stand-in bootstrap and
/// the presigned URL the stack received, and the real `nepho`, daemon and monitors.
@Suite(.serialized)
struct PhaseRecordEndToEndTests {
    /// bench-demo's held pattern, plus the opt-in parameter.
    static let pattern = """
        AWSTemplateFormatVersion: '2010-09-09'
        Description: nepho bench-demo with a phase record (held until the bench releases it)
        Parameters:
          HoldFunctionArn:
            Type: String
          NephoPhaseURL:
            Type: String
            NoEcho: true
            Default: ''
        Resources:
          Topic:
            Type: AWS::SNS::Topic
          Hold:
            Type: Custom::Hold
            Properties:
              ServiceToken: !Ref HoldFunctionArn
              PhaseURL: !Ref NephoPhaseURL  # as a pattern's user data would use it
        Outputs:
          Released:
            Value: !GetAtt Hold.Message
        """

    /// The stand-in bootstrap: phase 1, then (once the test creates `go`) phase 2.
    static let standIn = """
        #!/usr/bin/env bash
        set -euo pipefail
        echo "NEPHO_PHASE 1/2 Installing the stand-in"
        for _ in $(seq 3000); do [ -e "$GO" ] && break; sleep 0.1; done
        echo "NEPHO_PHASE 2/2 Starting the stand-in"
        echo done
        """

    /// The hand-off as a pattern's user data assembles it (its files under `folder`
    /// instead of /etc/nepho, the instance metadata address a closed port), with the
    /// wait handle a closed port too: signals fail at once and are only reported.
    static func handOff(folder: URL, phaseURL: String) throws -> String {
        let etc = folder.appendingPathComponent("etc")
        try FileManager.default.createDirectory(at: etc, withIntermediateDirectories: true)
        try "http://127.0.0.1:1/signal\n".write(
            to: etc.appendingPathComponent("signal-url"), atomically: true, encoding: .utf8)
        try "\(phaseURL)\n".write(
            to: etc.appendingPathComponent("phase-url"), atomically: true, encoding: .utf8)
        try "GO=\(folder.path)/go\n".write(
            to: etc.appendingPathComponent("bootstrap.env"), atomically: true, encoding: .utf8)
        try standIn.write(to: etc.appendingPathComponent("bootstrap.sh"), atomically: true, encoding: .utf8)
        let tail = try String(
            contentsOf: NephoBinary.repository.appendingPathComponent("scripts/lib/aws-handoff-tail.sh"),
            encoding: .utf8)
        return String(tail.drop { $0 != "\n" }.dropFirst())  // the heredoc's end marker
            .replacingOccurrences(of: "/etc/nepho", with: etc.path)
            .replacingOccurrences(of: "/var/log/nepho-bootstrap.log", with: folder.path + "/bootstrap.log")
            .replacingOccurrences(of: "169.254.169.254", with: "127.0.0.1:1")
    }

    func eventIDs(_ fixture: FormationFixture, _ name: String) async throws -> [String] {
        let logs = fixture.json(try await fixture.nepho.run(["formation:logs", name, "-o", "json"]).output)
        return (logs["builds"] as? [[String: Any]] ?? []).flatMap { build in
            (build["events"] as? [[String: Any]] ?? []).compactMap {
                ($0["event"] as? [String: Any])?["eventID"] as? String
            }
        }
    }

    func waitForEvent(_ fixture: FormationFixture, _ name: String, _ id: String) async throws -> Bool {
        for _ in 0..<600 {
            if try await eventIDs(fixture, name).contains(id) { return true }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        return false
    }

    /// Every file under `folder` (logs, the database and its WAL) that contains `secret`.
    func filesContaining(_ secret: String, under folder: URL) -> [String] {
        let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
        var found: [String] = []
        while let url = enumerator?.nextObject() as? URL {
            if let data = try? Data(contentsOf: url), data.range(of: Data(secret.utf8)) != nil {
                found.append(url.path)
            }
        }
        return found
    }

    @Test func phasesReachWatchOnceEachAcrossAKilledMonitor() async throws {
        let fixture = try await FormationFixture.make()
        defer { Task { await fixture.stop() } }
        fixture.nepho.environment["NEPHO_MONITOR_PHASE_INTERVAL"] = "1"
        fixture.addScenario(
            "phased", pattern: Self.pattern,
            extra: "parameters:\n  HoldFunctionArn:\n    description: the bench's hold function")
        let arn = try await fixture.bench.holdFunction()
        let name = FormationFixture.unique("phased")
        let create = try await fixture.nepho.run([
            "create", "bench-demo/phased", "--name", name, "-p", "HoldFunctionArn=\(arn)", "--detach",
        ])
        #expect(create.succeeded, "\(create.errorOutput)")

        // The URL as the instance gets it: the stack's parameter (moto's DescribeStacks
        // shows NoEcho values; AWS masks them).
        let stack = try #require(
            try await fixture.bench.session().cloudFormation().describeStacks(name).first)
        let phaseURL = try #require(stack.parameters["NephoPhaseURL"])
        #expect(phaseURL.contains("/nepho-templates-123456789012-us-east-1/phases/\(name)/"))
        let signature = try #require(
            phaseURL.components(separatedBy: "X-Amz-Signature=").last.map { String($0.prefix(64)) })
        #expect(signature.count == 64)

        let build = try #require(
            (try await fixture.describe(name)["builds"] as? [[String: Any]])?.last?["id"] as? Int)
        let folder = fixture.nepho.home.deletingLastPathComponent().appendingPathComponent("instance")
        let script = try Self.handOff(folder: folder, phaseURL: phaseURL)
        let handOff = Task {
            try await ProcessRunner.run(
                "bash", ["-c", script],
                environment: [
                    "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                    "NEPHO_SIGNAL_RETRIES": "0",
                ], timeout: 600)
        }
        // Phase 1 reaches the monitor while the bootstrap waits.
        #expect(try await waitForEvent(fixture, name, "phase-\(build)-1-of-2"))

        // A monitor killed now is replaced, and the new one stores nothing twice.
        let first = try #require(try await fixture.monitorPID(name))
        kill(first, SIGKILL)
        var second: pid_t?
        for _ in 0..<300 where second == nil {
            try await Task.sleep(nanoseconds: 100_000_000)
            if let pid = try await fixture.monitorPID(name), pid != first { second = pid }
        }
        #expect(second != nil, "no monitor replaced the killed one")

        _ = FileManager.default.createFile(atPath: folder.appendingPathComponent("go").path, contents: Data())
        let ran = try await handOff.value
        #expect(ran.status == 0, "\(ran.errorOutput)")
        #expect(ran.errorOutput.contains("nepho: signal phase-1-of-2 not delivered"))
        #expect(!ran.errorOutput.contains("phase record not delivered"), "\(ran.errorOutput)")
        #expect(try await waitForEvent(fixture, name, "phase-\(build)-result"))

        try await fixture.bench.release(stackId: stack.stackId, data: ["Message": "done"])
        let watch = try await fixture.nepho.run(["formation:watch", name, "-o", "json"])
        #expect(watch.status == 0, "\(watch.errorOutput)")
        let lines = watch.output.split(separator: "\n").map { fixture.json(String($0)) }
        let provisioner = lines.filter { $0["logicalID"] as? String == "Provisioner" }
        #expect(
            provisioner.map { $0["status"] as? String ?? "" } == [
                "PHASE 1/2", "PHASE 2/2", "PROVISIONER_SUCCESS",
            ])
        #expect(
            provisioner.map { $0["reason"] as? String ?? "" } == [
                "NEPHO_PHASE 1/2 Installing the stand-in", "NEPHO_PHASE 2/2 Starting the stand-in",
                "NEPHO_RESULT SUCCESS bootstrap finished",
            ])
        #expect(provisioner.allSatisfy { $0["resourceType"] as? String == "Nepho::Provisioner" })
        #expect(lines.last?["type"] as? String == "end")

        let ids = try await eventIDs(fixture, name)
        #expect(Set(ids).count == ids.count, "an event was stored twice: \(ids)")
        #expect(ids.filter { $0.hasPrefix("phase-\(build)-") }.count == 3)

        // The URL is a secret: not in state.db (nor its WAL), the logs, or describe.
        let describe = try await fixture.nepho.run(["formation:describe", name, "-o", "json"])
        #expect(!describe.output.contains(signature))
        let parameters = fixture.json(describe.output)["parameters"] as? [String: String]
        #expect(parameters?["NephoPhaseURL"] == "********", "\(describe.output)")
        #expect(filesContaining(signature, under: fixture.nepho.home).isEmpty)
        #expect(filesContaining(signature, under: fixture.nepho.runtime).isEmpty)
        #expect(!watch.output.contains(signature) && !watch.errorOutput.contains(signature))
    }
}
