import Foundation
import NephoCore
import NephoProtocol
import NephoSupport

/// Installs a cloudlet from git: clones into a hidden temporary folder inside the
/// target cloudlet directory (same filesystem), fetches submodules when the cloudlet
/// asks for them, validates it, then renames it into place. On any failure the
/// temporary folder is removed and the cloudlet directory is as it was.
public struct CloudletInstaller: Sendable {
    public let git: any GitClient
    /// Temporary folders older than this, left by a killed install, are swept away.
    static let staleAge: TimeInterval = 3600
    static let temporaryPrefix = ".nepho-install-"

    public init(git: any GitClient) { self.git = git }

    /// What to install and where.
    public struct Request: Sendable {
        public var source: GitSource
        /// A tag to check out; nil takes the newest version tag, or the default branch when there is none.
        public var tag: String?
        /// The name a registry promised; the cloned cloudlet must carry it.
        public var expectedName: String?
        public var folderName: String?
        public var directory: URL

        public init(
            source: GitSource, tag: String? = nil, expectedName: String? = nil, folderName: String? = nil,
            directory: URL
        ) {
            self.source = source
            self.tag = tag
            self.expectedName = expectedName
            self.folderName = folderName
            self.directory = directory
        }
    }

    /// With `progress`, each notice and git's own progress lines are reported there as
    /// they come (for a terminal), besides the notices of the result.
    public func install(
        _ request: Request, notices initial: [String] = [], progress: (@Sendable (String) -> Void)? = nil
    ) async throws
        -> CloudletInstallResult
    {
        var notices = Notices(lines: initial, progress: progress)
        let directory = request.directory.standardizedFileURL
        if let folder = request.folderName, let problem = RegistryName.folderProblem(folder) {
            throw NephoError(.invalidInput, "--name \(folder): \(problem)")
        }
        if let folder = request.folderName {
            try ensureFree(directory.appendingPathComponent(folder))
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw NephoError(
                .permissionDenied, "cannot create the cloudlet directory \(directory.path): \(error)")
        }
        sweepStaleTemporaryFolders(in: directory)
        notices.append("Preparing to install into \(directory.path) ...")
        let temporary = directory.appendingPathComponent(Self.temporaryPrefix + UUID().uuidString)
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: temporary) }

        let clone = temporary.appendingPathComponent("clone")
        notices.append("Cloning from \(request.source) ...")
        do {
            try await git.clone(request.source, into: clone, reference: request.tag, progress: progress)
        } catch let error as GitError {
            throw NephoError(
                .toolFailed, "cannot clone \(request.source): \(error.reason.summary)", details: error.lines)
        }
        var tag = request.tag
        if let pinned = request.tag {
            // A version asked for stays: `cloudlet:update` keeps it unless --latest.
            _ = try await git.run(["config", CloudletUpdater.pinKey, pinned], in: clone)
        }
        if tag == nil, let newest = try await git.tags(in: clone).first {
            _ = try await git.run(["checkout", "--quiet", "--detach", "refs/tags/\(newest)"], in: clone)
            tag = newest
        }
        if CloudletInstaller.wantsSubmodules(clone) {
            notices.append("Fetching submodules ...")
            try await CloudletInstaller.updateSubmodules(in: clone, parent: request.source, git: git)
        }
        let cloudlet = try CloudletInstaller.validate(clone)
        if let expected = request.expectedName, cloudlet.name.lowercased() != expected.lowercased() {
            throw NephoError(
                .invalidInput,
                "the registry lists \(expected), but the repository's cloudlet.yaml names \(cloudlet.name): not installed"
            )
        }
        let folderName = request.folderName ?? CloudletName.folderName(cloudlet.name)
        if let problem = RegistryName.folderProblem(folderName) {
            throw NephoError(.invalidInput, "cannot install \(cloudlet.name): \(problem)")
        }
        let destination = directory.appendingPathComponent(folderName)
        try ensureFree(destination)
        guard rename(clone.path, destination.path) == 0 else {
            throw NephoError(
                .internalError,
                "cannot move the cloudlet into \(destination.path): \(String(cString: strerror(errno)))")
        }
        return CloudletInstallResult(
            name: cloudlet.name, version: cloudlet.manifest.version ?? tag, tag: tag, path: destination.path,
            directory: directory.path, source: request.source.description, notices: notices.lines,
            warnings: [])
    }

    /// The notices of an install, each also reported as it comes when progress is asked for.
    struct Notices {
        var lines: [String]
        let progress: (@Sendable (String) -> Void)?

        mutating func append(_ notice: String) {
            lines.append(notice)
            progress?("Notice: \(notice)")
        }
    }

    private func ensureFree(_ destination: URL) throws {
        if FileManager.default.fileExists(atPath: destination.path) {
            throw NephoError(
                .conflict,
                "\(destination.path) already exists: use `nepho cloudlet:update` or `nepho cloudlet:uninstall` first, or --name"
            )
        }
    }

    /// Removes temporary folders of installs that were killed.
    private func sweepStaleTemporaryFolders(in directory: URL) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names
        where name.hasPrefix(Self.temporaryPrefix) || name.hasPrefix(CloudletRemover.temporaryPrefix) {
            let url = directory.appendingPathComponent(name)
            let modified =
                (try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date
            if let modified, Date().timeIntervalSince(modified) > Self.staleAge {
                try? FileManager.default.removeItem(at: url)
            }
        }
    }

    /// Opens and validates the cloudlet in `folder`; throws with every error found.
    static func validate(_ folder: URL) throws -> Cloudlet {
        let problems = CloudletValidator().validate(folder).filter { $0.severity == .error }
        if !problems.isEmpty {
            throw NephoError(
                .invalidInput, "the repository is not a valid cloudlet: not installed",
                details: problems.map { CloudletInstaller.relative($0.description, to: folder) })
        }
        do {
            return try Cloudlet.open(folder)
        } catch let error as CloudletError {
            throw NephoError(
                .invalidInput, "the repository is not a valid cloudlet: not installed",
                details: error.problems.map { CloudletInstaller.relative($0.description, to: folder) })
        }
    }

    /// Problem lines name files inside the cloudlet, not the temporary folder.
    static func relative(_ line: String, to folder: URL) -> String {
        line.replacingOccurrences(of: folder.path + "/", with: "")
    }

    /// True when cloudlet.yaml says `submodules: true`.
    static func wantsSubmodules(_ folder: URL) -> Bool {
        guard
            let root = try? YAMLParser().parseFile(folder.appendingPathComponent(CloudletManifest.fileName)),
            case .bool(true)? = root["submodules"]?.resolved
        else { return false }
        return true
    }

    /// Checks every submodule URL with the safe-git rules (local ones only when the
    /// cloudlet itself is local), then fetches them, one level deep.
    static func updateSubmodules(in folder: URL, parent: GitSource, git: any GitClient) async throws {
        for (name, url) in try await git.declaredSubmodules(in: folder) {
            if url.hasPrefix("./") || url.hasPrefix("../") { continue }
            do {
                let source = try GitSource(url, relativeTo: folder)
                if source.isLocal && !parent.isLocal {
                    throw NephoError(
                        .invalidInput,
                        "submodule \(name) points at a local path (\(url)), which a remote cloudlet may not use"
                    )
                }
            } catch let error as GitSourceError {
                throw NephoError(.invalidInput, "submodule \(name): \(error.description)")
            }
        }
        do {
            _ = try await git.run(
                ["submodule", "--quiet", "update", "--init", "--no-recommend-shallow"], in: folder)
        } catch let error as GitError {
            throw NephoError(
                .toolFailed, "cannot fetch submodules: \(error.reason.summary)", details: error.lines)
        }
    }
}

extension GitError.Reason {
    /// A few words for an error message.
    var summary: String {
        switch self {
        case .failed(let status): "git failed (exit status \(status))"
        case .timedOut(let seconds): "git was stopped after its time limit of \(Int(seconds)) s"
        case .notStarted(let why): why
        case .authenticationRequired:
            "the server asked for credentials (or its ssh host key is unknown) and nepho never prompts:"
                + " use an ssh agent or a git credential helper, and add the host to ~/.ssh/known_hosts"
        }
    }
}

extension GitError {
    /// The command and git's output, as detail lines.
    var lines: [String] {
        ["$ " + command.joined(separator: " ")] + output.split(separator: "\n").map(String.init)
    }
}
