import Foundation

/// Runs git. Everything nepho asks of git goes through one `run`, so one implementation
/// (`SafeGit`) decides the environment, the configuration and the time limit.
public protocol GitClient: Sendable {
    /// Runs `git ARGUMENTS` in `directory` and returns its result when it succeeds;
    /// throws `GitError` (with the command line and output) when it does not.
    func run(_ arguments: [String], in directory: URL?) async throws -> ProcessResult
}

/// A git command that failed, timed out or could not start.
public struct GitError: Error, Sendable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        case failed(status: Int32)
        case timedOut(seconds: Double)
        case notStarted(String)
        /// The server wanted a password or key, and nepho never prompts.
        case authenticationRequired
    }

    public var reason: Reason
    /// The command line, with secrets in URLs redacted.
    public var command: [String]
    /// git's standard error (and output), trimmed, secrets redacted.
    public var output: String

    public init(reason: Reason, command: [String], output: String) {
        self.reason = reason
        self.command = command
        self.output = output
    }

    public var description: String {
        let what: String
        switch reason {
        case .failed(let status): what = "failed (exit status \(status))"
        case .timedOut(let seconds): what = "was stopped after its time limit of \(Int(seconds)) s"
        case .notStarted(let why): what = "could not start: \(why)"
        case .authenticationRequired:
            what =
                "failed: the server asked for credentials (or its ssh host key is unknown) and nepho never"
                + " prompts: use an ssh agent or a git credential helper, and add the host to ~/.ssh/known_hosts"
        }
        var text = "\(command.joined(separator: " ")) \(what)"
        if !output.isEmpty { text += "\n" + output }
        return text
    }
}

extension GitClient {
    /// Clones `source` into `destination` (which must not exist), optionally at a tag or
    /// branch, without submodules and without a checkout of anything but that ref.
    public func clone(_ source: GitSource, into destination: URL, reference: String? = nil) async throws {
        var arguments = ["clone", "--quiet", "--no-recurse-submodules"]
        if let reference {
            try GitSafety.checkReference(reference)
            arguments += ["--branch", reference]
        }
        arguments += ["--", source.argument, destination.path]
        _ = try await run(arguments, in: nil)
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

/// Checks on values nepho passes to git besides URLs.
public enum GitSafety {
    /// A tag or branch name: no leading '-', no white space or control characters, no '..'.
    public static func checkReference(_ reference: String) throws {
        let bad =
            reference.isEmpty || reference.hasPrefix("-") || reference.contains("..")
            || reference.unicodeScalars.contains {
                $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7f
                    || "~^:?*[\\".unicodeScalars.contains($0)
            }
        if bad {
            throw GitError(
                reason: .notStarted("'\(reference)' is not an acceptable tag or branch name"),
                command: ["git"],
                output: "")
        }
    }

    /// Arguments that would change what git runs or where it connects; refused anywhere
    /// in an argument list (`--upload-pack=…`, `-u …`, `--config=…`, `--template=…`).
    public static func checkArguments(_ arguments: [String]) throws {
        let dangerous = [
            "--upload-pack", "--receive-pack", "--exec", "-u", "--config", "-c", "--template",
            "--separate-git-dir",
        ]
        var afterSeparator = false
        for argument in arguments {
            if argument == "--" {
                afterSeparator = true
                continue
            }
            if afterSeparator { continue }
            for option in dangerous
            where argument == option || argument.hasPrefix(option + "=")
                || (option.count == 2 && argument.hasPrefix(option) && option != "-c")
            {
                throw GitError(
                    reason: .notStarted("the argument '\(argument)' is not allowed"),
                    command: ["git"] + arguments,
                    output: "")
            }
        }
    }
}
