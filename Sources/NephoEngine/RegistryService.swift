import Foundation
import NephoCore
import NephoProtocol
import NephoSupport

/// The registry half of the API: search, describe from an index, install, update,
/// uninstall, and the list of registries. `LocalAPI` forwards to it in one line each.
public struct RegistryService: Sendable {
    public let paths: NephoPaths
    public let git: any GitClient
    public let transport: any RegistryTransport
    /// Says which build of a cloudlet is running (see `CloudletRemover.activeBuild`).
    public var activeBuild: (@Sendable (String) async -> String?)?

    public init(
        paths: NephoPaths, git: any GitClient = SafeGit(),
        transport: any RegistryTransport = HTTPRegistryTransport(),
        activeBuild: (@Sendable (String) async -> String?)? = nil
    ) {
        self.paths = paths
        self.git = git
        self.transport = transport
        self.activeBuild = activeBuild
    }

    func config() throws -> NephoConfig { try NephoConfig(file: paths.config) }

    func cache(_ config: NephoConfig) throws -> RegistryCache {
        RegistryCache(
            root: paths.cache.appendingPathComponent("registries"), transport: transport,
            maxAge: try config.registryMaxAge())
    }

    func registries(_ config: NephoConfig) throws -> [RegistryLocation] {
        let list = try config.registries()
        if list.isEmpty {
            throw NephoError(
                .notFound,
                "no registries are configured: add one with `nepho cloudlet:registry add URL` (see docs/registry.md)"
            )
        }
        return list
    }

    // MARK: Search and describe

    public func search(_ params: RegistrySearchParams) async throws -> RegistrySearchResult {
        let config = try config()
        let cache = try cache(config)
        var tables: [RegistrySearchTable] = []
        var names: [String] = []
        var warnings: [String] = []
        for location in try registries(config) {
            if params.cachedOnly == true {
                if let table = cache.cachedTable(for: location) {
                    tables.append(table)
                    names.append(location.description)
                }
                continue
            }
            do {
                let (table, status) = try await cache.table(for: location)
                tables.append(table)
                names.append(location.description)
                if let warning = status.warning { warnings.append(warning) }
            } catch {
                warnings.append("registry \(location) skipped: \(Self.message(error))")
            }
        }
        if tables.isEmpty && params.cachedOnly == true {
            return RegistrySearchResult(query: params.query, hits: [], warnings: [])
        }
        if tables.isEmpty {
            throw NephoError(.toolFailed, "no registry could be read", details: warnings)
        }
        let hits = RegistrySearch(tables: tables).search(params.query).map {
            RegistrySearchHit(
                name: $0.name, summary: $0.summary, version: $0.version, registry: names[$0.registry],
                matched: $0.field.rawValue)
        }
        return RegistrySearchResult(query: params.query, hits: hits, warnings: warnings)
    }

    /// The first registry entry named `name`, with its registry, or nil.
    func lookUp(_ name: String, warnings: inout [String]) async throws -> (RegistryEntry, RegistryLocation)? {
        let config = try config()
        let cache = try cache(config)
        for location in try registries(config) {
            do {
                let (table, status) = try await cache.table(for: location)
                if let warning = status.warning { warnings.append(warning) }
                if let entry = table.entry(named: name) { return (entry, location) }
            } catch {
                warnings.append("registry \(location) skipped: \(Self.message(error))")
            }
        }
        return nil
    }

    /// `cloudlet:describe` for a cloudlet that is not installed: from the registries.
    public func describe(_ name: String) async throws -> CloudletDetail? {
        guard RegistryName.problem(name) == nil, (try? config().registries().isEmpty) == false else {
            return nil
        }
        var warnings: [String] = []
        guard let (entry, _) = try await lookUp(name, warnings: &warnings) else { return nil }
        return CloudletDetail(
            name: entry.name, version: entry.version, summary: entry.summary, description: entry.description,
            author: entry.author, license: entry.license, projectPage: entry.projectPage,
            repository: GitSource.redacted(entry.source), keywords: entry.keywords, path: nil, scenarios: [],
            versions: entry.versions)
    }

    // MARK: Install, update, uninstall

    public func install(_ params: CloudletInstallParams) async throws -> CloudletInstallResult {
        let directory = params.directory.map { URL(fileURLWithPath: $0) } ?? paths.cloudlets
        var warnings: [String] = []
        var request: CloudletInstaller.Request
        if let source = try Self.gitSource(params.source) {
            request = CloudletInstaller.Request(
                source: source, folderName: params.folderName, directory: directory)
        } else {
            let (name, version) = Self.splitVersion(params.source)
            if let problem = RegistryName.problem(name) {
                throw NephoError(
                    .invalidInput,
                    "\(params.source) is neither a registry name (owner/name[@version]) nor a git URL or path: \(problem)"
                )
            }
            guard let (entry, _) = try await lookUp(name, warnings: &warnings) else {
                throw NephoError(
                    .notFound, "no cloudlet named \(name) in the registries (try `nepho cloudlet:search`)",
                    details: warnings)
            }
            var tag = entry.version
            if let version {
                guard let found = entry.tag(for: version) else {
                    throw NephoError(
                        .notFound,
                        "\(entry.name) has no version \(version) (versions: \(entry.versions.joined(separator: ", ")))"
                    )
                }
                tag = found
            }
            let source: GitSource
            do {
                source = try GitSource(entry.source, relativeTo: URL(fileURLWithPath: "/"))
            } catch {
                throw NephoError(.invalidInput, "\(entry.name): \(error.description)")
            }
            request = CloudletInstaller.Request(
                source: source, tag: tag, expectedName: entry.name, folderName: params.folderName,
                directory: directory)
        }
        var result = try await CloudletInstaller(git: git).install(
            request, progress: params.progress == true ? RequestProgress.report : nil)
        let catalog = try CloudletCatalog(paths: paths, config: try config())
        if !catalog.directories.contains(where: {
            $0.url.standardizedFileURL.path == directory.standardizedFileURL.path
        }) {
            warnings.append(
                "\(directory.path) is not a cloudlet directory, so nepho will not find the cloudlet there:"
                    + " add it with `nepho cloudlet:dirs add \(directory.path)`")
        }
        result.warnings = warnings + result.warnings
        return result
    }

    public func update(_ params: CloudletUpdateParams) async throws -> CloudletUpdateResult {
        let catalog = try CloudletCatalog(paths: paths, config: try config())
        var cloudlets: [Cloudlet] = []
        if let name = params.name {
            cloudlets = [try catalog.find(name)]
        } else {
            for (_, entries) in catalog.scan() {
                for entry in entries where entry.shadowedBy == nil {
                    if case .success(let cloudlet) = entry.result { cloudlets.append(cloudlet) }
                }
            }
        }
        let updater = CloudletUpdater(git: git)
        let progress = params.progress == true ? RequestProgress.report : nil
        var outcomes: [CloudletUpdateOutcome] = []
        for cloudlet in cloudlets {
            progress?("Updating \(cloudlet.name) ...")
            outcomes.append(
                await updater.update(
                    cloudlet, force: params.force, latest: params.latest == true, progress: progress))
        }
        return CloudletUpdateResult(outcomes: outcomes)
    }

    public func uninstall(_ params: CloudletUninstallParams) async throws -> CloudletUninstallResult {
        let catalog = try CloudletCatalog(paths: paths, config: try config())
        let cloudlet = try catalog.find(params.name)
        return try await CloudletRemover(git: git, activeBuild: activeBuild).uninstall(
            cloudlet, dryRun: params.dryRun)
    }

    // MARK: Registries

    public func manage(_ params: RegistryManageParams) async throws -> RegistryManageResult {
        var config = try config()
        var list = try config.registries()
        let cache = try cache(config)
        var statuses: [RegistryLocation: RegistryCache.Status] = [:]
        var failures: [RegistryLocation: String] = [:]
        var added: (RegistryLocation, String)?
        func location(_ text: String?) throws -> RegistryLocation {
            guard let text else { throw NephoError(.invalidInput, "give the registry's URL") }
            do { return try RegistryLocation(text) } catch { throw NephoError(.invalidInput, "\(error)") }
        }
        switch params.action {
        case .list:
            break
        case .add:
            let new = try location(params.url)
            if list.contains(new) { throw NephoError(.conflict, "\(new) is already a registry") }
            list.append(new)
            config.setRegistries(list)
            try config.save()
            do {
                statuses[new] = try await cache.refresh(new, force: true)
            } catch {
                // Added all the same (it may be down for now); search will warn until it answers.
                added = (new, "added, but not readable yet: \(Self.message(error))")
            }
        case .remove:
            let old = try location(params.url)
            guard let index = list.firstIndex(of: old) else {
                throw NephoError(.notFound, "\(old) is not a registry (see `nepho cloudlet:registry list`)")
            }
            list.remove(at: index)
            config.setRegistries(list)
            try config.save()
            cache.remove(old)
        case .update:
            let targets = try params.url.map { [try location($0)] } ?? registries(config)
            for target in targets {
                if !list.contains(target) {
                    throw NephoError(
                        .notFound, "\(target) is not a registry (see `nepho cloudlet:registry list`)")
                }
                do { statuses[target] = try await cache.refresh(target, force: true) } catch {
                    failures[target] = Self.message(error)
                }
            }
        }
        let infos = list.enumerated().map { position, location -> RegistryInfo in
            var info = RegistryInfo(url: location.description, isDefault: position == 0)
            if let dates = cache.cachedDates(location) {
                info.fetchedAt = Timestamp.string(dates.fetched, fractionalSeconds: false)
            }
            if let status = statuses[location] {
                info.status = status.origin.rawValue
                info.warning = status.warning
            }
            if let failure = failures[location] {
                info.status = "failed"
                info.warning = failure
            }
            if let added, added.0 == location {
                info.status = "unreachable"
                info.warning = added.1
            }
            if !location.isLocal,
                let table = RegistrySearchTable(
                    contentsOf: cache.folder(for: location).appendingPathComponent("index.search"))
            {
                info.cloudlets = table.count
            }
            return info
        }
        return RegistryManageResult(registries: infos)
    }

    // MARK: Helpers

    /// A git source when `text` is a URL, an scp-like address or an absolute path; nil
    /// when it should be read as a registry name.
    static func gitSource(_ text: String) throws -> GitSource? {
        let looksLikeGit =
            text.hasPrefix("/") || text.contains("://") || text.contains("::")
            || (text.firstIndex(of: ":").map { !text[..<$0].contains("/") } ?? false) || text.hasPrefix("-")
        guard looksLikeGit else { return nil }
        do {
            return try GitSource(text)
        } catch {
            throw NephoError(.invalidInput, error.description)
        }
    }

    /// `owner/name@1.2.0` → (`owner/name`, `1.2.0`).
    static func splitVersion(_ text: String) -> (String, String?) {
        guard let at = text.lastIndex(of: "@") else { return (text, nil) }
        return (String(text[..<at]), String(text[text.index(after: at)...]))
    }

    static func message(_ error: Error) -> String {
        if let error = error as? NephoError { return error.message }
        return "\(error)"
    }
}
