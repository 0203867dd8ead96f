import Foundation
import NephoAWS
import NephoCore
import NephoHTTP
import NephoProtocol
import NephoStore
import NephoSupport

/// Formations on AWS CloudFormation (docs/formations.md): one stack per formation,
/// tagged `CreatedBy=nepho`. The provider call happens in the daemon (or the foreground
/// process); the watching in a monitor process per build (`CloudFormationMonitor`).
public struct CloudFormationDriver: FormationDriver {
    public init() {}

    public var traits: ProviderTraits { Providers.cloudFormation }
    public var noun: String { "stack" }

    /// The template's `Parameters`.
    public func declaredParameters(cloudlet: Cloudlet, scenario: Scenario) throws -> [ParameterSpec] {
        guard let pattern = scenario.pattern else { return [] }
        var problems: [CloudletProblem] = []
        let url = cloudlet.folder.appendingPathComponent("patterns").appendingPathComponent(pattern)
        guard let parsed = CloudFormationTemplate.read(url, problems: &problems),
            !problems.contains(where: { $0.severity == .error })
        else {
            throw CloudletError(
                .invalid, "pattern \(pattern) of \(cloudlet.name) cannot be read", problems: problems)
        }
        return parsed.parameters
    }

    public func check(_ plan: FormationPlan, context: DriverContext) async throws {
        let stack = StackPlan(cloudlet: plan.cloudlet, scenario: plan.scenario, values: plan.values)
        let (_, parsed) = try stack.template()
        try stack.checkNestedFiles(parsed)
    }

    public func create(_ plan: FormationPlan, context: DriverContext) async throws -> Creation {
        let stack = StackPlan(cloudlet: plan.cloudlet, scenario: plan.scenario, values: plan.values)
        let (text, parsed) = try stack.template()
        let name = plan.name
        let session = try Self.session(context)
        let cloudFormation = try session.cloudFormation()
        // A pattern that declares NephoPhaseURL gets a presigned URL for its phase record.
        let phaseObject: PhaseChannel.Prepared? =
            PhaseChannel.wanted(declared: parsed.parameters, values: plan.values)
            ? try await Self.translatingAWSErrors(stack: name, call: "preparing the phase record (S3)") {
                try await PhaseChannel.prepare(session: session, stackName: name)
            } : nil
        let channelStore = try StateStore(path: context.paths.database.path)
        // Recorded with the build's intent, before CreateStack: a monitor that resolves the
        // intent after a crash mid-call follows the phases too.
        if let phaseObject, let build = context.buildID {
            try channelStore.setPhaseObject(
                PhaseObjectRecord(buildID: build, bucket: phaseObject.bucket, key: phaseObject.key))
        }
        let (prepared, notice) = await EventChannel.prepare(
            session: session, environment: context.environment, paths: context.paths, store: channelStore)
        let ruleInPlace = EventChannel.ruleInPlace(
            session: session, environment: context.environment, store: channelStore)
        let (stackID, topic): (String, String?) = try await Self.translatingAWSErrors(
            stack: name, call: "creating the stack (ValidateTemplate, CreateStack)"
        ) {
            // Nested stacks' templates that are files of the cloudlet go to S3 first.
            let (sent, nested) = try await Self.packaged(stack, text: text, parsed: parsed, session: session)
            let source = try await Self.source(sent, session: session)
            let summary = try await Self.validate(cloudFormation, source, pattern: stack.templateURL.path)
            var request = stack.request(
                stackName: name, source: source, text: text, parsed: parsed,
                validated: summary.capabilities + nested)
            // The build's token: a retry, or a monitor after a kill, knows the stack as this build's.
            request.clientRequestToken = context.requestToken
            // Its events pushed to the nanny (docs/aws.md, "Stack events").
            // With no room for the topic, the EventBridge rule (when in place) brings them.
            request = try EventChannel.adding(prepared, to: request, ruleInPlace: ruleInPlace)
            let topic = prepared.flatMap { request.notificationARNs.contains($0) ? $0 : nil }
            if topic != nil || ruleInPlace { EventQueue.expect(paths: context.paths, stackName: name) }
            let stackID = try await Self.tokenCall(stack: name, call: "CreateStack") {
                try await Self.outlastingThrottling {
                    try await cloudFormation.createStack(
                        phaseObject.map { PhaseChannel.adding($0, to: request) } ?? request)
                }
            }
            return (stackID, topic)
        }
        let declared = Set(parsed.parameters.map(\.name))
        return Creation(
            providerID: stackID, region: session.configuration.region,
            values: plan.values.filter { declared.contains($0.name) },
            maskedNames: phaseObject == nil ? [] : [PhaseChannel.parameterName],
            launch: Launch(start: { build, store in
                try store.setStackTopic(stackID: stackID, topicArn: topic)
                if let notice { try store.appendEvent(EventChannel.noticeEvent(notice, build: build.id)) }
            }))
    }

    public func destroy(_ formation: FormationRecord, builds: [BuildRecord], context: DriverContext)
        async throws -> Destruction
    {
        guard let stackID = formation.stackID else {
            throw NephoError(.conflict, "formation \(formation.name) has no stack")
        }
        let cloudFormation = try Self.session(context).cloudFormation()
        try await Self.translatingAWSErrors(stack: formation.name, call: "DeleteStack") {
            try await Self.tokenCall(stack: formation.name, call: "DeleteStack") {
                try await Self.outlastingThrottling {
                    try await cloudFormation.deleteStack(stackID, clientRequestToken: context.requestToken)
                }
            }
        }
        return .launch(Launch())
    }

    public func cancelUpdate(_ formation: FormationRecord, build: BuildRecord, context: DriverContext)
        async throws
    {
        guard let stackID = formation.stackID else {
            throw NephoError(.conflict, "formation \(formation.name) has no build in progress to cancel")
        }
        let cloudFormation = try Self.session(context).cloudFormation()
        try await Self.translatingAWSErrors(stack: formation.name, call: "CancelUpdateStack") {
            try await Self.outlastingThrottling { try await cloudFormation.cancelUpdateStack(stackID) }
        }
    }

    public func scope(context: DriverContext) -> String? {
        guard let configuration = try? AWSConfiguration.resolve(environment: context.environment) else {
            return nil
        }
        return CloudFormationMonitor.scope(environment: context.environment, configuration: configuration)
    }

    public func follow(_ monitor: BuildFollower) async throws -> Int32 {
        try await CloudFormationMonitor(monitor).run()
    }

    /// The stack's resources: as listed when the last build ended (ListStackResources),
    /// else, during a build or where none were listed, from the stored events.
    public func resources(_ formation: FormationRecord, builds: [BuildRecord], store: StateStore) throws
        -> [FormationResource]
    {
        let listed = try store.resources(formationID: formation.id).flatMap {
            try? JSONDecoder().decode([FormationResource].self, from: Data($0.utf8))
        }
        let finished = builds.last.map { $0.finishedAt != nil && $0.operation != .destroy } ?? false
        if finished, let listed, !listed.isEmpty { return listed }
        let fromEvents = try Self.resources(builds: builds, store: store, stack: formation.name)
        if fromEvents.isEmpty, let listed { return listed }
        return fromEvents
    }

    /// Each resource of the stack with its latest stored event, in the order they first
    /// appeared, nested stacks and their resources (`Network/Queue`) included: the stack's
    /// own rows (`stack`, and a nested stack's `PATH/STACK-NAME`) and nepho's own rows (the
    /// provisioner's phases) left out.
    static func resources(builds: [BuildRecord], store: StateStore, stack: String) throws
        -> [FormationResource]
    {
        var order: [String] = []
        var latest: [String: FormationResource] = [:]
        for build in builds {
            for event in try store.events(buildID: build.id) {
                guard let id = event.logicalID, !(event.resourceType ?? "").hasPrefix("Nepho::"),
                    !NestedPath.isStackRow(id),
                    !(event.resourceType == "AWS::CloudFormation::Stack" && id == stack)
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

    /// Where the stack's events are pushed (and the queue was polled in the last 45 s), the
    /// stored status is current as of that poll: no call. Otherwise, unless a build's monitor
    /// follows it, one DescribeStacks brings the status and outputs up to date.
    public func confirm(
        _ formation: FormationRecord, builds: [BuildRecord], store: StateStore, context: DriverContext
    ) async -> String? {
        guard let stackID = formation.stackID, builds.allSatisfy({ $0.finishedAt != nil }),
            let configuration = try? AWSConfiguration.resolve(environment: context.environment)
        else { return nil }
        let scope = CloudFormationMonitor.scope(
            environment: context.environment, configuration: configuration)
        if let channel = try? store.eventChannel(scope: scope), channel.mode == .push,
            let topic = channel.topicArn,
            channel.ruleArn != nil || (try? store.stackTopic(stackID: stackID)) == topic
        {
            let polled = Date(timeIntervalSince1970: Double(channel.polledMilliseconds) / 1000)
            if Date().timeIntervalSince(polled) < 45 { return Timestamp.string(polled) }
        }
        guard formation.status != "DELETE_COMPLETE",
            let cloudFormation = try? AWSSession(configuration: configuration).cloudFormation()
        else { return nil }
        do {
            let stack = try await cloudFormation.describeStacks(stackID).first
            let status = stack?.status ?? "DELETE_COMPLETE"
            if status != formation.status {
                try store.updateFormation(
                    id: formation.id, status: status,
                    outputs: stack.map {
                        Dictionary($0.outputs.map { ($0.key, $0.value) }) { first, _ in first }
                    })
            }
            return Timestamp.now()
        } catch let error as AWSError where error.isStackMissing {
            try? store.updateFormation(id: formation.id, status: "DELETE_COMPLETE")
            return Timestamp.now()
        } catch {
            return nil
        }
    }

    /// Scopes whose tagging API refused this process (no `tag:GetResources` permission),
    /// and when: for an hour `formation:list` lists the account's stacks without asking it.
    final class TaggingRefusals: @unchecked Sendable {
        static let shared = TaggingRefusals()
        private let lock = NSLock()
        private var refused: [String: Date] = [:]
        func note(_ scope: String) { lock.withLock { refused[scope] = Date() } }
        func recent(_ scope: String) -> Bool {
            lock.withLock { refused[scope].map { Date().timeIntervalSince($0) < 3600 } ?? false }
        }
    }

    /// Beyond this many nepho stacks not held here, one listing of the account (100 stacks a
    /// page) costs no more than describing each.
    static let describeLimit = 20

    /// Stacks tagged `CreatedBy=nepho` that `state.db` does not hold (made on another machine).
    /// Found by tag (one GetResources page per 100 nepho stacks, then one DescribeStacks
    /// for each stack not held here), so that an account's other stacks cost nothing;
    /// where the tagging API cannot be used (no `tag:GetResources` permission: not asked
    /// again for an hour; or throttled, unreachable), or more than `describeLimit` stacks
    /// are not held here, every stack is listed instead.
    public func unrecorded(known: Set<String>, context: DriverContext) async throws -> [FormationSummary] {
        let session = try Self.session(context)
        let cloudFormation = try session.cloudFormation()
        let scope = CloudFormationMonitor.scope(
            environment: context.environment, configuration: session.configuration)
        var stacks: [Stack]?
        var tagged: [(arn: String, tags: [String: String])]?
        if !TaggingRefusals.shared.recent(scope) {
            do {
                tagged = try await session.tagging().resources(
                    type: "cloudformation:stack", key: StackPlan.createdByTag.key,
                    value: StackPlan.createdByTag.value)
            } catch let error as AWSError
                where error.code.contains("AccessDenied") || error.code == "UnauthorizedOperation"
            {
                TaggingRefusals.shared.note(scope)  // not asked again for an hour
            } catch {
                // Throttled or unreachable: the listing below answers this time.
            }
        }
        if let tagged {
            let unknown = tagged.map(\.arn).filter { !known.contains($0) }
            if unknown.count <= Self.describeLimit {
                var found: [Stack] = []
                for arn in unknown {
                    do {
                        found += try await Self.translatingAWSErrors(stack: nil, call: "DescribeStacks") {
                            try await cloudFormation.describeStacks(arn)
                        }
                    } catch let error as NephoError where error.code == .notFound {
                        continue  // deleted since the tag index was written
                    }
                }
                stacks = found.filter { $0.status != "DELETE_COMPLETE" }
            }
        }
        if stacks == nil {
            stacks = try await Self.translatingAWSErrors(stack: nil, call: "listing stacks (DescribeStacks)")
            {
                try await cloudFormation.describeStacks()
            }
        }
        return (stacks ?? []).compactMap { stack in
            guard !known.contains(stack.stackId), stack.tags.contains(StackPlan.createdByTag) else {
                return nil
            }
            let tag = { (key: String) in stack.tags.first { $0.key == key }?.value }
            return FormationSummary(
                name: stack.stackName, cloudlet: tag("nepho:cloudlet"), scenario: tag("nepho:scenario"),
                status: stack.status, stackID: stack.stackId,
                createdAt: Timestamp.string(stack.creationTime), source: traits.provider.id)
        }
    }

    /// A nepho-tagged stack by name or stack id, with its parameters, outputs and every
    /// event, for the lifecycle to record; nil when there is no such live stack, or no
    /// AWS account to ask.
    public func adopt(_ reference: String, context: DriverContext) async throws -> Adoption? {
        let session: AWSSession
        do {
            session = try Self.session(context)
        } catch let error as NephoError where error.code == .missingCredentials {
            return nil
        }
        let cloudFormation = try session.cloudFormation()
        let stack: Stack
        do {
            let found = try await Self.translatingAWSErrors(stack: reference, call: "DescribeStacks") {
                try await cloudFormation.describeStacks(reference)
            }
            guard let first = found.first else { return nil }
            stack = first
        } catch let error as NephoError where [.notFound, .invalidInput].contains(error.code) {
            return nil
        }
        guard stack.tags.contains(StackPlan.createdByTag), stack.status != "DELETE_COMPLETE" else {
            return nil
        }
        let events = try await Self.translatingAWSErrors(stack: stack.stackName, call: "DescribeStackEvents")
        {
            try await cloudFormation.describeStackEvents(stack.stackId)
        }
        let tag = { (key: String) in stack.tags.first { $0.key == key }?.value }
        let operation: BuildRecord.Operation =
            stack.status.hasPrefix("DELETE_")
            ? .destroy
            : stack.status.hasPrefix("UPDATE_") || stack.status.hasPrefix("IMPORT_") ? .update : .create
        return Adoption(
            name: stack.stackName, cloudlet: tag("nepho:cloudlet") ?? "-",
            scenario: tag("nepho:scenario") ?? "-",
            region: session.configuration.region, providerID: stack.stackId, status: stack.status,
            operation: operation,
            // CloudFormation shows a NoEcho value as asterisks: keep nepho's mask instead.
            parameters: stack.parameters.mapValues {
                $0.allSatisfy { $0 == "*" } ? FormationLifecycle.mask : $0
            },
            outputs: Dictionary(stack.outputs.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 }),
            events: events.reversed().map {
                EventRecord(
                    buildID: 0, providerEventID: $0.eventId, timestamp: Timestamp.string($0.timestamp),
                    logicalID: $0.logicalResourceId, resourceType: $0.resourceType, status: $0.status,
                    reason: $0.statusReason)
            })
    }

    // MARK: AWS

    /// A session for the request's context; missing credentials or region become one line
    /// saying what to do.
    static func session(_ context: DriverContext) throws -> AWSSession {
        do {
            let configuration = try AWSConfiguration.resolve(environment: context.environment)
            _ = try configuration.requireCredentials()
            _ = try configuration.requireRegion()
            return AWSSession(configuration: configuration)
        } catch let error as AWSConfigurationError {
            throw NephoError(.missingCredentials, "\(error)")
        }
    }

    /// The template inline, or through nepho's S3 bucket when larger than CloudFormation takes inline.
    static func source(_ text: String, session: AWSSession) async throws -> TemplateSource {
        text.utf8.count > CloudFormationClient.maxTemplateBodyBytes
            ? try await session.templateUploader().source(for: text) : .body(text)
    }

    /// ValidateTemplate, its refusal said as the template's fault.
    static func validate(_ cloudFormation: CloudFormationClient, _ source: TemplateSource, pattern: String)
        async throws -> TemplateSummary
    {
        do {
            return try await outlastingThrottling { try await cloudFormation.validateTemplate(source) }
        } catch let error as AWSError where error.code == "ValidationError" {
            throw NephoError(
                .invalidInput, "CloudFormation rejected the template \(pattern): \(error.message)")
        }
    }

    /// Runs a call that starts, changes or ends a build, trying again while AWS answers
    /// that it is throttling (each try is the client's own retries; a throttled request
    /// did nothing, so trying again is safe) for up to `throttlingBudget` seconds (90;
    /// `NEPHO_THROTTLE_BUDGET`): a busy account slows a build down, it does not fail it.
    static func outlastingThrottling<T>(budget: Double = throttlingBudget, _ body: () async throws -> T)
        async throws -> T
    {
        let deadline = Date().addingTimeInterval(budget)
        var pause = 1.0
        while true {
            do {
                return try await body()
            } catch let error as AWSError
                where error.isThrottling && Date().addingTimeInterval(pause) < deadline
            {
                RequestNotices.post(
                    "AWS is throttling \(error.action); nepho keeps trying for up to \(Int(budget)) s")
                try await Task.sleep(nanoseconds: UInt64(pause * 1e9))
                pause = min(pause * 2, 10)
            }
        }
    }

    static var throttlingBudget: Double {
        Double(ProcessInfo.processInfo.environment["NEPHO_THROTTLE_BUDGET"] ?? "").flatMap {
            $0 >= 0 ? $0 : nil
        } ?? 90
    }

    /// Runs an AWS call, turning its errors into one line each with what to do; `call`
    /// names what was being done, for a request that never got an answer.
    static func translatingAWSErrors<T>(stack: String?, call: String, _ body: () async throws -> T)
        async throws -> T
    {
        do {
            return try await body()
        } catch let error as HTTPError {
            throw unreachable(error, call: call, stack: stack)
        } catch let error as AWSError {
            switch error.code {
            case "AlreadyExistsException":
                throw NephoError(
                    .conflict,
                    "a stack named \(stack ?? "") already exists in the account: choose another name with --name"
                )
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
                        "the stack of \(stack ?? "the formation") no longer exists (deleted outside nepho); `nepho formation:list` shows what remains"
                    )
                }
                if error.code == "ValidationError" {
                    throw NephoError(.invalidInput, "CloudFormation rejected the request: \(error.message)")
                }
                throw NephoError(.providerError, "\(error)")
            }
        } catch let error as NephoError {
            throw error
        } catch let error as ProviderCallUnanswered {
            throw error
        } catch {
            throw NephoError(.internalError, "\(SystemError.reason(error))")
        }
    }

    /// Makes a call that carries the build's request token (CreateStack, ExecuteChangeSet,
    /// DeleteStack): one whose answer never came on some try (the connection broke or timed
    /// out, or AWS answered 5xx), whatever the later tries said, may have been taken, and
    /// throws `ProviderCallUnanswered`. So does one throttled past nepho's patience: libcurl
    /// sends a request again on a fresh connection when a reused one breaks before the
    /// answer, so a try that reached AWS can be hidden behind the throttled ones.
    static func tokenCall<T>(stack: String?, call: String, _ body: () async throws -> T) async throws -> T {
        let delivery = RetryPolicy.Delivery()
        do {
            return try await RetryPolicy.$delivery.withValue(delivery) { try await body() }
        } catch let error as HTTPError
            where delivery.mayHaveActed || error.kind == .timeout || error.kind == .connectionLost
        {
            throw ProviderCallUnanswered(
                unreachable(error, call: call, stack: stack), service: "CloudFormation")
        } catch let error as AWSError
            where error.httpStatus >= 500 || error.isThrottling || delivery.mayHaveActed
        {
            throw ProviderCallUnanswered(NephoError(.providerError, "\(error)"), service: "CloudFormation")
        } catch  where delivery.mayHaveActed {
            throw ProviderCallUnanswered(
                NephoError(.providerError, SystemError.reason(error)), service: "CloudFormation")
        }
    }

    /// AWS could not be reached: which host, what was being done, and what to check.
    static func unreachable(_ error: HTTPError, call: String, stack: String?) -> NephoError {
        let check: String
        switch error.kind {
        case .resolve: check = "the host name, your DNS and network"
        case .connect: check = "that the endpoint is up and its host and port are right"
        case .timeout: check = "your network or proxy, then try again"
        case .tls: check = "the endpoint's certificate, or a proxy that intercepts TLS"
        case .connectionLost: check = "your network, then try again"
        case .tooLarge, .cancelled, .other: check = "your network"
        }
        let target = stack.map { " for \($0)" } ?? ""
        return NephoError(
            .providerError,
            "could not reach AWS at \(error.host) while \(call)\(target): \(error.reason); check \(check), "
                + "AWS_ENDPOINT_URL if set, and the profile's region (`nepho register`)")
    }
}
