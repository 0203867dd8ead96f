import Foundation
import NephoCore
import NephoProtocol
import NephoSupport

/// `registry:build`: reads cloudlet repositories (local folders or git URLs), checks
/// each one, and writes `index.json` and the browsable `index.html` into a folder.
///
/// For each source: the versions are its git tags, newest first; the metadata comes
/// from `cloudlet.yaml` at the newest tag (or the working tree when it has no tags);
/// the index's `source` is `source:` from cloudlet.yaml, else the URL or path given.
public struct RegistryBuilder: Sendable {
    public let git: any GitClient

    public init(git: any GitClient) { self.git = git }

    public func build(_ params: RegistryBuildParams) async throws -> RegistryBuildResult {
        guard !params.sources.isEmpty else {
            throw NephoError(.invalidInput, "give at least one cloudlet source")
        }
        let output = URL(fileURLWithPath: params.output).standardizedFileURL
        var entries: [RegistryEntry] = []
        var warnings: [String] = []
        var problems: [String] = []
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-registry-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        for (position, text) in params.sources.enumerated() {
            do {
                let entry = try await read(
                    text, scratch: scratch.appendingPathComponent("\(position)"), warnings: &warnings)
                if entries.contains(where: { $0.name == entry.name }) {
                    problems.append("\(text): \(entry.name) is listed twice")
                } else {
                    entries.append(entry)
                }
            } catch let error as NephoError {
                problems.append("\(text): " + ([error.message] + error.details).joined(separator: "\n    "))
            }
        }
        if !problems.isEmpty {
            throw NephoError(
                .invalidInput, "the registry was not written: fix these cloudlets first", details: problems)
        }
        let index = RegistryIndex(
            name: params.title, generated: Timestamp.string(Date(), fractionalSeconds: false),
            cloudlets: entries.sorted { $0.name < $1.name })
        let data = try index.encoded()
        // Refuse to publish what nepho itself would refuse to read.
        _ = try RegistryIndex.decode(data, origin: output.path, allowLocalSources: true)
        let indexFile = output.appendingPathComponent("index.json")
        let pageFile = output.appendingPathComponent("index.html")
        try AtomicFile.write(data + Data("\n".utf8), to: indexFile, mode: 0o644)
        try AtomicFile.write(
            Data(RegistryPage.render(index, title: params.title ?? "nepho cloudlets").utf8), to: pageFile,
            mode: 0o644)
        return RegistryBuildResult(
            index: indexFile.path, page: pageFile.path, cloudlets: index.cloudlets.map(\.name),
            warnings: warnings)
    }

    private func read(_ text: String, scratch: URL, warnings: inout [String]) async throws -> RegistryEntry {
        let source: GitSource
        do {
            source = try GitSource(text)
        } catch {
            throw NephoError(.invalidInput, error.description)
        }
        var folder = URL(fileURLWithPath: source.argument)
        let isRepository: Bool
        if source.isLocal {
            let path =
                source.kind == .file ? String(source.argument.dropFirst("file://".count)) : source.argument
            folder = URL(fileURLWithPath: path)
            isRepository = FileManager.default.fileExists(atPath: folder.appendingPathComponent(".git").path)
        } else {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            folder = scratch.appendingPathComponent("clone")
            do {
                try await git.clone(source, into: folder)
            } catch let error as GitError {
                throw NephoError(.toolFailed, "cannot clone: \(error.reason.summary)", details: error.lines)
            }
            isRepository = true
        }
        var tags: [String] = []
        var checkout = folder
        if isRepository {
            tags = try await git.tags(in: folder).filter { (try? GitSafety.checkReference($0)) != nil }
            if let newest = tags.first {
                // Read the newest release, not whatever the working tree holds.
                checkout = scratch.appendingPathComponent("release")
                try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
                try await git.clone(
                    try GitSource(folder.path), into: checkout, reference: newest)
            }
        }
        let cloudlet = try CloudletInstaller.validate(checkout)
        let manifest = cloudlet.manifest
        if let problem = RegistryName.problem(manifest.name) {
            throw NephoError(
                .invalidInput, "a registry needs owner/name names: \(problem) (set name: in cloudlet.yaml)")
        }
        var published = manifest.source ?? ""
        if published.isEmpty {
            published = source.argument
            if source.isLocal {
                warnings.append(
                    "\(manifest.name) has no source: in cloudlet.yaml; the index points at \(source.argument), usable on this machine only"
                )
            }
        }
        var versions = tags
        if versions.isEmpty {
            guard let version = manifest.version else {
                throw NephoError(
                    .invalidInput, "\(manifest.name) has no git tags and no version: tag a release first")
            }
            warnings.append(
                "\(manifest.name) has no git tags here; listing version \(version) from cloudlet.yaml")
            versions = [version]
        }
        let entry = RegistryEntry(
            name: manifest.name, summary: manifest.summary ?? "", description: manifest.description,
            version: versions[0], versions: versions, source: published, author: manifest.author,
            license: manifest.license, projectPage: manifest.projectPage, keywords: manifest.keywords)
        let found = entry.problems(allowLocalSources: true)
        if !found.isEmpty {
            throw NephoError(
                .invalidInput, "\(manifest.name) cannot be listed",
                details: found.map { "\($0.field): \($0.message)" })
        }
        return entry
    }
}
