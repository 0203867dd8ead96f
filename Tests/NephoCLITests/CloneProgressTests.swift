import Foundation
import NephoSupport
import NephoTestBench
import Testing

/// git's own progress during `cloudlet:install` and `cloudlet:update`, through nephod, from
/// a repository served over HTTPS with git's smart protocol (`git http-backend`): shown
/// on a terminal as git prints it, before the result; quiet when standard error is not a
/// terminal, and with -o json.
@Suite struct CloneProgressTests {
    /// A cloudlet repository `acme/wiki` tagged v1.0.0, with enough files that git has
    /// several objects to count and receive, served bare under `root/wiki.git`.
    struct Served {
        let nepho: NephoBinary
        let work: URL
        let server: TestHTTPServer
        var url: String { "https://127.0.0.1:\(server.port)/wiki.git" }

        static func make() async throws -> Served {
            let nepho = NephoBinary()
            let work = nepho.home.deletingLastPathComponent().appendingPathComponent("served")
            let source = work.appendingPathComponent("wiki")
            try FileManager.default.createDirectory(
                at: source.appendingPathComponent("big"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                at: NephoBinary.repository.appendingPathComponent("Fixtures/cloudlets/bench-demo/scenarios"),
                to: source.appendingPathComponent("scenarios"))
            try FileManager.default.copyItem(
                at: NephoBinary.repository.appendingPathComponent("Fixtures/cloudlets/bench-demo/patterns"),
                to: source.appendingPathComponent("patterns"))
            try """
            name: acme/wiki
            version: 1.0.0
            summary: a wiki
            description: A wiki served over HTTPS.

            """.write(to: source.appendingPathComponent("cloudlet.yaml"), atomically: true, encoding: .utf8)
            for index in 0..<30 {
                let bytes = (0..<20_000).map { _ in UInt8.random(in: 0...255) }
                try Data(bytes).base64EncodedData().write(
                    to: source.appendingPathComponent("big/part\(index)"))
            }
            let root = work.appendingPathComponent("root")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try await git(["init", "--quiet"], in: source)
            try await commit("v1.0.0", in: source)
            try await git(
                ["clone", "--quiet", "--bare", source.path, root.appendingPathComponent("wiki.git").path],
                in: work)
            let server = try await TestHTTPServer.start(root: root, tls: true, git: true)
            nepho.environment["GIT_SSL_CAINFO"] = server.certificate!.path
            return Served(nepho: nepho, work: work, server: server)
        }

        static func git(_ arguments: [String], in folder: URL) async throws {
            var environment = ProcessInfo.processInfo.environment
            for key in ["GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"] { environment[key] = "Test" }
            for key in ["GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"] { environment[key] = "test@example.com" }
            _ = try await ProcessRunner.check(
                "git", ["-c", "init.defaultBranch=main"] + arguments, environment: environment,
                currentDirectory: folder, timeout: 60)
        }

        static func commit(_ tag: String, in folder: URL) async throws {
            try await git(["add", "-A"], in: folder)
            try await git(["commit", "--quiet", "-m", tag], in: folder)
            try await git(["tag", tag], in: folder)
        }

        /// Runs nepho on a terminal to its end; returns its status and what it showed.
        func onTerminal(_ arguments: [String]) async throws -> (Int32?, String) {
            let pty = try PseudoTerminal(columns: 120, rows: 40)
            var environment = nepho.environment
            environment["TERM"] = "xterm"
            let program = try pty.spawn(
                path: NephoBinary.executable, arguments: arguments, environment: environment)
            let status = await program.exitStatus(timeout: 120)
            try await Task.sleep(nanoseconds: 200_000_000)
            return (status, pty.screen())
        }

        func stop() async {
            _ = try? await nepho.run(["daemon:stop"])
            server.stop()
        }
    }

    @Test func aTerminalSeesGitsProgressAsItComesAndOthersDoNot() async throws {
        let served = try await Served.make()
        defer { Task { await served.stop() } }

        let (status, screen) = try await served.onTerminal(["cloudlet:install", served.url])
        #expect(status == 0, "\(screen)")
        // The notices and git's own lines, redrawn in place, then the result.
        let cloning = try #require(screen.range(of: "Notice: Cloning from \(served.url) ..."), "\(screen)")
        let receiving = try #require(screen.range(of: "Receiving objects: 100%"), "\(screen)")
        let result = try #require(screen.range(of: "└── acme/wiki (v1.0.0)"), "\(screen)")
        #expect(cloning.lowerBound < receiving.lowerBound && receiving.lowerBound < result.lowerBound)
        #expect(screen.contains("Receiving objects:") && screen.contains("\r"))
        #expect(!screen.contains("Cloning into"), "git's line names a temporary folder: \(screen)")
        #expect(screen.components(separatedBy: "Notice: Cloning from").count == 2, "notices shown once")

        // Not a terminal: git is quiet, the notices come with the result.
        _ = try await served.nepho.run(["cloudlet:uninstall", "acme/wiki", "--force"])
        let piped = try await served.nepho.run(["cloudlet:install", served.url])
        #expect(piped.status == 0, "\(piped.errorOutput)")
        #expect(!piped.output.contains("objects") && !piped.errorOutput.contains("objects"))
        #expect(piped.output.hasPrefix("Notice: Preparing to install into"), "\(piped.output)")

        // --foreground (the engine in this process): the same lines.
        _ = try await served.nepho.run(["cloudlet:uninstall", "acme/wiki", "--force"])
        let (foregroundStatus, foreground) = try await served.onTerminal([
            "--foreground", "cloudlet:install", served.url,
        ])
        #expect(foregroundStatus == 0, "\(foreground)")
        #expect(foreground.contains("Receiving objects: 100%"), "\(foreground)")

        // -o json on a terminal: one JSON document, nothing else.
        _ = try await served.nepho.run(["cloudlet:uninstall", "acme/wiki", "--force"])
        let (jsonStatus, json) = try await served.onTerminal(["cloudlet:install", "-o", "json", served.url])
        #expect(jsonStatus == 0, "\(json)")
        let document = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        #expect(document?["name"] as? String == "acme/wiki", "\(json)")
    }

    @Test func updateShowsTheFetchOnATerminal() async throws {
        let served = try await Served.make()
        defer { Task { await served.stop() } }
        let install = try await served.nepho.run(["cloudlet:install", served.url])
        #expect(install.status == 0, "\(install.errorOutput)")
        // A new version on the server.
        let source = served.work.appendingPathComponent("wiki")
        let manifest = source.appendingPathComponent("cloudlet.yaml")
        try String(contentsOf: manifest, encoding: .utf8).replacingOccurrences(
            of: "version: 1.0.0", with: "version: 1.1.0"
        ).write(to: manifest, atomically: true, encoding: .utf8)
        try Data((0..<50_000).map { _ in UInt8.random(in: 65...90) }).write(
            to: source.appendingPathComponent("big/new"))
        try await Served.commit("v1.1.0", in: source)
        try await Served.git(
            ["push", "--quiet", "--tags", served.work.appendingPathComponent("root/wiki.git").path, "main"],
            in: source)

        let (status, screen) = try await served.onTerminal(["cloudlet:update", "acme/wiki"])
        #expect(status == 0, "\(screen)")
        let fetched = try #require(screen.range(of: "objects: 100%"), "\(screen)")
        let result = try #require(screen.range(of: "acme/wiki: v1.0.0 → v1.1.0"), "\(screen)")
        #expect(fetched.lowerBound < result.lowerBound)

        let piped = try await served.nepho.run(["cloudlet:update", "acme/wiki"])
        #expect(piped.status == 0)
        #expect(
            !piped.output.contains("objects") && !piped.errorOutput.contains("objects"), "\(piped.output)")
    }
}
