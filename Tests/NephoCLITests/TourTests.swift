import Foundation
import NephoSupport
import NephoTestBench
import Testing

/// The roadmap's sample session, run whole through the real `nepho` against the test
/// bench (moto) and a registry served over HTTP: search, describe, install, list, scenario
/// list and describe, create, list, describe, open. Its transcript is docs/tour.md
/// (written again with `NEPHO_TOUR_OUT=docs/tour.md swift test --filter TourTests`).
@Suite(.serialized) struct TourTests {
    /// A git repository holding the bench-demo cloudlet renamed `name`, with a
    /// `multi-tenant` scenario, tagged `v<version>`.
    func repository(_ nepho: NephoBinary, _ name: String, summary: String, version: String) async throws
        -> URL
    {
        let folder = nepho.home.deletingLastPathComponent()
            .appendingPathComponent("repos/\(name.replacingOccurrences(of: "/", with: "-"))")
        try FileManager.default.createDirectory(
            at: folder.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: NephoBinary.repository.appendingPathComponent("Fixtures/cloudlets/bench-demo"), to: folder)
        let manifest = folder.appendingPathComponent("cloudlet.yaml")
        let text = try String(contentsOf: manifest, encoding: .utf8).split(separator: "\n").map { line in
            line.hasPrefix("name:")
                ? "name: \(name)"
                : line.hasPrefix("version:")
                    ? "version: \(version)"
                    : line.hasPrefix("summary:")
                        ? "summary: \(summary)\nsource: \(folder.path)" : String(line)
        }.joined(separator: "\n")
        try (text + "\n").write(to: manifest, atomically: true, encoding: .utf8)
        try """
        summary: elastic scaling multi-tenant load-balanced service
        description: Several wikis behind one address (on the bench, a topic and a parameter).
        provider: aws
        pattern: aws/quick.yaml
        parameters:
          Greeting: bonjour

        """.write(
            to: folder.appendingPathComponent("scenarios/multi-tenant.yaml"), atomically: true,
            encoding: .utf8)
        var environment = nepho.environment
        for key in ["GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"] { environment[key] = "Test" }
        for key in ["GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"] { environment[key] = "test@example.com" }
        for arguments in [
            ["init", "--quiet"], ["add", "-A"], ["commit", "--quiet", "-m", version], ["tag", "v\(version)"],
        ] {
            _ = try await ProcessRunner.check(
                "git", ["-c", "init.defaultBranch=main"] + arguments, environment: environment,
                currentDirectory: folder, timeout: 60)
        }
        return folder
    }

    @Test func theRoadmapSessionRunsWhole() async throws {
        let fixture = try await FormationFixture.make()
        defer { Task { await fixture.stop() } }
        let nepho = fixture.nepho
        try FileManager.default.removeItem(at: nepho.home.appendingPathComponent("cloudlets/bench-demo"))
        let wiki = try await repository(
            nepho, "huit/mediawiki", summary: "generic mediawiki awesomeness", version: "0.7.2")
        let other = try await repository(
            nepho, "tfhartmann/mediawiki", summary: "like huit but even better", version: "0.2.0")
        let site = nepho.home.deletingLastPathComponent().appendingPathComponent("site")
        let build = try await nepho.run(["registry:build", wiki.path, other.path, "--out", site.path])
        try #require(build.succeeded, "\(build.errorOutput)")
        let server = try await TestHTTPServer.start(root: site)
        defer { server.stop() }
        let index = "http://127.0.0.1:\(server.port)/index.json"
        try #require(try await nepho.run(["cloudlet:registry", "add", index]).succeeded)

        var transcript = ""
        func step(_ arguments: [String], expecting wanted: [String]) async throws -> ProcessResult {
            let result = try await nepho.run(arguments)
            transcript +=
                "$ nepho \(arguments.joined(separator: " "))\n" + result.errorOutput + result.output + "\n"
            #expect(result.status == 0, "\(arguments): \(result.errorOutput)")
            for text in wanted {
                #expect(result.output.contains(text), "\(arguments) lacks \(text):\n\(result.output)")
            }
            return result
        }
        let home = nepho.home.path
        _ = try await step(
            ["cloudlet:search", "mediawiki"],
            expecting: [
                "huit/mediawiki - generic mediawiki awesomeness\n",
                "tfhartmann/mediawiki - like huit but even better\n",
            ])
        _ = try await step(
            ["cloudlet:describe", "huit/mediawiki"],
            expecting: ["Name: huit/mediawiki\n", "Summary: generic mediawiki awesomeness\n"])
        _ = try await step(
            ["cloudlet:install", "huit/mediawiki"],
            expecting: [
                "Notice: Preparing to install into \(home)/cloudlets ...\n", "└── huit/mediawiki (v0.7.2)\n",
            ])
        _ = try await step(["cloudlet:list"], expecting: ["\(home)/cloudlets\n└── huit/mediawiki (v0.7.2)\n"])
        _ = try await step(["scenario:list", "mediawiki"], expecting: ["default", "multi-tenant"])
        _ = try await step(
            ["scenario:describe", "mediawiki/multi-tenant"],
            expecting: [
                "Name: multi-tenant\n", "Summary: elastic scaling multi-tenant load-balanced service\n",
                "Scenario Configuration:", "Greeting: bonjour",
                "Modify these options by editing the scenario file:\n",
                "\(home)/cloudlets/huit-mediawiki/scenarios/multi-tenant.yaml\n",
            ])
        _ = try await step(
            ["formation:create", "mediawiki/multi-tenant", "--name", "agmedia"],
            expecting: ["agmedia: create finished: CREATE_COMPLETE"])
        _ = try await step(
            ["formation:list"], expecting: ["agmedia", "huit/mediawiki", "multi-tenant", "CREATE_COMPLETE"])
        _ = try await step(["formation:describe", "agmedia"], expecting: ["agmedia", "Greeting", "bonjour"])
        _ = try await step(
            ["formation:open", "agmedia", "--print-only"], expecting: ["http://127.0.0.1/bench-demo"])
        _ = try await nepho.run(["destroy", "agmedia", "--yes"])

        if let out = ProcessInfo.processInfo.environment["NEPHO_TOUR_OUT"] {
            let page = """
                # A tour of nepho

                The roadmap's sample session, as `nepho` prints it. It is run whole by
                `Tests/NephoCLITests/TourTests.swift` against the CloudFormation test bench (moto,
                docs/testbench.md) and a registry served over HTTP, and this page is its
                transcript (`NEPHO_TOUR_OUT=docs/tour.md swift test --filter TourTests` writes it
                again). `~/.nepho` stands for the test's private home, `~/src` for its
                repositories, and `REGISTRY` for the served registry's address.

                ```console

                """
            var text = transcript.replacingOccurrences(of: home, with: "~/.nepho")
                .replacingOccurrences(
                    of: nepho.home.deletingLastPathComponent().path + "/repos", with: "~/src"
                )
                .replacingOccurrences(of: "http://127.0.0.1:\(server.port)", with: "REGISTRY")
            while text.hasSuffix("\n\n") { text.removeLast() }
            try (page + text + "```\n").write(toFile: out, atomically: true, encoding: .utf8)
        }
    }
}
