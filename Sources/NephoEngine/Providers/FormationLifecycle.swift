import Foundation
import NephoCore
import NephoProtocol
import NephoStore
import NephoSupport

/// The provider-neutral half of every formation command, written once: claims the name,
/// records the formation and its builds, masks secrets, starts and supersedes builds,
/// applies the cancel rules, and hands each provider's part to its `FormationDriver`.
public struct FormationLifecycle: Sendable {
    public let paths: NephoPaths
    public let providers: ProviderRegistry
    public let context: DriverContext
    public let store: StateStore
    let supervisor: MonitorSupervisor

    init(
        paths: NephoPaths, providers: ProviderRegistry, context: DriverContext, store: StateStore,
        supervisor: MonitorSupervisor
    ) {
        self.paths = paths
        self.providers = providers
        self.context = context
        self.store = store
        self.supervisor = supervisor
    }

    /// What a secret's value shows as anywhere outside the provider call.
    public static let mask = "********"

    // MARK: Create

    /// Records and starts a create of `plan` with `driver`: nothing is written before the
    /// driver's checks pass and the name is free. The formation and its build are recorded
    /// before the provider call (the intent, with the request token the call carries), so
    /// that a kill mid-call leaves a formation whose monitor finds out what became of it.
    func create(_ plan: FormationPlan, driver: any FormationDriver) async throws -> BuildSummary {
        try await driver.check(plan, context: context)
        try claim(plan.name)
        let status = driver.statusWord(.create, .inProgress)
        let (formation, build) = try store.insertFormation(
            FormationRecord(
                name: plan.name, provider: driver.provider.id, cloudlet: plan.cloudlet.name,
                scenario: plan.scenario.name, status: status, parameters: Self.masked(plan.values, also: [])),
            firstBuild: Self.intent(
                formationID: 0, operation: .create, status: status, scope: driver.scope(context: context)))
        var made: LaunchedFormation?
        return try await launch(build, of: formation, dropsFormation: true, made: { made }) { context in
            let creation = try await driver.create(plan, context: context)
            made = LaunchedFormation(
                id: formation.id, stackID: creation.providerID, region: creation.region,
                outputs: creation.outputs.isEmpty ? nil : creation.outputs,
                parameters: Self.masked(creation.values, also: creation.maskedNames))
            return creation.launch
        }
    }

    /// The values as stored: a secret's (and each of `also`) masked.
    static func masked(_ values: [ResolvedValue], also: Set<String>) -> [String: String] {
        var parameters: [String: String] = [:]
        for value in values {
            guard let text = value.value else { continue }
            parameters[value.name] = value.secret || also.contains(value.name) ? Self.mask : text
        }
        for name in also where parameters[name] == nil { parameters[name] = Self.mask }
        return parameters
    }

    /// Refuses a name a formation still has; a destroyed formation's name is taken over.
    func claim(_ name: String) throws {
        guard let existing = try store.formation(named: name) else { return }
        guard (try? driver(of: existing))?.succeeded(.destroy, existing.status) == true else {
            throw NephoError(
                .conflict,
                "a formation named \(name) already exists (\(existing.status)): choose another with --name, or destroy it first"
            )
        }
        try store.deleteFormation(id: existing.id)
    }

    // MARK: Values

    /// The layers of parameters for `scenario` of `cloudlet`, with the command line's: the
    /// lowest is what the scenario's provider reads from its pattern.
    static func resolver(
        paths: NephoPaths, providers: ProviderRegistry, cloudlet: Cloudlet, scenario: Scenario,
        overrides: [String: String]
    ) throws -> ParameterResolver {
        let declared = try providers.driver(for: scenario.provider).declaredParameters(
            cloudlet: cloudlet, scenario: scenario)
        return ParameterResolver(
            template: declared, cloudlet: cloudlet.manifest.parameters, scenario: scenario.parameters,
            user: try UserParameters(file: paths.userParameters).dictionary, commandLine: overrides)
    }

    /// The installed cloudlet and scenario a formation was made from, and its values
    /// resolved again with `overrides` on top.
    public func resolve(cloudlet name: String, scenario scenarioName: String, overrides: [String: String])
        throws -> (Cloudlet, Scenario, [ResolvedValue])
    {
        try translatingErrors {
            let catalog = try CloudletCatalog(paths: paths, config: try NephoConfig(file: paths.config))
            let cloudlet = try catalog.find(name)
            let scenario = try cloudlet.scenario(scenarioName)
            let values = try Self.resolver(
                paths: paths, providers: providers, cloudlet: cloudlet, scenario: scenario,
                overrides: overrides
            ).resolve()
            return (cloudlet, scenario, values)
        }
    }

    // MARK: Builds

    /// Records a build of `formation` (the intent: its request token, this process as its
    /// launcher), makes the provider call `call` with the token in its context, then starts
    /// the build. A call that throws was refused: the build (and with `dropsFormation` the
    /// formation) is removed again, as if never asked. A kill during the call, or a call
    /// that got no answer (`ProviderCallUnanswered`), leaves the intent for the build's
    /// monitor to resolve (`BuildFollower.launcherGone`).
    public func launchBuild(
        _ formation: FormationRecord, operation: BuildRecord.Operation, dropsFormation: Bool = false,
        _ call: (DriverContext) async throws -> Launch?
    ) async throws -> BuildSummary {
        let driver = try driver(of: formation)
        let build = try store.insertBuild(
            Self.intent(
                formationID: formation.id, operation: operation,
                status: driver.statusWord(operation, .inProgress),
                scope: driver.scope(context: context)))
        return try await launch(build, of: formation, dropsFormation: dropsFormation, call)
    }

    /// A build recorded before its provider call: a fresh request token, this process as
    /// its launcher.
    static func intent(formationID: Int64, operation: BuildRecord.Operation, status: String, scope: String?)
        -> BuildRecord
    {
        BuildRecord(
            formationID: formationID, operation: operation, status: status,
            requestToken: "nepho-\(UUID().uuidString.lowercased())", launcherPID: getpid(), scope: scope)
    }

    /// Makes the provider call of the recorded intent `build` (see `launchBuild`).
    private func launch(
        _ build: BuildRecord, of formation: FormationRecord, dropsFormation: Bool,
        made: () -> LaunchedFormation? = { nil }, _ call: (DriverContext) async throws -> Launch?
    ) async throws -> BuildSummary {
        let driver = try driver(of: formation)
        let operation = build.operation
        let token = build.requestToken
        supervisor.launching(build: build.id, true)
        var callContext = context
        callContext.requestToken = token
        callContext.buildID = build.id
        let launch: Launch?
        do {
            launch = try await call(callContext)
        } catch let unanswered as ProviderCallUnanswered {
            // The call may have been taken: the intent stays, and the build's monitor finds
            // out (as after a crash mid-call); a stack it made is never lost to nepho.
            // Tried again: a build left with this live process as its launcher would wait
            // 15 minutes for a call that is over.
            for attempt in 0..<5 {
                if (try? store.launchUnanswered(build: build.id)) != nil { break }
                try? await Task.sleep(nanoseconds: UInt64(attempt + 1) * 200_000_000)
            }
            supervisor.remember(build: build.id, context: context.environment)
            supervisor.launching(build: build.id, false)
            supervisor.ensureMonitors()
            throw NephoError(
                unanswered.error.code,
                unanswered.error.message
                    + "; \(unanswered.service) may have taken the \(operation.rawValue) all the same: nepho asks it and keeps "
                    + "formation \(formation.name) until it knows (`nepho formation:watch \(formation.name)` shows the outcome)",
                details: unanswered.error.details)
        } catch {
            try? store.dropIntent(build: build.id, formation: dropsFormation ? formation.id : nil)
            supervisor.launching(build: build.id, false)
            throw error
        }
        // What the call made and the launch, in one transaction, only while the build is
        // open: one ended meanwhile (superseded by a destroy, or resolved by its monitor after
        // this process seemed gone) is not started again.
        guard try store.launched(build: build.id, formation: made()) else {
            supervisor.launching(build: build.id, false)
            let ended = try store.build(id: build.id) ?? build
            throw NephoError(
                .conflict,
                "the \(operation.rawValue) of \(formation.name) was ended while its call was made (\(ended.error ?? ended.status)); `nepho formation:describe \(formation.name)` shows where it stands"
            )
        }
        guard let launch else {
            supervisor.launching(build: build.id, false)
            // Nothing was left to do: the build is complete at once, no monitor.
            try store.updateBuild(
                id: build.id, formationID: formation.id, status: driver.statusWord(operation, .complete),
                finished: true)
            return summary(try store.build(id: build.id) ?? build, of: formation)
        }
        return try await start(build, of: try store.formation(id: formation.id) ?? formation, launch: launch)
    }

    /// Records a build of `formation` whose provider call is made (or which needs none),
    /// runs the launch's start, and has a monitor follow it.
    public func startBuild(_ formation: FormationRecord, operation: BuildRecord.Operation, launch: Launch)
        async throws -> BuildSummary
    {
        let driver = try driver(of: formation)
        let build = try store.insertBuild(
            BuildRecord(
                formationID: formation.id, operation: operation,
                status: driver.statusWord(operation, .inProgress)))
        return try await start(build, of: formation, launch: launch)
    }

    private func start(_ build: BuildRecord, of formation: FormationRecord, launch: Launch) async throws
        -> BuildSummary
    {
        let driver = try driver(of: formation)
        let operation = build.operation
        let status = build.status
        // No monitor before the launch's start has run and its context is remembered (the
        // supervisor's periodic check would start one with the wrong context).
        supervisor.launching(build: build.id, true)
        defer { supervisor.launching(build: build.id, false) }
        try store.updateFormation(id: formation.id, status: status)
        if let start = launch.start {
            do {
                try await start(build, store)
            } catch {
                let reason = (error as? NephoError)?.message ?? SystemError.reason(error)
                let failed = driver.statusWord(operation, .failed)
                try store.updateBuild(id: build.id, status: failed, finished: true, error: reason)
                try store.updateFormation(id: formation.id, status: failed)
                throw (error as? NephoError) ?? NephoError(.toolFailed, reason)
            }
        }
        // The monitor gets the launch's extras (secrets to redact) in memory; others never do.
        supervisor.remember(
            build: build.id, context: context.environment.merging(launch.monitorContext) { $1 })
        supervisor.remember(build: nil, context: context.environment)
        supervisor.launching(build: build.id, false)
        supervisor.ensureMonitors()
        return summary(build, of: formation)
    }

    /// Ends every unfinished build of `formation`: a destroy takes over. The build no
    /// longer reads as in progress (a cancelled create is `CREATE_FAILED`, "superseded by
    /// destroy"); the formation's own status is the destroy's.
    func supersede(_ builds: [BuildRecord], driver: any FormationDriver) throws {
        for build in builds where build.finishedAt == nil {
            let status =
                driver.phase(of: build.status) == .inProgress
                ? driver.statusWord(build.operation, .failed) : build.status
            try store.updateBuild(
                id: build.id, status: status, finished: true, error: "superseded by destroy")
        }
    }

    /// Resumes every unfinished build nobody watches (after a restart, a crash), using
    /// this request's provider context for builds whose own is lost.
    func resumeBuilds() {
        supervisor.remember(build: nil, context: context.environment)
        supervisor.ensureMonitors()
    }

    // MARK: Destroy, cancel, update

    /// The formation a command names: by name or provider id (a stack id) in `state.db`,
    /// else one a provider has under that name or id, adopted on first use.
    func formation(_ reference: String) async throws -> FormationRecord {
        if let formation = try store.formation(named: reference) { return formation }
        if let formation = try store.formations().first(where: { $0.stackID == reference }) {
            return formation
        }
        var unasked: [String] = []
        for driver in providers.all {
            let found: Adoption?
            do {
                found = try await driver.adopt(reference, context: context)
            } catch {
                // Still "not found" (exit 3), saying why the provider could not be searched.
                unasked.append(
                    "\(driver.noun)s in the account not searched: \((error as? NephoError)?.message ?? SystemError.reason(error))"
                )
                continue
            }
            guard let adoption = found else { continue }
            return try adopt(adoption, driver: driver)
        }
        throw NephoError(
            .notFound, "no formation named \(reference) (see `nepho formation:list`)", details: unasked)
    }

    /// Records a formation made elsewhere with its latest build and that build's events;
    /// a build still in progress gets a monitor.
    func adopt(_ adoption: Adoption, driver: any FormationDriver) throws -> FormationRecord {
        if let known = try store.formations().first(where: { $0.stackID == adoption.providerID }) {
            return known
        }
        try claim(adoption.name)
        let formation = try store.insertFormation(
            FormationRecord(
                name: adoption.name, provider: driver.provider.id, cloudlet: adoption.cloudlet,
                scenario: adoption.scenario, region: adoption.region, stackID: adoption.providerID,
                status: adoption.status, parameters: adoption.parameters, outputs: adoption.outputs))
        let build = try store.insertBuild(
            BuildRecord(formationID: formation.id, operation: adoption.operation, status: adoption.status))
        for var event in adoption.events {
            event.buildID = build.id
            try store.appendEvent(event)
        }
        if driver.phase(of: adoption.status) == .inProgress {
            supervisor.remember(build: build.id, context: context.environment)
            supervisor.ensureMonitors()
        } else {
            let failed = driver.succeeded(adoption.operation, adoption.status) ? nil : adoption.status
            try store.updateBuild(id: build.id, status: adoption.status, finished: true, error: failed)
        }
        return formation
    }

    func driver(of formation: FormationRecord) throws -> any FormationDriver {
        try providers.driver(forStored: formation.provider)
    }

    func destroy(_ name: String) async throws -> BuildSummary {
        let formation = try await formation(name)
        let builds = try store.builds(formationID: formation.id)
        if let running = builds.last, running.finishedAt == nil, running.operation == .destroy {
            return summary(running, of: formation)
        }
        let provider = try driver(of: formation)
        return try await launchBuild(formation, operation: .destroy) { context in
            let destruction = try await provider.destroy(formation, builds: builds, context: context)
            try supersede(builds, driver: provider)
            switch destruction {
            case .launch(let launch): return launch
            case .nothingLeft: return nil
            }
        }
    }

    /// A create in progress is destroyed, an update is rolled back by its provider, a
    /// destroy cannot be cancelled.
    func cancel(_ name: String) async throws -> BuildSummary {
        let formation = try await formation(name)
        guard let build = try store.builds(formationID: formation.id).last, build.finishedAt == nil else {
            throw NephoError(.conflict, "formation \(name) has no build in progress to cancel")
        }
        switch build.operation {
        case .create:
            return try await destroy(name)
        case .update:
            try await driver(of: formation).cancelUpdate(formation, build: build, context: context)
            return summary(build, of: formation)
        case .destroy:
            throw NephoError(
                .conflict,
                "a destroy cannot be cancelled; it goes on until the \(try driver(of: formation).noun) is gone"
            )
        }
    }

    func update(_ params: FormationUpdateParams) async throws -> FormationUpdateResult {
        let formation = try await formation(params.name)
        return try await driver(of: formation).update(formation, params, context: context, lifecycle: self)
    }

    /// Refuses an update while `formation` is being built.
    public func requireIdle(_ formation: FormationRecord) throws {
        if let running = try store.builds(formationID: formation.id).last, running.finishedAt == nil {
            throw NephoError(
                .conflict,
                "formation \(formation.name) is being built (\(running.operation.rawValue)); wait for it (`nepho formation:watch \(formation.name)`)"
            )
        }
    }

    // MARK: Conversions

    func summary(_ build: BuildRecord, of formation: FormationRecord) -> BuildSummary {
        Self.summary(build, of: formation, driver: try? driver(of: formation))
    }

    /// A build as the wire shows it; `succeeded` by the words of the formation's provider.
    static func summary(_ build: BuildRecord, of formation: FormationRecord, driver: (any FormationDriver)?)
        -> BuildSummary
    {
        let succeeded =
            driver?.succeeded(build.operation, build.status)
            ?? (build.status == BuildStatus.word(build.operation, .complete))
        return BuildSummary(
            id: build.id, formation: formation.name, operation: build.operation.rawValue,
            status: build.status,
            startedAt: build.startedAt, finishedAt: build.finishedAt,
            succeeded: build.finishedAt == nil ? nil : (build.error == nil && succeeded),
            error: build.error)
    }
}

/// A build's status: the provider's word, kept for display (`CREATE_COMPLETE`), and
/// what it means for the build (in progress, complete, failed, rolled back). The words
/// here are CloudFormation's, every driver's default (`FormationDriver.statusWord`).
public struct BuildStatus: Sendable, Equatable {
    public enum Phase: Sendable, Equatable {
        case inProgress, complete, failed, rolledBack
    }
    public var word: String
    public var phase: Phase

    /// Reads a stored word: `…_IN_PROGRESS`, `…_COMPLETE`, `…_FAILED`, `…ROLLBACK_COMPLETE`.
    public init(_ word: String) {
        self.word = word
        if word.hasSuffix("_IN_PROGRESS") {
            phase = .inProgress
        } else if word.hasSuffix("ROLLBACK_COMPLETE") {
            phase = .rolledBack
        } else if word.hasSuffix("_COMPLETE") {
            phase = .complete
        } else {
            phase = .failed
        }
    }

    /// The word every provider stores for `operation` in `phase` (CloudFormation's, which
    /// users of any provider see in `formation:list`).
    public static func word(_ operation: BuildRecord.Operation, _ phase: Phase) -> String {
        let verb: String
        switch operation {
        case .create: verb = "CREATE"
        case .update: verb = "UPDATE"
        case .destroy: verb = "DELETE"
        }
        switch phase {
        case .inProgress: return verb + "_IN_PROGRESS"
        case .complete: return verb + "_COMPLETE"
        case .failed: return verb + "_FAILED"
        case .rolledBack: return (operation == .create ? "" : verb + "_") + "ROLLBACK_COMPLETE"
        }
    }

}
