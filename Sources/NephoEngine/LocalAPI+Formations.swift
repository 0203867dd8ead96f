import Foundation
import NephoAWS
import NephoCore
import NephoProtocol
import NephoStore
import NephoSupport

/// Formations (docs/formations.md): the provider call happens here, in the daemon (or
/// the foreground process); the watching happens in a monitor process per build.
/// Formations (docs/formations.md): each `formation.*` method runs the provider-neutral
/// `FormationLifecycle`, which calls the formation's `FormationDriver`; the watching
/// happens in a monitor process per build.
extension LocalAPI {
    func store() throws -> StateStore { try StateStore(path: paths.database.path) }

    /// The provider variables of the request: the client's (through the daemon) or this process's.
    var providerEnvironment: [String: String] {
        ProviderContext.current?.environment
            ?? ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("AWS_") }
    }

    /// What every driver call of this request gets.
    var driverContext: DriverContext {
        DriverContext(
            paths: paths, environment: providerEnvironment, client: ProviderContext.current?.environment)
    }

    /// The lifecycle of this request, with every unfinished build nobody watches resumed
    /// first (after a restart, a crash), using this request's context for builds whose own is lost.
    func lifecycle() throws -> FormationLifecycle {
        let lifecycle = FormationLifecycle(
            paths: paths, providers: providers, context: driverContext, store: try store())
        lifecycle.resumeBuilds()
        return lifecycle
    }

    public func formationCreate(_ params: FormationCreateParams) async throws -> BuildSummary {
        let lifecycle = try lifecycle()
        let (cloudlet, scenario) = try translatingErrors { () -> (Cloudlet, Scenario) in
            let cloudlet = try catalog().find(params.cloudlet)
            return (cloudlet, try cloudlet.scenario(params.scenario ?? "default"))
        }
        let driver = try providers.driver(for: params.provider.map(Provider.init) ?? scenario.provider)
        let name = params.name ?? "\(cloudlet.name)-\(scenario.name)"
        if let problem = FormationName.problem(name) { throw NephoError(.invalidInput, problem) }
        let values = try translatingErrors {
            try resolver(cloudlet: cloudlet, scenario: scenario, overrides: params.overrides).resolve()
        }
        return try await lifecycle.create(
            FormationPlan(name: name, cloudlet: cloudlet, scenario: scenario, values: values), driver: driver)
    }

    public func formationList(_ params: NoParams) async throws -> FormationListResult {
        let lifecycle = try lifecycle()
        let records = try lifecycle.store.formations()
        var summaries = records.map {
            FormationSummary(
                name: $0.name, cloudlet: $0.cloudlet, scenario: $0.scenario, status: $0.status,
                stackID: $0.stackID,
                createdAt: $0.createdAt, source: "nepho")
        }
        var warnings: [String] = []
        let known = Set(summaries.compactMap(\.stackID))
        for driver in providers.all {
            do {
                summaries += try await driver.unrecorded(known: known, context: lifecycle.context)
            } catch let error as NephoError {
                // Someone who builds only with other providers has no account here to list: say nothing then.
                let unused = !records.isEmpty && !records.contains { $0.provider == driver.provider.id }
                if !(unused && error.code == .missingCredentials) {
                    warnings.append("\(driver.noun)s in the account not listed: \(error.message)")
                }
            } catch {
                warnings.append("\(driver.noun)s in the account not listed: \(SystemError.reason(error))")
            }
        }
        return FormationListResult(formations: summaries.sorted { $0.name < $1.name }, warnings: warnings)
    }

    public func formationDescribe(_ params: FormationRef) async throws -> FormationDetail {
        let lifecycle = try lifecycle()
        let store = lifecycle.store
        let formation = try lifecycle.formation(params.name)
        let driver = try lifecycle.driver(of: formation)
        let builds = try store.builds(formationID: formation.id)
        let timeline = try builds.last.map { try store.events(buildID: $0.id).map(Self.sequenced) } ?? []
        return FormationDetail(
            name: formation.name, cloudlet: formation.cloudlet, scenario: formation.scenario,
            status: formation.status, stackID: formation.stackID, region: formation.region,
            parameters: JSONText.decode(formation.parameters), outputs: JSONText.decode(formation.outputs),
            builds: builds.map { Self.summary($0, formation: formation.name) }, timeline: timeline,
            provider: formation.provider,
            resources: try driver.resources(formation, builds: builds, store: store),
            sshRoute: driver.sshRoute)
    }

    public func formationUpdate(_ params: FormationUpdateParams) async throws -> FormationUpdateResult {
        try await lifecycle().update(params)
    }

    public func formationDestroy(_ params: FormationActionParams) async throws -> BuildSummary {
        try await lifecycle().destroy(params.name)
    }

    public func formationCancel(_ params: FormationActionParams) async throws -> BuildSummary {
        try await lifecycle().cancel(params.name)
    }

    public func formationWatch(_ params: FormationWatchParams) async throws -> FormationWatchResult {
        let lifecycle = try lifecycle()
        let store = lifecycle.store
        let formation = try lifecycle.formation(params.name)
        let builds = try store.builds(formationID: formation.id)
        let chosen: BuildRecord? = params.build.map { id in builds.first { $0.id == id } } ?? builds.last
        guard let build = chosen else {
            throw NephoError(
                .notFound, "formation \(params.name) has no build \(params.build.map(String.init) ?? "")")
        }
        let deadline = Date().addingTimeInterval(min(max(params.wait, 0), 60))
        // Woken as soon as a monitor commits (docs/daemon.md, "Streaming").
        let changes = StoreChangeSignal.shared(databasePath: paths.database.path)
        var seen = changes.current
        while true {
            let events = try store.events(buildID: build.id, after: params.after)
            let current = try store.build(id: build.id) ?? build
            if !events.isEmpty || current.finishedAt != nil || Date() >= deadline {
                let outputs = JSONText.decode(try store.formation(id: formation.id)?.outputs ?? "{}")
                return FormationWatchResult(
                    build: Self.summary(current, formation: formation.name),
                    events: events.map(Self.sequenced),
                    outputs: outputs)
            }
            let left = deadline.timeIntervalSinceNow
            seen = await changes.changed(after: seen, timeout: changes.isWatching ? left : min(left, 0.2))
        }
    }

    public func formationLogs(_ params: FormationRef) async throws -> FormationLogsResult {
        let lifecycle = try lifecycle()
        let store = lifecycle.store
        let formation = try lifecycle.formation(params.name)
        return FormationLogsResult(
            name: formation.name,
            builds: try store.builds(formationID: formation.id).map {
                BuildLog(
                    build: Self.summary($0, formation: formation.name),
                    events: try store.events(buildID: $0.id).map(Self.sequenced))
            })
    }

    /// The unfinished build of a cloudlet's formation, for `cloudlet:uninstall`.
    func activeBuild(cloudlet: String) -> String? {
        guard FileManager.default.fileExists(atPath: paths.database.path), let store = try? store(),
            let builds = try? store.unfinishedBuilds()
        else { return nil }
        for build in builds {
            if let formation = try? store.formation(id: build.formationID), formation.cloudlet == cloudlet {
                return "\(build.operation.rawValue) of formation \(formation.name) (build \(build.id))"
            }
        }
        return nil
    }

    // MARK: conversions

    static func summary(_ build: BuildRecord, formation: String) -> BuildSummary {
        FormationLifecycle.summary(build, formation: formation)
    }

    static func sequenced(_ event: EventRecord) -> SequencedEvent {
        SequencedEvent(
            build: event.buildID, sequence: event.sequence,
            event: BuildEvent(
                eventID: event.providerEventID, timestamp: event.timestamp, logicalID: event.logicalID,
                resourceType: event.resourceType, status: event.status, reason: event.reason))
    }
}
