import Foundation
import NephoSupport
import Testing

/// The registry commands through the real `nepho` binary: output as the roadmap shows
/// it, JSON for programs, and the questions the CLI asks.
@Suite(.serialized) struct RegistryCommandTests {
    /// A cloudlet repository made with `nepho cloudlet:create` and plain git, one tag per version.
    func repository(_ nepho: NephoBinary, _ name: String, summary: String, versions: [String]) async throws
        -> URL
    {
        let repos = nepho.home.deletingLastPathComponent().appendingPathComponent("repos")
        try await #require(
            nepho.run(["cloudlet:create", name, "--dir", repos.path, "--foreground"]).succeeded)
        let folder = repos.appendingPathComponent(name.replacingOccurrences(of: "/", with: "-"))
        var environment = nepho.environment
        environment["GIT_AUTHOR_NAME"] = "Test"
        environment["GIT_AUTHOR_EMAIL"] = "test@example.com"
        environment["GIT_COMMITTER_NAME"] = "Test"
        environment["GIT_COMMITTER_EMAIL"] = "test@example.com"
        func git(_ arguments: [String]) async throws {
            _ = try await ProcessRunner.check(
                "git", ["-c", "init.defaultBranch=main"] + arguments, environment: environment,
                currentDirectory: folder, timeout: 60)
        }
        try await git(["init", "--quiet"])
        let manifest = folder.appendingPathComponent("cloudlet.yaml")
        for version in versions {
            let text = try String(contentsOf: manifest, encoding: .utf8).split(separator: "\n").map { line in
                line.hasPrefix("version:")
                    ? "version: \(version)"
                    : line.hasPrefix("summary:")
                        ? "summary: \(summary)"
                        : line.hasPrefix("source:") ? "source: \(folder.path)" : String(line)
            }.joined(separator: "\n")
            try (text + "\n").write(to: manifest, atomically: true, encoding: .utf8)
            try await git(["add", "-A"])
            try await git(["commit", "--quiet", "-m", version])
            try await git(["tag", "v\(version)"])
        }
        return folder
    }

    /// Two cloudlets built into a registry with `registry:build` and added with `cloudlet:registry add`.
    func registry(_ nepho: NephoBinary) async throws -> URL {
        let wiki = try await repository(
            nepho, "huit/mediawiki", summary: "generic mediawiki awesomeness", versions: ["1.0.0", "1.1.0"])
        let other = try await repository(
            nepho, "tfhartmann/mediawiki", summary: "like huit but even better", versions: ["0.2.0"])
        let site = nepho.home.deletingLastPathComponent().appendingPathComponent("site")
        let build = try await nepho.run([
            "registry:build", wiki.path, other.path, "--out", site.path, "--foreground",
        ])
        #expect(build.succeeded, "\(build.errorOutput)")
        #expect(build.output.contains("with 2 cloudlets:\n├── huit/mediawiki\n└── tfhartmann/mediawiki\n"))
        let index = site.appendingPathComponent("index.json")
        let add = try await nepho.run(["cloudlet:registry", "add", index.path, "--foreground"])
        #expect(add.output == "file://\(index.path) (default, local)\n", "\(add.errorOutput)")
        return index
    }

    @Test func searchPrintsOwnerNameDashSummary() async throws {
        let nepho = NephoBinary()
        _ = try await registry(nepho)
        let text = try await nepho.run(["cloudlet:search", "mediawiki", "--foreground"])
        #expect(
            text.output
                == "huit/mediawiki - generic mediawiki awesomeness\ntfhartmann/mediawiki - like huit but even better\n"
        )
        let json = try await nepho.run(["cloudlet:search", "better", "-o", "json", "--foreground"])
        let object = try JSONSerialization.jsonObject(with: json.standardOutput) as? [String: Any]
        let hits = object?["hits"] as? [[String: Any]]
        #expect(hits?.map { $0["name"] as? String } == ["tfhartmann/mediawiki"])
        #expect(hits?.first?["matched"] as? String == "summary")
        #expect(hits?.first?["version"] as? String == "v0.2.0")
        // An exact name says so (issue 14, item 9).
        let exact = try await nepho.run(["cloudlet:search", "huit/mediawiki", "-o", "json", "--foreground"])
        let exactHits = (try JSONSerialization.jsonObject(with: exact.standardOutput) as? [String: Any])?[
            "hits"]
        #expect(
            (exactHits as? [[String: Any]])?.first?["matched"] as? String == "exact-name", "\(exact.output)")
        let none = try await nepho.run(["cloudlet", "search", "nothing-like-this", "--foreground"])
        #expect(none.succeeded && none.output.isEmpty)
        #expect(none.errorOutput.contains("No cloudlet matches \"nothing-like-this\""))
    }

    @Test func installShowsNoticesAndTheTreeThenUpdateAndUninstall() async throws {
        let nepho = NephoBinary()
        let index = try await registry(nepho)
        let cloudlets = nepho.home.appendingPathComponent("cloudlets").path
        let install = try await nepho.run(["cloudlet:install", "huit/mediawiki@1.0.0", "--foreground"])
        #expect(install.status == 0, "\(install.errorOutput)")
        let wiki = index.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("repos/huit-mediawiki").path
        #expect(
            install.output == """
                Notice: Preparing to install into \(cloudlets) ...
                Notice: Cloning from \(wiki) ...
                \(cloudlets)
                └── huit/mediawiki (v1.0.0)

                """)
        let describe = try await nepho.run(["cloudlet:describe", "tfhartmann/mediawiki", "--foreground"])
        #expect(describe.output.contains("Summary: like huit but even better\n"))
        #expect(describe.output.contains("Versions: v0.2.0\n"))

        // Installed at a version asked for: kept there unless --latest (issue 14, item 9).
        let pinned = try await nepho.run(["cloudlet:update", "--foreground"])
        #expect(
            pinned.output
                == "huit/mediawiki: kept at v1.0.0: installed pinned at v1.0.0; `nepho cloudlet:update huit/mediawiki --latest` moves it to v1.1.0\n",
            "\(pinned.errorOutput)")
        let update = try await nepho.run(["cloudlet:update", "--latest", "--foreground"])
        #expect(update.output == "huit/mediawiki: v1.0.0 → v1.1.0\n", "\(update.errorOutput)")
        let again = try await nepho.run(["cloudlet:update", "--foreground"])
        #expect(again.output == "huit/mediawiki: up to date (v1.1.0)\n", "\(again.errorOutput)")

        let ask = try await nepho.run(["cloudlet:uninstall", "huit/mediawiki", "--foreground"])
        #expect(ask.status != 0)
        #expect(ask.errorOutput.contains("there is no terminal to ask: use --force"))
        #expect(FileManager.default.fileExists(atPath: cloudlets + "/huit-mediawiki"))
        let remove = try await nepho.run(["cloudlet:uninstall", "huit/mediawiki", "--force", "--foreground"])
        #expect(remove.output == "Removed huit/mediawiki (\(cloudlets)/huit-mediawiki)\n")
        #expect(!FileManager.default.fileExists(atPath: cloudlets + "/huit-mediawiki"))
    }

    /// A branch checkout whose version did not change shows the commits that moved.
    @Test func updatingABranchCheckoutShowsTheCommits() async throws {
        let nepho = NephoBinary()
        let repos = nepho.home.deletingLastPathComponent().appendingPathComponent("repos")
        try await #require(
            nepho.run(["cloudlet:create", "ops/branchy", "--dir", repos.path, "--foreground"]).succeeded)
        let folder = repos.appendingPathComponent("ops-branchy")
        var environment = nepho.environment
        for key in ["GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"] { environment[key] = "Test" }
        for key in ["GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"] { environment[key] = "test@example.com" }
        func git(_ arguments: [String]) async throws {
            _ = try await ProcessRunner.check(
                "git", ["-c", "init.defaultBranch=main"] + arguments, environment: environment,
                currentDirectory: folder, timeout: 60)
        }
        try await git(["init", "--quiet"])
        try await git(["add", "-A"])
        try await git(["commit", "--quiet", "-m", "first"])
        let install = try await nepho.run(["cloudlet:install", folder.path, "--foreground"])
        #expect(install.status == 0, "\(install.errorOutput)")
        try "more\n".write(to: folder.appendingPathComponent("NOTES.md"), atomically: true, encoding: .utf8)
        try await git(["add", "-A"])
        try await git(["commit", "--quiet", "-m", "second"])
        let update = try await nepho.run(["cloudlet:update", "ops/branchy", "--foreground"])
        let line = update.output.trimmingCharacters(in: .newlines)
        #expect(
            line.range(
                of: #"^ops/branchy: v0\.1\.0 \([0-9a-f]{8} → [0-9a-f]{8}\)$"#, options: .regularExpression)
                != nil,
            "\(update.output)\(update.errorOutput)")
    }

    @Test func refusedSourcesExitWithAClearMessage() async throws {
        let nepho = NephoBinary()
        let result = try await nepho.run(["cloudlet:install", "ext::sh -c touch% /tmp/x", "--foreground"])
        #expect(result.status == 4)
        #expect(result.errorOutput.contains("refusing git source 'ext::sh -c touch% /tmp/x'"))
        let none = try await nepho.run(["cloudlet:search", "--foreground"])
        #expect(none.status == 3)
        #expect(none.errorOutput.contains("no registries are configured"))
    }

    /// On a terminal (a real pseudo-terminal made by util-linux `script`), uninstall asks.
    @Test func uninstallAsksOnATerminal() async throws {
        let nepho = NephoBinary()
        let repo = try await repository(nepho, "ops/bastion", summary: "a jump host", versions: ["1.0.0"])
        // A folder here holding a repository is a path, even without ./
        let install = try await nepho.run(
            ["cloudlet:install", "ops-bastion", "--foreground"], in: repo.deletingLastPathComponent())
        #expect(install.output.contains("Notice: Cloning from \(repo.path) ..."), "\(install.errorOutput)")
        let folder = nepho.home.appendingPathComponent("cloudlets/ops-bastion")
        try "local edit\n".write(
            to: folder.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        func uninstall(answer: String) async throws -> ProcessResult {
            try await ProcessRunner.run(
                "script",
                [
                    "-qec", "\(NephoBinary.executable) cloudlet:uninstall ops/bastion --foreground",
                    "/dev/null",
                ],
                environment: nepho.environment, input: Data(answer.utf8), timeout: 60)
        }
        let no = try await uninstall(answer: "n\n")
        #expect(no.status == 1)
        #expect(no.output.contains("Remove ops/bastion (\(folder.path))?"))
        #expect(no.output.contains("uncommitted changes that will be lost"))
        #expect(no.output.contains("M README.md"))
        #expect(no.output.contains("Not removed."))
        #expect(FileManager.default.fileExists(atPath: folder.path))
        let yes = try await uninstall(answer: "y\n")
        #expect(yes.status == 0, "\(yes.output)")
        #expect(yes.output.contains("Removed ops/bastion"))
        #expect(!FileManager.default.fileExists(atPath: folder.path))
    }
}
