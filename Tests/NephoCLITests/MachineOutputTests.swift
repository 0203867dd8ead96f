import Foundation
import NephoSupport
import Testing

/// `-o json` and `-o yaml` of the build commands, read back with real parsers: JSON
/// Lines (one object a line, the last the outcome) and YAML streams (`---` documents);
/// and what a user reads when AWS cannot be reached.
@Suite(.serialized) struct MachineOutputTests {
    /// Each line of `text` as a JSON object; a line that is not one fails the test.
    func jsonLines(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").map { line in
            let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            #expect(object != nil, "not a JSON object: \(line)")
            return object ?? [:]
        }
    }

    /// The documents of a YAML stream, read by PyYAML.
    func yamlDocuments(_ text: String) async throws -> [[String: Any]] {
        let result = try await ProcessRunner.run(
            "python3",
            [
                "-c",
                "import sys, yaml, json; print(json.dumps(list(yaml.safe_load_all(sys.stdin)), default=str))",
            ],
            input: Data(text.utf8), timeout: 60)
        #expect(result.succeeded, "PyYAML: \(result.errorOutput)\n\(text)")
        return (try? JSONSerialization.jsonObject(with: result.standardOutput)) as? [[String: Any]] ?? []
    }

    @Test func buildCommandsPrintJSONLinesAndYAMLStreams() async throws {
        let fixture = try await FormationFixture.make()
        defer { Task { await fixture.stop() } }
        let nepho = fixture.nepho
        let name = FormationFixture.unique("machine")

        let create = try await nepho.run(["-o", "json", "create", "bench-demo", "--name", name])
        #expect(create.status == 0, "\(create.errorOutput)")
        let lines = jsonLines(create.output)
        #expect(lines.first?["type"] as? String == "started")
        #expect(lines.last?["type"] as? String == "end")
        // Events, and progress lines while the build runs (docs/formations.md).
        #expect(
            lines.dropFirst().dropLast().allSatisfy { ["event", "progress"].contains($0["type"] as? String) })
        let progress = lines.filter { $0["type"] as? String == "progress" }
        #expect(
            !progress.isEmpty
                && progress.allSatisfy { ($0["done"] as? Int ?? 99) <= ($0["total"] as? Int ?? 0) })
        #expect((lines.last?["build"] as? [String: Any])?["succeeded"] as? Bool == true)

        let watch = try await yamlDocuments(
            try await nepho.run(["formation:watch", name, "-o", "yaml"]).output)
        #expect(watch.count > 1)
        #expect(watch.last?["type"] as? String == "end")
        #expect(watch.dropLast().allSatisfy { $0["type"] as? String == "event" })

        // In text, the preview shows each parameter's change; --detach says how to watch.
        let preview = try await nepho.run([
            "formation:update", name, "-p", "Greeting=salut", "--yes", "--detach",
        ])
        #expect(preview.status == 0, "\(preview.errorOutput)")
        #expect(preview.output.contains("Parameters:\n  Greeting: hello → salut\n"), "\(preview.output)")
        #expect(preview.output.contains("watch it with: nepho formation:watch \(name)"), "\(preview.output)")
        #expect(try await nepho.run(["formation:watch", name]).status == 0)

        let update = try await nepho.run([
            "formation:update", name, "-p", "Greeting=bonjour", "--yes", "-o", "json",
        ])
        #expect(update.status == 0, "\(update.errorOutput)")
        let updates = jsonLines(update.output)
        #expect(updates.first?["type"] as? String == "started")
        #expect(updates.first?["changeSet"] is String)
        #expect(updates.last?["type"] as? String == "end")

        let list = try await nepho.run(["formation:list", "-o", "json"])
        #expect(((try? JSONSerialization.jsonObject(with: list.standardOutput)) as? [String: Any]) != nil)

        let destroy = try await nepho.run(["destroy", name, "--yes", "-o", "yaml"])
        #expect(destroy.status == 0, "\(destroy.errorOutput)")
        let documents = try await yamlDocuments(destroy.output)
        #expect(documents.first?["type"] as? String == "started")
        #expect(documents.last?["type"] as? String == "end")
        // A destroyed formation leaves the list, unless --all.
        let names = { (arguments: [String]) async throws -> [String] in
            let listed = try await nepho.run(["formation:list", "-o", "json"] + arguments)
            let object = (try? JSONSerialization.jsonObject(with: listed.standardOutput)) as? [String: Any]
            return (object?["formations"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
        }
        #expect(!(try await names([])).contains(name))
        #expect(try await names(["--all"]).contains(name))

        let detached = try await nepho.run(
            ["create", "bench-demo", "--name", name + "-d", "--detach", "-o", "yaml"])
        let single = try await yamlDocuments(detached.output)
        #expect(
            single.count == 1 && single.first?["formation"] as? String == name + "-d", "\(detached.output)")
    }

    @Test func anUnreachableEndpointIsNamedWithWhatToCheck() async throws {
        let fixture = try await FormationFixture.make()
        defer { Task { await fixture.stop() } }
        let nepho = fixture.nepho
        let name = FormationFixture.unique("offline")
        let create = try await nepho.run(["create", "bench-demo", "--name", name])
        #expect(create.status == 0, "\(create.errorOutput)")

        nepho.environment["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"
        var failures: [ProcessResult] = []
        for arguments in [
            ["create", "bench-demo", "--name", name + "-2"],
            ["formation:update", name, "-p", "Greeting=x", "--yes"],
            ["destroy", name, "--yes"], ["formation:list"], ["formation:list", "-o", "json"],
            ["create", "bench-demo", "--name", name + "-3", "--foreground"],
        ] {
            let result = try await nepho.run(arguments)
            // Text goes to standard error; with -o json the list's warnings are in its document.
            let said = result.errorOutput + result.output
            #expect(said.contains("127.0.0.1:9"), "\(arguments): \(said)")
            #expect(said.contains("check"), "\(arguments): \(said)")
            failures.append(result)
        }
        #expect(failures[0].status != 0 && failures[2].status != 0)
        for result in failures {
            let text = result.output + result.errorOutput
            for leak in ["NephoHTTP", "HTTPError", "error 1.", "could not be completed", "Error("] {
                #expect(!text.contains(leak), "\(result.arguments): \(text)")
            }
        }
    }
}
