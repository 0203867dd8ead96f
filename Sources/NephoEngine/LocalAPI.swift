import Foundation
import NephoCore
import NephoProtocol
import NephoStore
import NephoSupport

/// The engine: the whole API run in this process, what the daemon serves (as a
/// `NephoService`) and what `nepho --foreground` uses directly (as a `NephoAPI`).
/// `LocalAPI+Methods.swift` binds each `API` method to the function below that answers it.
public struct LocalAPI: Sendable {
    public let paths: NephoPaths
    /// The providers formations are built with.
    public let providers: ProviderRegistry
    /// Keeps a monitor on every unfinished build of this home.
    public let supervisor: MonitorSupervisor
    /// Wakes followers of a build when any process commits to `state.db`.
    public let changes: StoreChangeSignal
    /// Long-polls the queues of pushed stack events; the daemon starts it (`start()`).
    public let eventQueue: EventQueue
    /// How long a follower of a build waits for the store to change before it looks anyway
    /// (for the ETA, and in case a wake-up was lost): 5 s.
    public let followIdleLook: Double

    /// The engine of one process (nephod, or `nepho --foreground`), built once with what it
    /// shares between requests; each request brings its own `ProviderContext`.
    public init(
        paths: NephoPaths, providers: ProviderRegistry = .standard, supervisor: MonitorSupervisor? = nil,
        changes: StoreChangeSignal? = nil, followIdleLook: Double = 5
    ) {
        self.paths = paths
        self.followIdleLook = followIdleLook
        self.providers = providers
        self.supervisor = supervisor ?? MonitorSupervisor(paths: paths)
        self.changes = changes ?? StoreChangeSignal.shared(databasePath: paths.database.path)
        eventQueue = EventQueue(
            paths: paths, contexts: { [supervisor = self.supervisor] in supervisor.knownContexts() })
    }

    func catalog() throws -> CloudletCatalog {
        try CloudletCatalog(paths: paths, config: try NephoConfig(file: paths.config))
    }

    // MARK: Cloudlets

    public func cloudletList(_ params: NoParams) async throws -> CloudletListResult {
        try translatingErrors {
            var warnings: [String] = []
            let directories = try catalog().scan().map { directory, entries in
                let exists = FileManager.default.fileExists(atPath: directory.url.path)
                if !exists && !directory.isDefault {
                    warnings.append("cloudlet directory \(directory.url.path) does not exist")
                }
                let cloudlets = entries.map { entry -> CloudletSummary in
                    switch entry.result {
                    case .success(let cloudlet):
                        if let winner = entry.shadowedBy {
                            warnings.append(
                                "duplicate cloudlet \(cloudlet.name): \(entry.folder.path) is hidden by \(winner.path)"
                            )
                        }
                        return CloudletSummary(
                            name: cloudlet.name, version: cloudlet.manifest.version,
                            summary: cloudlet.manifest.summary,
                            path: entry.folder.path, shadowedBy: entry.shadowedBy?.path)
                    case .failure(let error):
                        let reason = error.problems.first.map { "\($0)" } ?? error.message
                        return CloudletSummary(
                            name: entry.folder.lastPathComponent, path: entry.folder.path, problem: reason)
                    }
                }
                return CloudletDirectoryListing(
                    path: directory.url.path, exists: exists, cloudlets: cloudlets)
            }
            return CloudletListResult(directories: directories, warnings: warnings)
        }
    }

    public func cloudletDescribe(_ params: CloudletRef, context: ProviderContext?) async throws
        -> CloudletDetail
    {
        do {
            return try describeInstalled(params)
        } catch let error as NephoError where error.code == .notFound {
            // Not installed: describe it from the registries (docs/registry.md).
            if let detail = try? await registryService(context).describe(params.name) { return detail }
            throw error
        }
    }

    func describeInstalled(_ params: CloudletRef) throws -> CloudletDetail {
        try translatingErrors {
            let cloudlet = try catalog().find(params.name)
            let manifest = cloudlet.manifest
            return CloudletDetail(
                name: manifest.name, version: manifest.version, summary: manifest.summary,
                description: manifest.description, author: manifest.author, license: manifest.license,
                projectPage: manifest.projectPage, repository: manifest.source, keywords: manifest.keywords,
                path: cloudlet.folder.path, scenarios: scenarioSummaries(cloudlet))
        }
    }

    public func cloudletCreate(_ params: CloudletCreateParams) async throws -> CloudletCreateResult {
        try translatingErrors {
            // A client sends absolute paths (its own folder resolved); a relative one would be
            // taken against the daemon's folder, which is nobody's intent.
            if let given = params.directory, !given.hasPrefix("/") {
                throw NephoError(
                    .invalidInput, "the cloudlet directory \"\(given)\" must be an absolute path")
            }
            let directory = params.directory.map { URL(fileURLWithPath: $0) } ?? paths.cloudlets
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let (folder, files) = try CloudletScaffold.create(name: params.name, in: directory)
            return CloudletCreateResult(name: params.name, path: folder.path, files: files)
        }
    }

    public func cloudletValidate(_ params: CloudletValidateParams) async throws -> ValidationReport {
        try translatingErrors {
            var folder = URL(fileURLWithPath: params.path)
            if !params.path.hasPrefix("/") {
                folder = try catalog().find(params.path).folder
            }
            var problems: [CloudletProblem] = CloudletValidator().validate(folder)
            problems.sort { ($0.severity == .error ? 0 : 1) < ($1.severity == .error ? 0 : 1) }
            return ValidationReport(
                path: folder.path, name: (try? Cloudlet.open(folder))?.name,
                problems: problems.map {
                    Problem(
                        file: $0.file, line: $0.mark.line, column: $0.mark.column,
                        severity: $0.severity == .error ? .error : .warning, message: $0.message)
                })
        }
    }

    public func cloudletDirs(_ params: CloudletDirsParams) async throws -> CloudletDirsResult {
        try translatingErrors {
            var config = try NephoConfig(file: paths.config)
            var extra = try config.cloudletDirectories()
            switch params.action {
            case .list:
                break
            case .add, .remove:
                guard let path = params.path, path.hasPrefix("/") else {
                    throw NephoError(.invalidInput, "a cloudlet directory must be an absolute path")
                }
                let normalized = URL(fileURLWithPath: path).standardizedFileURL.path
                if normalized == paths.cloudlets.path {
                    throw NephoError(
                        .conflict,
                        "\(normalized) is the default cloudlet directory; it is always searched first")
                }
                if params.action == .add {
                    if extra.contains(normalized) {
                        throw NephoError(.conflict, "\(normalized) is already a cloudlet directory")
                    }
                    extra.append(normalized)
                } else {
                    guard let index = extra.firstIndex(of: normalized) else {
                        throw NephoError(
                            .notFound, "\(normalized) is not a cloudlet directory (see `nepho cloudlet:dirs`)"
                        )
                    }
                    extra.remove(at: index)
                }
                config.set(
                    NephoConfig.cloudletDirsKey,
                    extra.isEmpty ? nil : YAMLNode(.sequence(extra.map { .string($0) })))
                try config.save()
            }
            let all = [(paths.cloudlets.path, true)] + extra.map { ($0, false) }
            return CloudletDirsResult(
                directories: all.map {
                    CloudletDirectory(
                        path: $0.0, isDefault: $0.1, exists: FileManager.default.fileExists(atPath: $0.0))
                })
        }
    }

    // MARK: Scenarios

    public func scenarioList(_ params: CloudletRef) async throws -> ScenarioListResult {
        try translatingErrors {
            let cloudlet = try catalog().find(params.name)
            return ScenarioListResult(cloudlet: cloudlet.name, scenarios: scenarioSummaries(cloudlet))
        }
    }

    public func scenarioDescribe(_ params: ScenarioDescribeParams) async throws -> ScenarioDetail {
        if let provider = params.provider { _ = try providers.driver(for: Provider(provider)) }
        return try translatingErrors {
            let (cloudlet, scenarioName) = try catalog().find(params.cloudlet, scenario: params.scenario)
            let scenario = try cloudlet.scenario(scenarioName)
            let values = try resolver(cloudlet: cloudlet, scenario: scenario, overrides: params.overrides)
                .resolve()
            let parameters = values.map(Self.wire)
            return ScenarioDetail(
                cloudlet: cloudlet.name, name: scenario.name, summary: scenario.summary,
                description: scenario.description, provider: scenario.provider.id, pattern: scenario.pattern,
                provisioner: scenario.provisioner, path: scenario.file.path, parameters: parameters,
                configuration: Self.configuration(scenario.document, parameters: parameters))
        }
    }

    /// The layers of parameters for `scenario` of `cloudlet`, with the command line's.
    public func resolver(cloudlet: Cloudlet, scenario: Scenario, overrides: [String: String]) throws
        -> ParameterResolver
    {
        try FormationLifecycle.resolver(
            paths: paths, providers: providers, cloudlet: cloudlet, scenario: scenario, overrides: overrides)
    }

    func scenarioSummaries(_ cloudlet: Cloudlet) -> [ScenarioSummary] {
        cloudlet.scenarioNames.map { name in
            ScenarioSummary(
                name: name, summary: (try? cloudlet.scenario(name))?.summary,
                path: cloudlet.scenarioFile(name).path)
        }
    }

    // MARK: Parameters

    public func parameterList(_ params: NoParams) async throws -> ParameterListResult {
        try translatingErrors { try listing(UserParameters(file: paths.userParameters)) }
    }

    public func parameterGet(_ params: ParameterKey) async throws -> UserParameter {
        try translatingErrors {
            guard let value = try UserParameters(file: paths.userParameters)[params.key] else {
                throw NephoError(
                    .notFound, "parameter \(params.key) is not set in \(paths.userParameters.path)")
            }
            return UserParameter(
                key: params.key, value: secretParameterNames().contains(params.key) ? Self.mask : value)
        }
    }

    public func parameterSet(_ params: UserParameter) async throws -> ParameterListResult {
        try translatingErrors {
            if let problem = UserParameters.keyProblem(params.key) {
                throw NephoError(.invalidInput, problem)
            }
            var user = try UserParameters(file: paths.userParameters)
            user.set(params.key, params.value)
            try user.save()
            return listing(user)
        }
    }

    public func parameterUnset(_ params: ParameterKey) async throws -> ParameterListResult {
        try translatingErrors {
            var user = try UserParameters(file: paths.userParameters)
            guard user.unset(params.key) else {
                throw NephoError(
                    .notFound, "parameter \(params.key) is not set in \(paths.userParameters.path)")
            }
            try user.save()
            return listing(user)
        }
    }

    /// The user layer as shown: a value some installed cloudlet declares secret shows as
    /// `********` (it stays as it is in `params.yaml`, which only the user can read).
    private func listing(_ user: UserParameters) -> ParameterListResult {
        let secrets = secretParameterNames()
        return ParameterListResult(
            path: user.file.path,
            parameters: user.values.map {
                UserParameter(key: $0.key, value: secrets.contains($0.key) ? Self.mask : $0.value)
            })
    }

    /// Parameter names an installed cloudlet declares secret: in `cloudlet.yaml`, in a
    /// scenario (`secret: true`), or in its pattern (a template's `NoEcho`).
    func secretParameterNames() -> Set<String> {
        guard let catalog = try? catalog() else { return [] }
        var names: Set<String> = []
        for entry in catalog.scan().flatMap(\.entries) {
            guard case .success(let cloudlet) = entry.result else { continue }
            names.formUnion(cloudlet.manifest.parameters.filter(\.secret).map(\.name))
            for name in cloudlet.scenarioNames {
                guard let scenario = try? cloudlet.scenario(name) else { continue }
                names.formUnion(scenario.parameters.filter(\.secret).map(\.name))
                let declared = try? providers.driver(for: scenario.provider).declaredParameters(
                    cloudlet: cloudlet, scenario: scenario)
                names.formUnion((declared ?? []).filter(\.secret).map(\.name))
            }
        }
        return names
    }
}
