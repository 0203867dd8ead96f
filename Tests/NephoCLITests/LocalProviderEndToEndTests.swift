import Foundation
import NephoSupport
import Testing

/// A third provider plugs into nepho through the provider registry alone: `nephod-local`
/// (Tests/LocalProvider) is nephod with the test-only `local` provider added, whose build
/// is a shell script. The real `nepho` starts it as its daemon; create → watch → destroy
/// run through the real lifecycle, monitor host and monitor processes.
@Suite(.serialized)
struct LocalProviderEndToEndTests {
    func setUp() throws -> (NephoBinary, release: URL) {
        let nepho = NephoBinary()
        nepho.environment["NEPHOD_PATH"] =
            (NephoBinary.executable as NSString).deletingLastPathComponent + "/nephod-local"
        let release = nepho.home.deletingLastPathComponent().appendingPathComponent("release")
        nepho.write([
            "cloudlets/boxes/cloudlet.yaml": """
            name: boxes
            version: 1.0.0
            summary: boxes built by a script
            """,
            "cloudlets/boxes/scenarios/default.yaml": """
            summary: one box
            provider: local
            pattern: local/box.sh
            parameters:
              Greeting:
                default: hello
                description: what the box says
            """,
            "cloudlets/boxes/patterns/local/box.sh": """
            echo "$1 begins"
            echo "the box says $NEPHO_PARAM_Greeting"
            if [ "$1" = create ]; then
              while [ ! -f '\(release.path)' ]; do sleep 0.1; done
            fi
            echo "$1 ends"
            """,
        ])
        return (nepho, release)
    }

    func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    func reasons(_ nepho: NephoBinary, _ name: String) async throws -> [String] {
        let logs = try await nepho.run(["formation:logs", name, "-o", "json"])
        let builds = json(logs.output)["builds"] as? [[String: Any]] ?? []
        return builds.flatMap { build in
            (build["events"] as? [[String: Any]] ?? []).compactMap {
                ($0["event"] as? [String: Any])?["reason"] as? String
            }
        }
    }

    @Test func aTestOnlyProviderRunsCreateWatchDestroyThroughTheDaemonAndMonitor() async throws {
        let (nepho, release) = try setUp()
        defer { Task { _ = try? await nepho.run(["daemon:stop"]) } }

        let validate = try await nepho.run(["cloudlet:validate", "boxes"])
        #expect(validate.status == 0, "\(validate.output)\(validate.errorOutput)")

        let create = try await nepho.run([
            "create", "boxes", "--name", "box1", "-p", "Greeting=hi", "--detach",
        ])
        #expect(create.status == 0, "\(create.output)\(create.errorOutput)")

        // The build is held by its script: the monitor has stored what it printed so far.
        var seen: [String] = []
        for _ in 0..<300 where !seen.contains("the box says hi") {
            seen = try await reasons(nepho, "box1")
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(seen == ["create begins", "the box says hi"])
        let held = json(try await nepho.run(["formation:describe", "box1", "-o", "json"]).output)
        #expect(held["status"] as? String == "CREATE_IN_PROGRESS")
        #expect(held["provider"] as? String == "local")

        try Data().write(to: release)
        let watch = try await nepho.run(["formation:watch", "box1", "-o", "json"])
        #expect(watch.status == 0, "\(watch.output)\(watch.errorOutput)")
        #expect(try await reasons(nepho, "box1") == ["create begins", "the box says hi", "create ends"])

        let list = try await nepho.run(["formation:list", "-o", "json"])
        let formations = json(list.output)["formations"] as? [[String: Any]] ?? []
        #expect(
            formations.first { $0["name"] as? String == "box1" }?["status"] as? String == "CREATE_COMPLETE")

        let update = try await nepho.run(["formation:update", "box1", "-p", "Greeting=bye"])
        #expect(update.status != 0 && update.errorOutput.contains("has no update"))

        let destroy = try await nepho.run(["destroy", "box1", "--yes"])
        #expect(destroy.status == 0, "\(destroy.output)\(destroy.errorOutput)")
        let gone = json(try await nepho.run(["formation:describe", "box1", "-o", "json"]).output)
        #expect(gone["status"] as? String == "DELETE_COMPLETE")
        #expect(
            try await reasons(nepho, "box1").suffix(3) == [
                "destroy begins", "the box says hi", "destroy ends",
            ])
        #expect(!FileManager.default.fileExists(atPath: nepho.home.appendingPathComponent("local/box1").path))

        // The name is free again.
        let again = try await nepho.run(["create", "boxes", "--name", "box1", "--detach"])
        #expect(again.status == 0, "\(again.errorOutput)")
    }

    /// One rule for a formation's name, whichever provider builds it, with one message.
    @Test func everyProviderRefusesABadNameWithTheSameMessage() async throws {
        let (nepho, release) = try setUp()
        try Data().write(to: release)
        defer { Task { _ = try? await nepho.run(["daemon:stop"]) } }
        for name in ["web_1", "1box", "a.b", String(repeating: "x", count: 101)] {
            var messages: Set<String> = []
            for provider in ["local", "aws", "vagrant"] {
                let create = try await nepho.run(
                    ["create", "boxes", "--name", name, "--provider", provider, "--detach"])
                #expect(create.status != 0)
                messages.insert(create.errorOutput)
            }
            #expect(messages.count == 1, "\(messages)")
            #expect(
                messages.first?.contains("\"\(name)\" is not a valid formation name") == true, "\(messages)")
        }
        let longest = try await nepho.run(
            ["create", "boxes", "--name", "b" + String(repeating: "x", count: 99), "--detach"])
        #expect(longest.status == 0, "\(longest.errorOutput)")
    }

    @Test func theStandardNephodDoesNotKnowTheTestProvider() async throws {
        let (nepho, _) = try setUp()
        nepho.environment["NEPHOD_PATH"] =
            (NephoBinary.executable as NSString).deletingLastPathComponent + "/nephod"
        defer { Task { _ = try? await nepho.run(["daemon:stop"]) } }
        let create = try await nepho.run(["create", "boxes", "--name", "box1", "--detach"])
        #expect(create.status != 0)
        #expect(create.errorOutput.contains("unknown provider \"local\" (nepho knows: aws, vagrant)"))
    }
}
