import Foundation
import NephoCore
import NephoEngine
import NephoProtocol
import NephoSupport

/// A temporary NEPHO_HOME, git repositories made by plain git, a folder served over
/// HTTP by the test server, and a `RegistryService` wired to them.
struct RegistrySandbox {
    let root: URL
    let paths: NephoPaths
    let userHome: URL
    let repos: URL
    let served: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-registry-\(UUID().uuidString)")
        paths = NephoPaths(
            home: root.appendingPathComponent("nepho"), runtimeDirectory: root.appendingPathComponent("run"))
        userHome = root.appendingPathComponent("home")
        repos = root.appendingPathComponent("repos")
        served = root.appendingPathComponent("www")
        for folder in [paths.home, userHome, repos, served] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    var cloudlets: URL { paths.cloudlets }

    var gitEnvironment: [String: String] {
        [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": userHome.path,
            "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com", "GIT_COMMITTER_NAME": "Test",
            "GIT_COMMITTER_EMAIL": "test@example.com", "GIT_CONFIG_NOSYSTEM": "1",
        ]
    }

    /// nepho's own git, in this sandbox's environment.
    func safeGit(timeLimit: Double = 120, sshCommand: String = "ssh -oBatchMode=yes") -> SafeGit {
        SafeGit(timeLimit: timeLimit, sshCommand: sshCommand, environment: gitEnvironment)
    }

    func service(git: (any GitClient)? = nil) -> RegistryService {
        RegistryService(paths: paths, git: git ?? safeGit(), transport: HTTPRegistryTransport())
    }

    @discardableResult
    func git(_ arguments: [String], in directory: URL) async throws -> String {
        try await ProcessRunner.check(
            "git", ["-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always"] + arguments,
            environment: gitEnvironment, currentDirectory: directory, timeout: 120
        ).output
    }

    /// A valid cloudlet repository with one tagged commit per version (`v1.0.0`, …).
    func cloudletRepository(
        _ name: String, versions: [String] = ["1.0.0", "1.1.0"], summary: String? = nil,
        submodule: URL? = nil, wantsSubmodules: Bool = false, extraFile: Int = 0
    ) async throws -> URL {
        let (folder, _) = try CloudletScaffold.create(name: name, in: repos)
        let manifest = folder.appendingPathComponent("cloudlet.yaml")
        try await git(["init", "--quiet"], in: folder)
        if let submodule {
            try await git(["submodule", "--quiet", "add", submodule.path, "patterns/shared"], in: folder)
        }
        if extraFile > 0 {
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<extraFile).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try Data(bytes).write(to: folder.appendingPathComponent("provisioners/blob.bin"))
        }
        for version in versions {
            var text = try String(contentsOf: manifest, encoding: .utf8)
            text = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
                if line.hasPrefix("version:") { return "version: \(version)" }
                if line.hasPrefix("source:") { return "source: \(folder.path)" }
                if line.hasPrefix("summary:"), let summary { return "summary: \(summary)" }
                return String(line)
            }.joined(separator: "\n")
            if wantsSubmodules && !text.contains("submodules:") { text += "submodules: true\n" }
            try text.write(to: manifest, atomically: true, encoding: .utf8)
            try await git(["add", "-A"], in: folder)
            try await git(["commit", "--quiet", "-m", "release \(version)"], in: folder)
            try await git(["tag", "v\(version)"], in: folder)
        }
        return folder
    }

    /// A repository that is not a cloudlet at all.
    func plainRepository(_ name: String) async throws -> URL {
        let folder = repos.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try await git(["init", "--quiet"], in: folder)
        try "just a readme\n".write(
            to: folder.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        try await git(["add", "-A"], in: folder)
        try await git(["commit", "--quiet", "-m", "readme"], in: folder)
        try await git(["tag", "v1.0.0"], in: folder)
        return folder
    }

    /// An index entry for a repository made by `cloudletRepository`.
    func entry(
        _ name: String, repository: URL, summary: String = "A cloudlet", description: String? = nil,
        versions: [String] = ["v1.1.0", "v1.0.0"], keywords: [String] = []
    ) -> RegistryEntry {
        RegistryEntry(
            name: name, summary: summary, description: description, version: versions[0], versions: versions,
            source: repository.path, author: "Test", license: "MIT",
            projectPage: "https://example.com/\(name)",
            keywords: keywords)
    }

    /// Writes `www/index.json` (or `file`) for the test server to serve.
    func serve(_ entries: [RegistryEntry], file: String = "index.json") throws {
        try RegistryIndex(name: "test", cloudlets: entries).encoded().write(
            to: served.appendingPathComponent(file))
    }

    /// Writes raw bytes to `www/<file>`.
    func serveRaw(_ data: Data, file: String = "index.json") throws {
        try data.write(to: served.appendingPathComponent(file))
    }

    /// Sets `registries:` (and `registry_max_age:`) in config.yaml.
    func configure(registries: [String], maxAge: Int? = nil) throws {
        var config = try NephoConfig(file: paths.config)
        config.setRegistries(try registries.map { try RegistryLocation($0) })
        if let maxAge { config.set(NephoConfig.registryMaxAgeKey, .string("\(maxAge)")) }
        try config.save()
    }

    /// Every path under `folder`, for "nothing changed" checks.
    func listing(_ folder: URL) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        return (enumerator.allObjects as? [String] ?? []).sorted()
    }

    /// The contents of every cache file, for "the cache is unchanged" checks.
    func cacheSnapshot() -> [String: Data] {
        let root = paths.cache.appendingPathComponent("registries")
        var files: [String: Data] = [:]
        for path in listing(root) {
            if let data = FileManager.default.contents(atPath: root.appendingPathComponent(path).path) {
                files[path] = data
            }
        }
        return files
    }
}
