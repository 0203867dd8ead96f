import Foundation
import NephoAWS
import NephoCore
import NephoProtocol
import NephoStore
import NephoSupport

/// Formations (docs/formations.md): the provider call happens here, in the daemon (or
/// the foreground process); the watching happens in a monitor process per build.
extension LocalAPI {
    func store() throws -> StateStore { try StateStore(path: paths.database.path) }

    /// The provider variables of the request: the client's (through the daemon) or this process's.
    var providerEnvironment: [String: String] {
        ProviderContext.current?.environment
            ?? ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("AWS_") }
    }

    var supervisor: MonitorSupervisor { MonitorSupervisor.shared(paths) }

    /// A CloudFormation client for the request's context; missing credentials or region
    /// become one line saying what to do.
    func cloudFormationSession() throws -> AWSSession {
        do {
            let configuration = try AWSConfiguration.resolve(environment: providerEnvironment)
            _ = try configuration.requireCredentials()
            _ = try configuration.requireRegion()
            return AWSSession(configuration: configuration)
        } catch let error as AWSConfigurationError {
            throw NephoError(.missingCredentials, "\(error)")
        }
    }

    /// Resumes every unfinished build nobody watches (after a restart, a crash), using
    /// this request's provider context for builds whose own is lost.
    func resumeBuilds() {
        supervisor.remember(build: nil, context: providerEnvironment)
        supervisor.ensureMonitors()
    }

    public func formationCreate(_ params: FormationCreateParams) async throws -> BuildSummary {
        resumeBuilds()
        let (cloudlet, scenario) = try translatingErrors { () -> (Cloudlet, Scenario) in
            let cloudlet = try catalog().find(params.cloudlet)
            return (cloudlet, try cloudlet.scenario(params.scenario ?? "default"))
        }
        if try Self.provider(params.provider, scenario: scenario) == "vagrant" {
            return try await formationCreateVagrant(params, cloudlet: cloudlet, scenario: scenario)
        }
        let name = try FormationProvider.stackName(params.name ?? "\(cloudlet.name)-\(scenario.name)")
        let values = try translatingErrors {
            try resolver(cloudlet: cloudlet, scenario: scenario, overrides: params.overrides).resolve()
        }
        let provider = FormationProvider(cloudlet: cloudlet, scenario: scenario, values: values)
        let (text, parsed) = try provider.template()
        let store = try store()
        try claimFormationName(name, in: store)
        let session = try cloudFormationSession()
        let cloudFormation = try session.cloudFormation()
        // A pattern that declares NephoPhaseURL gets a presigned URL for its phase record.
        let phaseObject: PhaseChannel.Prepared? =
            PhaseChannel.wanted(declared: parsed.parameters, values: values)
            ? try await translatingAWSErrors(stack: name) {
                try await PhaseChannel.prepare(session: session, stackName: name)
            } : nil
        let stackID: String = try await translatingAWSErrors(stack: name) {
            let source: TemplateSource =
                text.utf8.count > CloudFormationClient.maxTemplateBodyBytes
                ? try await session.templateUploader().source(for: text) : .body(text)
            let summary = try await Self.validate(cloudFormation, source, pattern: provider.templateURL.path)
            let request = provider.request(
                stackName: name, source: source, text: text, parsed: parsed, validated: summary.capabilities)
            return try await cloudFormation.createStack(
                phaseObject.map { PhaseChannel.adding($0, to: request) } ?? request)
        }
        var parameters = provider.storableParameters(declared: parsed.parameters)
        if phaseObject != nil { parameters[PhaseChannel.parameterName] = Self.mask }
        let formation = try store.insertFormation(
            FormationRecord(
                name: name, provider: "aws", cloudlet: cloudlet.name, scenario: scenario.name,
                region: session.configuration.region, stackID: stackID, status: "CREATE_IN_PROGRESS",
                parameters: Self.jsonText(parameters)))
        let build = try startBuild(
            store: store, formation: formation, operation: .create, status: "CREATE_IN_PROGRESS")
        if let phaseObject {
            try store.setPhaseObject(
                PhaseObjectRecord(buildID: build.id, bucket: phaseObject.bucket, key: phaseObject.key))
        }
        return build
    }

    func startBuild(
        store: StateStore, formation: FormationRecord, operation: BuildRecord.Operation, status: String
    )
        throws -> BuildSummary
    {
        let build = try store.insertBuild(
            BuildRecord(formationID: formation.id, operation: operation, status: status))
        try store.updateFormation(id: formation.id, status: status)
        supervisor.remember(build: build.id, context: providerEnvironment)
        supervisor.ensureMonitors()
        return Self.summary(build, formation: formation.name)
    }

    public func formationList(_ params: NoParams) async throws -> FormationListResult {
        resumeBuilds()
        let store = try store()
        let records = try store.formations()
        var summaries = records.map {
            FormationSummary(
                name: $0.name, cloudlet: $0.cloudlet, scenario: $0.scenario, status: $0.status,
                stackID: $0.stackID,
                createdAt: $0.createdAt, source: "nepho")
        }
        var warnings: [String] = []
        do {
            let cloudFormation = try cloudFormationSession().cloudFormation()
            let known = Set(summaries.compactMap(\.stackID))
            for stack in try await cloudFormation.describeStacks()
            where !known.contains(stack.stackId) && stack.tags.contains(FormationProvider.createdByTag) {
                let tag = { (key: String) in stack.tags.first { $0.key == key }?.value }
                summaries.append(
                    FormationSummary(
                        name: stack.stackName, cloudlet: tag("nepho:cloudlet"),
                        scenario: tag("nepho:scenario"),
                        status: stack.status, stackID: stack.stackId,
                        createdAt: BuildMonitor.stamp(stack.creationTime), source: "aws"))
            }
        } catch let error as NephoError {
            // Someone who builds only on vagrant has no AWS account to list: say nothing then.
            let vagrantOnly = !records.isEmpty && records.allSatisfy { $0.provider == "vagrant" }
            if !(vagrantOnly && error.code == .missingCredentials) {
                warnings.append("stacks in the account not listed: \(error.message)")
            }
        } catch {
            warnings.append("stacks in the account not listed: \(SystemError.reason(error))")
        }
        return FormationListResult(formations: summaries.sorted { $0.name < $1.name }, warnings: warnings)
    }

    /// Refuses a name a formation still has; a destroyed formation's name is taken over.
    func claimFormationName(_ name: String, in store: StateStore) throws {
        guard let existing = try store.formation(named: name) else { return }
        guard existing.status == "DELETE_COMPLETE" else {
            throw NephoError(
                .conflict,
                "a formation named \(name) already exists (\(existing.status)): choose another with --name, or destroy it first"
            )
        }
        try store.deleteFormation(id: existing.id)
    }

    func formationRecord(_ name: String, in store: StateStore) throws -> FormationRecord {
        guard let formation = try store.formation(named: name) else {
            throw NephoError(.notFound, "no formation named \(name) (see `nepho formation:list`)")
        }
        return formation
    }

    public func formationDescribe(_ params: FormationRef) async throws -> FormationDetail {
        resumeBuilds()
        let store = try store()
        let formation = try formationRecord(params.name, in: store)
        let builds = try store.builds(formationID: formation.id)
        let timeline = try builds.last.map { try store.events(buildID: $0.id).map(Self.sequenced) } ?? []
        return FormationDetail(
            name: formation.name, cloudlet: formation.cloudlet, scenario: formation.scenario,
            status: formation.status, stackID: formation.stackID, region: formation.region,
            parameters: Self.dictionary(formation.parameters), outputs: Self.dictionary(formation.outputs),
            builds: builds.map { Self.summary($0, formation: formation.name) }, timeline: timeline,
            provider: formation.provider,
            resources: formation.provider == "vagrant"
                ? [] : try Self.resources(formation: formation, builds: builds, store: store))
    }

    /// The stack's resources: as listed when the last build ended (ListStackResources),
    /// else, during a build or where none were listed, from the stored events.
    static func resources(formation: FormationRecord, builds: [BuildRecord], store: StateStore) throws
        -> [FormationResource]
    {
        let listed = try store.resources(formationID: formation.id).flatMap {
            try? JSONDecoder().decode([FormationResource].self, from: Data($0.utf8))
        }
        let finished = builds.last.map { $0.finishedAt != nil && $0.operation != .destroy } ?? false
        if finished, let listed, !listed.isEmpty { return listed }
        let fromEvents = try resources(builds: builds, store: store)
        if fromEvents.isEmpty, let listed { return listed }
        return fromEvents
    }

    /// Each resource of the stack with its latest stored event, in the order they first
    /// appeared: the stack itself and nepho's own rows (the provisioner's phases) left out.
    private static func resources(builds: [BuildRecord], store: StateStore) throws -> [FormationResource] {
        var order: [String] = []
        var latest: [String: FormationResource] = [:]
        for build in builds {
            for event in try store.events(buildID: build.id) {
                guard let id = event.logicalID, event.resourceType != "AWS::CloudFormation::Stack",
                    !(event.resourceType ?? "").hasPrefix("Nepho::")
                else { continue }
                if latest[id] == nil { order.append(id) }
                latest[id] = FormationResource(
                    logicalID: id, resourceType: event.resourceType, status: event.status,
                    reason: event.reason,
                    updatedAt: event.timestamp)
            }
        }
        return order.compactMap { latest[$0] }
    }

    public func formationDestroy(_ params: FormationActionParams) async throws -> BuildSummary {
        resumeBuilds()
        let store = try store()
        let formation = try formationRecord(params.name, in: store)
        if formation.provider == "vagrant" { return try formationDestroyVagrant(formation, store: store) }
        guard let stackID = formation.stackID else {
            throw NephoError(.conflict, "formation \(params.name) has no stack")
        }
        if let running = try store.builds(formationID: formation.id).last, running.finishedAt == nil,
            running.operation == .destroy
        {
            return Self.summary(running, formation: formation.name)
        }
        let cloudFormation = try cloudFormationSession().cloudFormation()
        try await translatingAWSErrors(stack: formation.name) {
            try await cloudFormation.deleteStack(stackID)
        }
        for build in try store.builds(formationID: formation.id) where build.finishedAt == nil {
            try store.updateBuild(
                id: build.id, status: build.status, finished: true, error: "superseded by destroy")
        }
        return try startBuild(
            store: store, formation: formation, operation: .destroy, status: "DELETE_IN_PROGRESS")
    }

    public func formationCancel(_ params: FormationActionParams) async throws -> BuildSummary {
        resumeBuilds()
        let store = try store()
        let formation = try formationRecord(params.name, in: store)
        if formation.provider == "vagrant" { return try formationCancelVagrant(formation, store: store) }
        guard let build = try store.builds(formationID: formation.id).last, build.finishedAt == nil,
            let stackID = formation.stackID
        else {
            throw NephoError(.conflict, "formation \(params.name) has no build in progress to cancel")
        }
        switch build.operation {
        case .update:
            let cloudFormation = try cloudFormationSession().cloudFormation()
            try await translatingAWSErrors(stack: formation.name) {
                try await cloudFormation.cancelUpdateStack(stackID)
            }
            return Self.summary(build, formation: formation.name)
        case .create:
            return try await formationDestroy(FormationActionParams(name: params.name))
        case .destroy:
            throw NephoError(.conflict, "a destroy cannot be cancelled; it goes on until the stack is gone")
        }
    }

    public func formationWatch(_ params: FormationWatchParams) async throws -> FormationWatchResult {
        resumeBuilds()
        let store = try store()
        let formation = try formationRecord(params.name, in: store)
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
                let outputs = Self.dictionary(try store.formation(id: formation.id)?.outputs ?? "{}")
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
        let store = try store()
        let formation = try formationRecord(params.name, in: store)
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

    /// ValidateTemplate, its refusal said as the template's fault.
    static func validate(_ cloudFormation: CloudFormationClient, _ source: TemplateSource, pattern: String)
        async throws -> TemplateSummary
    {
        do {
            return try await cloudFormation.validateTemplate(source)
        } catch let error as AWSError where error.code == "ValidationError" {
            throw NephoError(
                .invalidInput, "CloudFormation rejected the template \(pattern): \(error.message)")
        }
    }

    // MARK: conversions

    static func summary(_ build: BuildRecord, formation: String) -> BuildSummary {
        let wanted = ["create": "CREATE_COMPLETE", "update": "UPDATE_COMPLETE", "destroy": "DELETE_COMPLETE"]
        return BuildSummary(
            id: build.id, formation: formation, operation: build.operation.rawValue, status: build.status,
            startedAt: build.startedAt, finishedAt: build.finishedAt,
            succeeded: build.finishedAt == nil
                ? nil : (build.error == nil && build.status == wanted[build.operation.rawValue]),
            error: build.error)
    }

    static func sequenced(_ event: EventRecord) -> SequencedEvent {
        SequencedEvent(
            build: event.buildID, sequence: event.sequence,
            event: BuildEvent(
                eventID: event.providerEventID, timestamp: event.timestamp, logicalID: event.logicalID,
                resourceType: event.resourceType, status: event.status, reason: event.reason))
    }

    static func jsonText(_ values: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(values)) ?? Data("{}".utf8), as: UTF8.self)
    }

    static func dictionary(_ text: String) -> [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
    }

    /// Runs an AWS call, turning its errors into one line each with what to do.
    func translatingAWSErrors<T>(stack: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as AWSError {
            switch error.code {
            case "AlreadyExistsException":
                throw NephoError(
                    .conflict,
                    "a stack named \(stack) already exists in the account: choose another name with --name")
            case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
                throw NephoError(
                    .permissionDenied,
                    "no permission: \(error.message) (ask your AWS administrator for CloudFormation access)")
            case "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken":
                throw NephoError(
                    .missingCredentials,
                    "AWS refused the credentials: \(error.message) (run `nepho register`)")
            default:
                if error.isStackMissing {
                    throw NephoError(
                        .notFound,
                        "the stack of \(stack) no longer exists (deleted outside nepho); `nepho formation:list` shows what remains"
                    )
                }
                if error.code == "ValidationError" {
                    throw NephoError(.invalidInput, "CloudFormation rejected the request: \(error.message)")
                }
                throw NephoError(.providerError, "\(error)")
            }
        } catch let error as NephoError {
            throw error
        } catch {
            throw NephoError(.internalError, "\(SystemError.reason(error))")
        }
    }
}
