import Foundation
import NephoSupport
import NephoTestBench
import Testing

/// Real git repositories in a temporary folder, made with plain git (not `SafeGit`).
struct GitSandbox {
    let root: URL
    let home: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("nepho-git-\(UUID().uuidString)")
        home = root.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    }

    var environment: [String: String] {
        [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": home.path,
            "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com", "GIT_COMMITTER_NAME": "Test",
            "GIT_COMMITTER_EMAIL": "test@example.com", "GIT_CONFIG_NOSYSTEM": "1",
        ]
    }

    @discardableResult
    func git(_ arguments: [String], in directory: URL) async throws -> String {
        try await ProcessRunner.check(
            "git", ["-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always"] + arguments,
            environment: environment, currentDirectory: directory, timeout: 120
        ).output
    }

    /// A repository with one file per commit and a tag per version.
    func repository(_ name: String, versions: [String]) async throws -> URL {
        let url = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try await git(["init", "--quiet"], in: url)
        for version in versions {
            try "version \(version)\n".write(
                to: url.appendingPathComponent("VERSION"), atomically: true, encoding: .utf8)
            try await git(["add", "-A"], in: url)
            try await git(["commit", "--quiet", "-m", "release \(version)"], in: url)
            try await git(["tag", version], in: url)
        }
        return url
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

@Suite struct SafeGitTests {
    @Test func clonesALocalRepositoryAtATag() async throws {
        let sandbox = try GitSandbox()
        defer { sandbox.remove() }
        let repo = try await sandbox.repository("app", versions: ["v1.0.0", "v1.1.0"])
        let git = SafeGit(environment: sandbox.environment)
        let destination = sandbox.root.appendingPathComponent("clone")
        try await git.clone(GitSource(repo.path), into: destination, reference: "v1.0.0")
        let text = try String(contentsOf: destination.appendingPathComponent("VERSION"), encoding: .utf8)
        #expect(text == "version v1.0.0\n")
        #expect(try await git.tags(in: destination) == ["v1.1.0", "v1.0.0"])
        #expect(try await git.tagAtHead(in: destination) == "v1.0.0")
    }

    @Test func ignoresInheritedGitVariables() async throws {
        let sandbox = try GitSandbox()
        defer { sandbox.remove() }
        let repo = try await sandbox.repository("app", versions: ["v1"])
        var environment = sandbox.environment
        environment["GIT_DIR"] = "/nonexistent/.git"
        environment["GIT_WORK_TREE"] = "/nonexistent"
        environment["GIT_CONFIG_PARAMETERS"] = "'core.hooksPath'='/tmp'"
        let git = SafeGit(environment: environment)
        #expect(git.environment["GIT_DIR"] == nil)
        try await git.clone(GitSource(repo.path), into: sandbox.root.appendingPathComponent("clone"))
    }

    /// A hook configured in the user's git config runs under plain git, never under SafeGit.
    @Test func hooksNeverRun() async throws {
        let sandbox = try GitSandbox()
        defer { sandbox.remove() }
        let repo = try await sandbox.repository("app", versions: ["v1"])
        let hooks = sandbox.root.appendingPathComponent("hooks")
        try FileManager.default.createDirectory(at: hooks, withIntermediateDirectories: true)
        let marker = sandbox.root.appendingPathComponent("hook-ran")
        let hook = hooks.appendingPathComponent("post-checkout")
        try await ExecutableFile.write("#!/bin/sh\ntouch '\(marker.path)'\n", to: hook)
        try "[core]\n\thooksPath = \(hooks.path)\n".write(
            to: sandbox.home.appendingPathComponent(".gitconfig"), atomically: true, encoding: .utf8)

        try await sandbox.git(["clone", "--quiet", repo.path, "plain"], in: sandbox.root)
        #expect(FileManager.default.fileExists(atPath: marker.path), "control: plain git runs the hook")
        try FileManager.default.removeItem(at: marker)

        let git = SafeGit(environment: sandbox.environment)
        try await git.clone(GitSource(repo.path), into: sandbox.root.appendingPathComponent("safe"))
        #expect(!FileManager.default.fileExists(atPath: marker.path))
    }

    /// Even when a caller skipped `GitSource`, git itself refuses the `ext::` transport.
    @Test func gitRefusesExtTransportsPassedRaw() async throws {
        let sandbox = try GitSandbox()
        defer { sandbox.remove() }
        let marker = sandbox.root.appendingPathComponent("pwned")
        let git = SafeGit(environment: sandbox.environment)
        await #expect(throws: GitError.self) {
            _ = try await git.run(
                [
                    "clone", "--", "ext::sh -c touch% \(marker.path)",
                    sandbox.root.appendingPathComponent("x").path,
                ],
                in: sandbox.root)
        }
        #expect(!FileManager.default.fileExists(atPath: marker.path))
    }

    @Test(arguments: [
        ["clone", "--upload-pack=touch pwned", "--", "/srv/repo", "x"],
        ["clone", "--upload-pack", "touch pwned", "--", "/srv/repo", "x"],
        ["clone", "-utouch pwned", "--", "/srv/repo", "x"],
        ["fetch", "--config=core.sshCommand=touch pwned"],
        ["clone", "--template=/tmp", "--", "/srv/repo", "x"],
    ])
    func refusesCommandChangingOptionsBeforeGitRuns(arguments: [String]) async throws {
        let sandbox = try GitSandbox()
        defer { sandbox.remove() }
        let git = SafeGit(environment: sandbox.environment)
        await #expect {
            _ = try await git.run(arguments, in: sandbox.root)
        } throws: { error in
            guard let error = error as? GitError, case .notStarted = error.reason else { return false }
            return "\(error)".contains("is not allowed")
        }
        #expect(!FileManager.default.fileExists(atPath: sandbox.root.appendingPathComponent("pwned").path))
    }

    /// An ssh that never answers is stopped at the time limit with a clear error, and
    /// stopped itself: neither git nor the ssh it started outlives the limit (with and
    /// without progress shown, the two ways nepho runs git).
    @Test(arguments: [false, true]) func stopsGitAndItsSshAtItsTimeLimit(showingProgress: Bool) async throws {
        let sandbox = try GitSandbox()
        defer { sandbox.remove() }
        // A sleep no other test starts, to find it among the machine's processes.
        let sleep = "sleep 61.\(Int.random(in: 100_000..<999_999))"
        let git = SafeGit(timeLimit: 2, sshCommand: "\(sleep) #", environment: sandbox.environment)
        var progress: (@Sendable (String) -> Void)?
        if showingProgress { progress = { _ in } }
        await #expect {
            try await git.clone(
                GitSource("ssh://git@example.invalid/repo.git"),
                into: sandbox.root.appendingPathComponent("x"), progress: progress)
        } throws: { error in
            guard let error = error as? GitError, case .timedOut = error.reason else { return false }
            return "\(error)".contains("time limit")
        }
        var left = Self.processes(containing: sleep)
        for _ in 0..<50 where !left.isEmpty {
            try await Task.sleep(nanoseconds: 100_000_000)
            left = Self.processes(containing: sleep)
        }
        #expect(left.isEmpty, "still running after the time limit: \(left)")
    }

    /// The command lines of this machine's processes that contain `text`.
    static func processes(containing text: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { Int($0) != nil }.compactMap { entry in
            guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else {
                return nil
            }
            let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return line.contains(text) ? "\(entry): \(line)" : nil
        }
    }

    /// A real HTTPS server answering 401: git must fail at once instead of prompting.
    @Test func aServerAskingForAPasswordFailsFast() async throws {
        let sandbox = try GitSandbox()
        defer { sandbox.remove() }
        let server = try await TestHTTPServer.start(root: sandbox.root, tls: true, auth: true)
        defer { server.stop() }
        var environment = sandbox.environment
        environment["GIT_SSL_CAINFO"] = server.certificate!.path
        let git = SafeGit(timeLimit: 120, environment: environment)
        await #expect {
            try await git.clone(
                GitSource("https://127.0.0.1:\(server.port)/repo.git"),
                into: sandbox.root.appendingPathComponent("x"))
        } throws: { error in
            guard let error = error as? GitError else { return false }
            return error.reason == .authenticationRequired && "\(error)".contains("never prompts")
        }
        #expect(server.requests().contains { $0.hasSuffix(" 401") })
    }
}

/// A token in an https URL never reaches git's arguments (which every local user sees in
/// `ps`); the clone still authenticates with it, and so do its later fetches.
@Suite struct GitTokenTests {
    @Test func aTokenInTheURLStaysOutOfGitsArgumentsAndTheCloneWorks() async throws {
        let sandbox = try GitSandbox()
        let repository = try await sandbox.repository("shop", versions: ["v1.0.0"])
        let served = sandbox.root.appendingPathComponent("served")
        try FileManager.default.createDirectory(at: served, withIntermediateDirectories: true)
        try await sandbox.git(
            ["clone", "--quiet", "--bare", repository.path, served.appendingPathComponent("shop.git").path],
            in: sandbox.root)
        try await sandbox.git(["update-server-info"], in: served.appendingPathComponent("shop.git"))
        let server = try await TestHTTPServer.start(root: served, tls: true)
        defer { server.stop() }

        // A stand-in git on PATH (test double): records its arguments, then runs the real git.
        let real = try #require(ProcessRunner.resolve("git"))
        let bin = sandbox.root.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let record = sandbox.root.appendingPathComponent("argv.txt")
        try await ExecutableFile.write(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '\(record.path)'\nexec '\(real)' \"$@\"\n",
            to: bin.appendingPathComponent("git"))
        var environment = sandbox.environment
        environment["PATH"] = bin.path + ":" + (environment["PATH"] ?? "")
        environment["GIT_SSL_CAINFO"] = server.certificate?.path
        let git = SafeGit(environment: environment)

        let token = "s3cr3t-\(UUID().uuidString.prefix(8))"
        let source = try GitSource("https://nepho:\(token)@127.0.0.1:\(server.port)/shop.git")
        let clone = sandbox.root.appendingPathComponent("clone")
        try await git.clone(source, into: clone)
        #expect(FileManager.default.fileExists(atPath: clone.appendingPathComponent("VERSION").path))
        let argv = try String(contentsOf: record, encoding: .utf8)
        #expect(argv.contains("https://127.0.0.1:\(server.port)/shop.git"), "\(argv)")
        #expect(!argv.contains(token), "the token was in git's arguments: \(argv)")

        // The clone keeps the URL it was given, so cloudlet:update's fetch has the token too.
        #expect(try await git.originURL(in: clone)?.contains(token) == true)
        _ = try await git.run(["fetch", "--quiet", "origin"], in: clone)
        #expect(!(try String(contentsOf: record, encoding: .utf8)).contains(token))
    }
}
