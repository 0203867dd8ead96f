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

    /// What every driver call of a request gets: the provider variables of the client
    /// (through the daemon), or in the foreground (`context` nil) this process's `AWS_*` ones.
    func driverContext(_ context: ProviderContext?) -> DriverContext {
        DriverContext(
            paths: paths,
            environment: context?.environment
                ?? ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("AWS_") },
            client: context?.environment)
    }

    /// The lifecycle of a request, with every unfinished build nobody watches resumed
    /// first (after a restart, a crash), using this request's context for builds whose own is lost.
    func lifecycle(_ context: ProviderContext?) throws -> FormationLifecycle {
        let lifecycle = FormationLifecycle(
            paths: paths, providers: providers, context: driverContext(context), store: try store(),
            supervisor: supervisor)
        lifecycle.resumeBuilds()
        return lifecycle
    }

    public func formationCreate(_ params: FormationCreateParams, context: ProviderContext?) async throws
        -> BuildSummary
    {
        let lifecycle = try lifecycle(context)
        let (cloudlet, scenario) = try translatingErrors { () -> (Cloudlet, Scenario) in
            let (cloudlet, scenario) = try catalog().find(params.cloudlet, scenario: params.scenario)
            return (cloudlet, try cloudlet.scenario(scenario))
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

    /// nepho's formations (destroyed ones only with `all`), then the formations each
    /// provider holds that `state.db` does not (not with `recordedOnly`).
    public func formationList(_ params: FormationListParams, context: ProviderContext?) async throws
        -> FormationListResult
    {
        let lifecycle = try lifecycle(context)
        let stored = try lifecycle.store.formations()
        let records = stored.filter { record in
            params.all == true
                || (try? lifecycle.driver(of: record))?.succeeded(.destroy, record.status) != true
        }
        let forecaster = BuildForecaster(store: lifecycle.store, catalog: try? catalog())
        var summaries = records.map { record in
            var summary = FormationSummary(
                name: record.name, cloudlet: record.cloudlet, scenario: record.scenario,
                status: record.status,
                stackID: record.stackID,
                createdAt: record.createdAt, source: "nepho")
            // A build in flight: its progress and ETA.
            if let build = try? lifecycle.store.builds(formationID: record.id).last, build.finishedAt == nil,
                let estimator = try? forecaster.estimator(for: record, build: build),
                let events = try? lifecycle.store.events(buildID: build.id)
            {
                summary.progress = BuildForecaster.estimate(
                    estimator, build: build, events: events.compactMap(BuildForecaster.observed),
                    vagrant: record.provider == Providers.vagrant.provider.id)
            }
            return summary
        }
        var warnings: [String] = []
        if params.recordedOnly == true { return FormationListResult(formations: summaries, warnings: []) }
        let known = Set(stored.compactMap(\.stackID))
        for driver in providers.all {
            do {
                summaries += try await driver.unrecorded(known: known, context: lifecycle.context)
            } catch let error as NephoError {
                // Someone who builds only with other providers has no account here to list: say nothing then.
                let unused = !stored.isEmpty && !stored.contains { $0.provider == driver.provider.id }
                if !(unused && error.code == .missingCredentials) {
                    warnings.append("\(driver.noun)s in the account not listed: \(error.message)")
                }
            } catch {
                warnings.append("\(driver.noun)s in the account not listed: \(SystemError.reason(error))")
            }
        }
        return FormationListResult(formations: summaries.sorted { $0.name < $1.name }, warnings: warnings)
    }

    public func formationDescribe(_ params: FormationRef, context: ProviderContext?) async throws
        -> FormationDetail
    {
        let lifecycle = try lifecycle(context)
        let store = lifecycle.store
        var formation = try await lifecycle.formation(params.name)
        let driver = try lifecycle.driver(of: formation)
        let builds = try store.builds(formationID: formation.id)
        let confirmedAt = await driver.confirm(
            formation, builds: builds, store: store, context: lifecycle.context)
        formation = try store.formation(id: formation.id) ?? formation
        let timeline = try builds.last.map { try store.events(buildID: $0.id).map(Self.sequenced) } ?? []
        return FormationDetail(
            name: formation.name, cloudlet: formation.cloudlet, scenario: formation.scenario,
            status: formation.status, stackID: formation.stackID, region: formation.region,
            parameters: formation.parameters, outputs: formation.outputs,
            builds: builds.map { lifecycle.summary($0, of: formation) }, timeline: timeline,
            provider: formation.provider,
            resources: try driver.resources(formation, builds: builds, store: store), confirmedAt: confirmedAt
        )
    }

    public func formationAccess(_ params: FormationAccessParams, context: ProviderContext?) async throws
        -> FormationAccess
    {
        let lifecycle = try lifecycle(context)
        let formation = try await lifecycle.formation(params.name)
        let scenario = try? catalog().find(formation.cloudlet).scenario(formation.scenario)
        return try await lifecycle.driver(of: formation).access(
            formation, scenario: scenario, params: params, context: lifecycle.context)
    }

    public func formationUpdate(_ params: FormationUpdateParams, context: ProviderContext?) async throws
        -> FormationUpdateResult
    {
        try await lifecycle(context).update(params)
    }

    public func formationDestroy(_ params: FormationActionParams, context: ProviderContext?) async throws
        -> BuildSummary
    {
        try await lifecycle(context).destroy(params.name)
    }

    public func formationCancel(_ params: FormationActionParams, context: ProviderContext?) async throws
        -> BuildSummary
    {
        try await lifecycle(context).cancel(params.name)
    }

    /// A build's progress as a stream: the stored events after `params.after`, then each
    /// new one as a monitor stores it (woken at once by the store's change signal), then
    /// the outcome. Nothing is sent twice; ending the stream (the client left) stops it.
    public func formationFollow(_ params: FormationFollowParams, context: ProviderContext?)
        -> AsyncThrowingStream<BuildProgress, Error>
    {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await follow(params, context: context) { continuation.yield($0) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private func follow(
        _ params: FormationFollowParams, context: ProviderContext?, _ send: (BuildProgress) -> Void
    ) async throws {
        let lifecycle = try lifecycle(context)
        let store = lifecycle.store
        let formation = try await lifecycle.formation(params.name)
        let builds = try store.builds(formationID: formation.id)
        let chosen: BuildRecord? = params.build.map { id in builds.first { $0.id == id } } ?? builds.last
        guard var build = chosen else {
            throw NephoError(
                .notFound, "formation \(params.name) has no build \(params.build.map(String.init) ?? "")")
        }
        guard params.after >= 0 else { throw NephoError(.invalidInput, "\"after\" must be 0 or more") }
        // Progress and the ETA: the durations learned before this build, its template, its events.
        let estimator = try? BuildForecaster(store: store, catalog: try? catalog())
            .estimator(for: formation, build: build)
        var observed = try store.events(buildID: build.id, limit: Int(min(params.after, 100_000)))
            .compactMap(BuildForecaster.observed)
        func estimate(_ build: BuildRecord) -> BuildEstimate? {
            estimator.map {
                BuildForecaster.estimate(
                    $0, build: build, events: observed,
                    vagrant: formation.provider == Providers.vagrant.provider.id)
            }
        }
        send(.started(lifecycle.summary(build, of: formation)))
        var after = params.after
        // The first look sends a status with the estimate, once the history is read.
        var lastStatus = Date.distantPast
        // inotify reports a commit's first write to the journal, which comes before the commit
        // is visible to readers (its fsync can take seconds on a busy machine, and makes no
        // further event): a wake that finds nothing new looks again every 50 ms for two
        // seconds, then every 250 ms for six more, before waiting long again.
        var woken: Date?
        while !Task.isCancelled {
            let seen = changes.current
            let current = try store.build(id: build.id) ?? build
            // Events first, read after the build: a finished build's last events are all stored.
            let events = try store.events(buildID: build.id, after: after, limit: 1000)
            for event in events {
                send(.event(Self.sequenced(event)))
                after = event.sequence
                if let event = BuildForecaster.observed(event) { observed.append(event) }
            }
            if events.count == 1000 { continue }
            if current.finishedAt != nil {
                let outputs = try store.formation(id: formation.id)?.outputs ?? [:]
                send(
                    BuildProgress(
                        kind: .end, build: lifecycle.summary(current, of: formation), outputs: outputs,
                        estimate: estimate(current)))
                return
            }
            // After each batch of events, or a change of status: where the build stands; and
            // every 5 s, for the ETA and resources that run past their p90.
            let moved = !events.isEmpty || current.status != build.status
            if moved || Date().timeIntervalSince(lastStatus) >= 5 {
                send(
                    BuildProgress(
                        kind: .status, build: lifecycle.summary(current, of: formation),
                        estimate: estimate(current)))
                lastStatus = Date()
            }
            build = current
            if moved { woken = nil }
            let sinceWake = woken.map { Date().timeIntervalSince($0) }
            if let sinceWake, sinceWake > 8 { woken = nil }
            // Between wakes, a look every 5 s costs one read of SQLite: a wake lost altogether
            // delays a stream by that at most.
            let timeout =
                woken == nil
                ? (changes.isWatching ? followIdleLook : 0.2) : (sinceWake ?? 0) < 2 ? 0.05 : 0.25
            if await changes.changed(after: seen, timeout: timeout) != seen, !moved, woken == nil {
                woken = Date()
            }
        }
    }

    public func formationLogs(_ params: FormationRef, context: ProviderContext?) async throws
        -> FormationLogsResult
    {
        let lifecycle = try lifecycle(context)
        let store = lifecycle.store
        let formation = try await lifecycle.formation(params.name)
        return FormationLogsResult(
            name: formation.name,
            builds: try store.builds(formationID: formation.id).map {
                BuildLog(
                    build: lifecycle.summary($0, of: formation),
                    events: try store.events(buildID: $0.id).map(Self.sequenced))
            },
            dependencies: BuildForecaster(store: store, catalog: try? catalog()).dependencies(for: formation))
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

    static func sequenced(_ event: EventRecord) -> SequencedEvent {
        SequencedEvent(
            build: event.buildID, sequence: event.sequence,
            event: BuildEvent(
                eventID: event.providerEventID, timestamp: event.timestamp, logicalID: event.logicalID,
                resourceType: event.resourceType, status: event.status, reason: event.reason))
    }
}
