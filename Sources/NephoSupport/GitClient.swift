import Foundation

/// Runs git. Everything nepho asks of git goes through one `run`, so one implementation
/// (`SafeGit`) decides the environment, the configuration and the time limit.
public protocol GitClient: Sendable {
    /// Runs `git ARGUMENTS` in `directory` and returns its result when it succeeds;
    /// throws `GitError` (with the command line and output) when it does not.
    func run(_ arguments: [String], in directory: URL?) async throws -> ProcessResult

    /// As `run`, and passes each line git writes on its standard error to `progress` as
    /// it comes (a line ending in `\r` is a progress line git redraws).
    func run(_ arguments: [String], in directory: URL?, progress: (@Sendable (String) -> Void)?)
        async throws -> ProcessResult
}

extension GitClient {
    /// A client that cannot stream runs the command and reports nothing.
    public func run(_ arguments: [String], in directory: URL?, progress: (@Sendable (String) -> Void)?)
        async throws -> ProcessResult
    {
        try await run(arguments, in: directory)
    }
}

extension GitClient {
    /// Clones `source` into `destination` (which must not exist), optionally at a tag or
    /// branch, without submodules and without a checkout of anything but that ref.
    ///
    /// With `progress`, git's own progress lines (`Receiving objects:  42% (21/50)`) are
    /// passed to it as git prints them (`--progress`); without, git is quiet.
    public func clone(
        _ source: GitSource, into destination: URL, reference: String? = nil,
        progress: (@Sendable (String) -> Void)? = nil
    ) async throws {
        var arguments = ["clone", progress == nil ? "--quiet" : "--progress", "--no-recurse-submodules"]
        if let reference {
            try GitSafety.checkReference(reference)
            arguments += ["--branch", reference]
        }
        arguments += ["--", source.argument, destination.path]
        // "Cloning into '…/.nepho-install-…/clone'..." names a temporary folder: not shown.
        let shown = progress.map { report in
            { @Sendable (line: String) in if !line.hasPrefix("Cloning into ") { report(line) } }
        }
        _ = try await run(arguments, in: nil, progress: shown)
    }

    /// Tags of the repository at `directory`, newest version first.
    public func tags(in directory: URL) async throws -> [String] {
        let result = try await run(["tag", "--list", "--sort=-version:refname"], in: directory)
        return result.output.split(separator: "\n").map(String.init)
    }

    /// The tag exactly at HEAD, if any.
    public func tagAtHead(in directory: URL) async throws -> String? {
        let result = try await run(["tag", "--points-at", "HEAD", "--sort=-version:refname"], in: directory)
        return result.output.split(separator: "\n").first.map(String.init)
    }

    /// The commit id of `revision`.
    public func revision(_ revision: String, in directory: URL) async throws -> String {
        try GitSafety.checkReference(revision)
        let result = try await run(
            ["rev-parse", "--verify", "--quiet", "\(revision)^{commit}"], in: directory)
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Tracked files changed or untracked files present (`git status --porcelain`).
    public func localChanges(in directory: URL) async throws -> [String] {
        let result = try await run(["status", "--porcelain", "--untracked-files=normal"], in: directory)
        return result.output.split(separator: "\n").map(String.init)
    }

    /// The `origin` remote's URL.
    public func originURL(in directory: URL) async throws -> String? {
        let result = try? await run(["config", "--get", "remote.origin.url"], in: directory)
        return result.map { $0.output.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap {
            $0.isEmpty ? nil : $0
        }
    }

    /// Submodule paths and URLs declared in `.gitmodules`.
    public func declaredSubmodules(in directory: URL) async throws -> [(name: String, url: String)] {
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent(".gitmodules").path)
        else {
            return []
        }
        let result = try? await run(
            ["config", "--file", ".gitmodules", "--get-regexp", "^submodule\\..*\\.url$"], in: directory)
        return (result?.output ?? "").split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            let key = parts[0].dropFirst("submodule.".count).dropLast(".url".count)
            return (String(key), String(parts[1]))
        }
    }
}
