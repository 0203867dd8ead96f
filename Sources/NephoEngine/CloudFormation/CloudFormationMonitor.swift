import Foundation
import NephoAWS
import NephoProtocol
import NephoStore
import NephoSupport

/// The CloudFormation driver's `follow`: polls CloudFormation for one build.
/// DescribeStackEvents is paged back only to the last stored event id; DescribeStacks
/// gives the status and outputs. Every event is stored once (the store ignores an event
/// id it has), oldest first. The interval adapts: 1 s after something changed, growing
/// to `quietInterval` while nothing does; a throttled or failed call slows it further
/// and never ends it. All monitors of an account and region share one listing of its
/// stacks in progress and one request budget (docs/daemon.md).
struct CloudFormationMonitor {
    var follower: BuildFollower
    /// Seconds between this monitor's looks at its events while they change.
    var activeInterval: Double
    /// The longest pause between looks while nothing changes.
    var quietInterval: Double
    /// How often (seconds) the shared listing of the scope's stacks is refreshed.
    var listingAge: Double
    /// Calls per second all monitors of a scope may make together.
    var budget: Double
    /// How often (seconds) the monitor reads the shared listing (no call).
    var wake = 0.25

    var buildID: Int64 { follower.buildID }
    var environment: [String: String] { follower.environment }
    var paths: NephoPaths { follower.paths }

    init(_ follower: BuildFollower) {
        self.follower = follower
        let environment = follower.environment
        activeInterval = Double(environment["NEPHO_MONITOR_ACTIVE_INTERVAL"] ?? "") ?? 2
        quietInterval = Double(environment["NEPHO_MONITOR_QUIET_INTERVAL"] ?? "") ?? 60
        listingAge = Double(environment["NEPHO_MONITOR_LISTING_INTERVAL"] ?? "") ?? 1
        budget = Double(environment["NEPHO_MONITOR_BUDGET"] ?? "") ?? 4
    }

    func log(_ line: String) { follower.log(line) }

    /// Watches the build to its end.
    func run() async throws -> Int32 {
        let store = follower.store
        let configuration = try AWSConfiguration.resolve(environment: environment)
        let session = AWSSession(configuration: configuration)
        let cloudFormation = try session.cloudFormation()
        // The provisioner's phase record, when the build has one (docs/provisioners.md).
        let phases = PhaseRecordReader(
            store: store, buildID: buildID, s3: try? session.s3(),
            interval: Double(environment["NEPHO_MONITOR_PHASE_INTERVAL"] ?? "") ?? 5)
        let scope = Self.scope(environment: environment, configuration: configuration)
        var lastSignature: String?
        var nextLook = Date()
        var quiet = activeInterval
        var backoff = 0.0
        // A monitor started for a build long under way (after a crash or a restart) looks
        // once at once, should its end have been missed while nothing ran.
        // (From the provider call's return: the build is recorded before the call, which may take a while.)
        let underWay = try store.build(id: buildID).flatMap { Timestamp.date($0.launchedAt ?? $0.startedAt) }
            .map {
                Date().timeIntervalSince($0) > 10
            }
        var nextCheck = underWay == true ? Date() : Date().addingTimeInterval(pushCheckInterval)
        // CloudFormation tells a stack's first event within seconds: a pushed build with
        // none stored after `firstEventWait` looks once whether the stack has some the queue
        // did not bring (a subscription or queue policy changed outside nepho), and is then
        // polled rather than left to the safety net.
        var firstEventCheck: Date? =
            underWay == true
            ? nil
            : Date().addingTimeInterval(
                Double(environment["NEPHO_MONITOR_FIRST_EVENT_WAIT"] ?? "") ?? 30)
        var pushMissed = false
        var pushing: Bool?
        // Nested stacks whose events are not pushed (SNS: a nested stack does not notify
        // its root's topic) are polled while they are in progress.
        var nextNestedLook = Date()
        var nestedQuiet = activeInterval
        var inFlight = 1
        var nextCount = Date()
        if follower.launcherGone {
            guard
                try await resolveIntent(
                    cloudFormation, store: store, build: follower.build, formation: follower.formation,
                    scope: scope)
            else { return 0 }
        }
        // Commits to state.db by any process (the daemon storing pushed events) wake the
        // monitor of a pushed build; it reads nothing while nothing changes.
        let changes = StoreChangeSignal.shared(databasePath: paths.database.path)
        while true {
            let seen = changes.current
            let looked = Date()
            // A home removed (a throw-away test or benchmark home): nobody can use the build any more.
            guard FileManager.default.fileExists(atPath: paths.database.path) else {
                log("\(paths.database.path) is gone; monitor of build \(buildID) exits")
                return 0
            }
            guard let build = try store.build(id: buildID), build.finishedAt == nil,
                let formation = try store.formation(id: build.formationID), let stackID = formation.stackID
            else { return 0 }
            do {
                // Read once a look: whether events are pushed, and whether the rule brings
                // nested stacks' events too.
                let channel = try store.eventChannel(scope: scope)
                let pushed = try !pushMissed && self.pushed(channel, store: store, stackID: stackID)
                if pushed != pushing {
                    log(
                        "build \(buildID): stack events \(pushed ? "pushed through the nanny's queue" : "polled")"
                    )
                    pushing = pushed
                }
                if pushed {
                    // The daemon's queue poller stores the events and the stack's status; this
                    // monitor makes no call until the build reaches a terminal status (or, as a
                    // safety net, every `pushCheckInterval`), then reconciles once.
                    await phases.look()
                    if let due = firstEventCheck, Date() >= due {
                        firstEventCheck = nil
                        if try store.events(buildID: buildID, limit: 1).isEmpty {
                            try await spend(store, scope, urgent: false)
                            if try await pollEvents(
                                cloudFormation, store: store, build: build, stackID: stackID)
                            {
                                log(
                                    "build \(buildID): the stack had events the nanny's queue did not bring; following it by polling"
                                )
                                pushMissed = true
                                continue
                            }
                        }
                    }
                    let nestedPolled =
                        try channel?.ruleArn == nil
                        && store.nestedStacks(buildID: buildID).contains(where: \.inProgress)
                    if nestedPolled, Date() >= nextNestedLook {
                        let changed = try await pollNested(
                            cloudFormation, store: store, build: build, scope: scope)
                        nestedQuiet = changed ? activeInterval : min(quietInterval, max(nestedQuiet * 2, 10))
                        nextNestedLook = Date().addingTimeInterval(nestedQuiet)
                    }
                    if !build.status.hasSuffix("_IN_PROGRESS") || Date() >= nextCheck {
                        try await spend(store, scope, urgent: true)
                        let stack = try await cloudFormation.describeStacks(stackID).first
                        if try await record(
                            stack, cloudFormation: cloudFormation, store: store, build: build,
                            formation: formation, stackID: stackID, changed: true, phases: phases,
                            scope: scope)
                        {
                            return 0
                        }
                        nextCheck = Date().addingTimeInterval(pushCheckInterval)
                    }
                    backoff = 0
                    // Until the store changes, the safety net's, the phase record's, the first
                    // event's or a polled nested stack's next look is due, or 5 s (a missed
                    // notification costs no more).
                    var due = min(
                        nextCheck, phases.nextLookAt, firstEventCheck ?? .distantFuture,
                        Date().addingTimeInterval(5))
                    if nestedPolled { due = min(due, nextNestedLook) }
                    _ = await changes.changed(after: seen, timeout: max(wake, due.timeIntervalSinceNow))
                    // At most one look every `wake` seconds however often the store changes:
                    // with many builds every commit wakes every monitor, and a commit is
                    // several writes.
                    let rest = wake - Date().timeIntervalSince(looked)
                    if rest > 0 { try await Task.sleep(nanoseconds: UInt64(rest * 1e9)) }
                    continue
                }
                // One monitor per scope and second lists the stacks in progress (one call for
                // all builds, one page while fewer than 100 stacks of the account are in
                // progress): never every stack of the account.
                if Date() >= nextCount {
                    inFlight = max(1, try store.unfinishedBuilds().count)
                    nextCount = Date().addingTimeInterval(5)
                }
                // The listing's pace follows nepho's builds: every `listingAge` seconds with
                // many builds, less often with few, so that it costs at most about 10 calls a
                // minute per build (`listingCallsPerBuild`).
                let age = max(listingAge, 60 / (listingCallsPerBuild * Double(inFlight)))
                if try store.claimListing(scope: scope, age: age) {
                    try await spend(store, scope, urgent: true)
                    let stacks = try await cloudFormation.listStacks(statusFilter: Self.inProgress)
                    try store.storeListing(
                        scope: scope,
                        stacks: Dictionary(
                            stacks.map {
                                ($0.stackId, "\($0.status)|\($0.lastUpdatedTime?.timeIntervalSince1970 ?? 0)")
                            },
                            uniquingKeysWith: { first, _ in first }))
                }
                let signature = try store.listedSignature(scope: scope, stackID: stackID)
                // Moved: the listing shows a status other than the one recorded, or the stack
                // is no longer in progress (listed "absent"), which ends every unfinished build.
                let listedStatus = signature.map { String($0.prefix { $0 != "|" }) }
                let moved =
                    signature != lastSignature
                    && (listedStatus == "absent" || listedStatus.map { $0 != build.status } ?? false)
                await phases.look()
                if moved || Date() >= nextLook {
                    // A routine look yields to the listing and to builds that moved. A build
                    // that moved asks for its status first (a terminal one reads the events
                    // right after); its events are read on the next look otherwise.
                    var changed = false
                    var nestedChanged = false
                    if !moved {
                        try await spend(store, scope, urgent: false)
                        changed = try await pollEvents(
                            cloudFormation, store: store, build: build, stackID: stackID)
                        // The nested stacks in progress (one call each); the root's status
                        // is asked for only when its own events moved.
                        nestedChanged = try await pollNested(
                            cloudFormation, store: store, build: build, scope: scope)
                    }
                    if moved || changed {
                        try await spend(store, scope, urgent: true)
                        let stack = try await cloudFormation.describeStacks(stackID).first
                        if try await record(
                            stack, cloudFormation: cloudFormation, store: store, build: build,
                            formation: formation,
                            stackID: stackID, changed: changed || moved, phases: phases, scope: scope)
                        {
                            return 0
                        }
                    }
                    lastSignature = signature
                    quiet =
                        changed || moved || nestedChanged
                        ? activeInterval : min(quietInterval, max(quiet * 2, 10))
                    if moved { quiet = 0 }  // read the events at the next wake
                    nextLook = Date().addingTimeInterval(quiet)
                }
                backoff = 0
            } catch let error as AWSError where error.isStackMissing {
                let gone = build.operation == .destroy ? nil : "the stack was deleted outside nepho"
                try follower.finish(status: BuildStatus.word(.destroy, .complete), error: gone)
                return 0
            } catch {
                backoff = min(30, max(backoff * 2, 2))
                let what =
                    (error as? AWSError)?.isThrottling == true ? "throttled" : SystemError.reason(error)
                log("build \(buildID): \(what); slowing down for \(backoff) s")
            }
            try await Task.sleep(nanoseconds: UInt64((wake + backoff) * 1e9))
        }
    }

    /// Records the stack's status and outputs; at a terminal status, finishes the build
    /// (after one more look at the events) and returns true.
    private func record(
        _ observed: Stack?, cloudFormation: CloudFormationClient, store: StateStore, build: BuildRecord,
        formation: FormationRecord, stackID: String, changed: Bool, phases: PhaseRecordReader, scope: String
    ) async throws -> Bool {
        var stack = observed
        // A status of the operation before this one (the stack not yet updating or deleting,
        // as DescribeStacks may say for a moment after ExecuteChangeSet or DeleteStack) is
        // not this build's: look again, for up to 20 s from the build's start (a change set
        // that changed nothing leaves the stack as it was; its status is then taken).
        if let verb = Self.verbs[build.operation] {
            let started = Timestamp.date(build.startedAt) ?? .distantPast
            while let current = stack, !current.status.hasPrefix(verb), Date().timeIntervalSince(started) < 20
            {
                try await Task.sleep(nanoseconds: 1_000_000_000)
                try await spend(store, scope, urgent: true)
                stack = try await cloudFormation.describeStacks(stackID).first
            }
        }
        let status = stack?.status ?? "DELETE_COMPLETE"
        let outputs = Dictionary(
            (stack?.outputs ?? []).map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        if status != build.status || changed {
            try store.updateBuild(
                id: buildID, formationID: formation.id, status: status, finished: false, outputs: outputs)
        }
        guard !status.hasSuffix("_IN_PROGRESS") else { return false }
        // One more look at the events at once, for those stored after the first look. Pushed
        // events may have come in any order (or one may be missing), so that look pages back
        // to the build's start (the last event of the builds before), not to the last event
        // stored.
        _ = try await pollEvents(
            cloudFormation, store: store, build: build, stackID: stackID, wholeBuild: true)
        // And one at each nested stack, likewise back to the build's start.
        _ = try await pollNested(cloudFormation, store: store, build: build, scope: scope, wholeBuild: true)
        await phases.look(final: true)
        if let stack, build.operation == .update {
            // The values the stack now has; NoEcho ones come back masked.
            var values = stack.parameters.mapValues {
                $0.allSatisfy { $0 == "*" } ? FormationLifecycle.mask : $0
            }
            // A value nepho keeps masked stays masked, whatever the provider answers (moto
            // does not honour NoEcho): the secrets recorded at create, and the phase record's URL.
            let secret = Set(formation.parameters.filter { $0.value == FormationLifecycle.mask }.keys)
            for name in secret.union([PhaseChannel.parameterName]) where values[name] != nil {
                values[name] = FormationLifecycle.mask
            }
            try store.updateFormationParameters(id: formation.id, parameters: values)
        }
        if stack != nil && build.operation != .destroy {
            // What the stack is made of now, for `formation:describe` (one call per build).
            try await spend(store, scope, urgent: true)
            if let listed = try? await cloudFormation.listStackResources(stackID) {
                try store.setResources(formationID: formation.id, json: Self.resourcesJSON(listed))
            }
        }
        try follower.finish(status: status)
        return true
    }

    /// Listing calls a minute per unfinished build the fallback allows itself (the rest of
    /// the 10 a build may cost is its routine looks).
    var listingCallsPerBuild: Double {
        Double(environment["NEPHO_MONITOR_LISTING_PER_BUILD"] ?? "") ?? 8
    }

    /// Seconds between DescribeStacks calls of a build whose events are pushed (a safety net).
    var pushCheckInterval: Double {
        Double(environment["NEPHO_MONITOR_PUSH_CHECK_INTERVAL"] ?? "") ?? 600
    }

    /// True while this build's events are pushed: its stack notifies the scope's topic (or
    /// the scope's EventBridge rule brings every stack's events) and
    /// the daemon long-polled the queue lately (or set it up just now).
    func pushed(_ channel: EventChannelRecord?, store: StateStore, stackID: String) throws -> Bool {
        guard !EventChannel.pollOnly(environment), let channel, channel.mode == .push,
            let topic = channel.topicArn,
            try channel.ruleArn != nil || store.stackTopic(stackID: stackID) == topic
        else { return false }
        let polled = Date(timeIntervalSince1970: Double(channel.polledMilliseconds) / 1000)
        if Date().timeIntervalSince(polled) < 45 { return true }
        return Timestamp.date(channel.checkedAt).map { Date().timeIntervalSince($0) < 10 } ?? false
    }

    /// The statuses the shared listing asks ListStacks for: a stack in none of them is at rest.
    static let inProgress = [
        "CREATE_IN_PROGRESS", "DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "REVIEW_IN_PROGRESS", "IMPORT_IN_PROGRESS",
        "IMPORT_ROLLBACK_IN_PROGRESS",
    ]

    /// The word every status of an update's or a destroy's own starts with.
    static let verbs: [BuildRecord.Operation: String] = [.update: "UPDATE_", .destroy: "DELETE_"]

    /// Waits for a call from the scope's shared budget.
    private func spend(_ store: StateStore, _ scope: String, urgent: Bool) async throws {
        let burst = max(4, budget * 2)
        while true {
            let wait = try store.takeRequestToken(
                scope: scope, rate: budget, burst: burst, reserve: urgent ? 0 : burst / 2)
            if wait <= 0 { return }
            try await Task.sleep(nanoseconds: UInt64(min(wait, urgent ? 0.25 : 5) * 1e9))
        }
    }

    /// The account and region the budget is shared by: a hash of the key id (or profile),
    /// the region and the endpoint; no credential is stored.
    static func scope(environment: [String: String], configuration: AWSConfiguration) -> String {
        let who = environment["AWS_ACCESS_KEY_ID"] ?? environment["AWS_PROFILE"] ?? configuration.profile
        let endpoint = (try? configuration.endpoint(for: .cloudFormation).absoluteString) ?? ""
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(who)|\(configuration.region ?? "")|\(endpoint)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    /// Stores the events newer than the last stored one; true when there were any.
    private func pollEvents(
        _ cloudFormation: CloudFormationClient, store: StateStore, build: BuildRecord, stackID: String,
        wholeBuild: Bool = false
    ) async throws -> Bool {
        let last =
            wholeBuild
            ? try store.lastEventID(formationID: build.formationID, before: build.id)
            : try store.lastEventID(formationID: build.formationID)
        var events = try await cloudFormation.describeStackEvents(stackID, stopAt: last)
        if last == nil && build.operation != .create, let start = Timestamp.date(build.startedAt) {
            events = events.filter { $0.timestamp >= start.addingTimeInterval(-5) }
        }
        var stored = false
        for event in events.reversed() {
            try NestedStackEvents.note(event, path: "", buildID: buildID, store: store)
            let record = NestedStackEvents.record(event, path: "", buildID: buildID)
            if try store.appendEvent(record) != nil { stored = true }
        }
        return stored
    }

    /// Stores the events of the build's nested stacks in progress (all of them, back to
    /// the build's start, with `wholeBuild`), one DescribeStackEvents each from the scope's
    /// budget, and those of the nested stacks they reveal; true when there were any new.
    private func pollNested(
        _ cloudFormation: CloudFormationClient, store: StateStore, build: BuildRecord, scope: String,
        wholeBuild: Bool = false
    ) async throws -> Bool {
        var stored = false
        var looked = Set<String>()
        let start = Timestamp.date(build.startedAt)?.addingTimeInterval(-5)
        while true {
            let due = try store.nestedStacks(buildID: buildID).filter {
                !looked.contains($0.stackID) && (wholeBuild || $0.inProgress)
            }
            guard !due.isEmpty else { return stored }
            for nested in due {
                looked.insert(nested.stackID)
                try await spend(store, scope, urgent: wholeBuild)
                let stopAt =
                    wholeBuild
                    ? try store.lastNestedEventID(stackID: nested.stackID, before: buildID)
                    : nested.lastEventID
                var events: [StackEvent]
                do {
                    events = try await cloudFormation.describeStackEvents(nested.stackID, stopAt: stopAt)
                } catch let error as AWSError where error.isStackMissing {
                    // Gone (a nested stack deleted by its parent, asked for by name): nothing more.
                    try store.updateNestedStack(
                        buildID: buildID, stackID: nested.stackID, status: "DELETE_COMPLETE", lastEventID: nil
                    )
                    continue
                }
                // Where the next look stops paging: the newest event, even one of an
                // operation before this build's (left out below).
                let newest = events.first?.eventId
                if stopAt == nil, let start { events = events.filter { $0.timestamp >= start } }
                for event in events.reversed() {
                    try NestedStackEvents.note(event, path: nested.path, buildID: buildID, store: store)
                    let record = NestedStackEvents.record(event, path: nested.path, buildID: buildID)
                    if try store.appendEvent(record) != nil { stored = true }
                }
                try store.updateNestedStack(
                    buildID: buildID, stackID: nested.stackID, status: NestedStackEvents.ownStatus(events),
                    lastEventID: newest)
            }
        }
    }

    /// Listed resources as the JSON array `formation:describe` answers with.
    static func resourcesJSON(_ resources: [StackResource]) -> String {
        let rows = resources.map {
            FormationResource(
                logicalID: $0.logicalResourceId, resourceType: $0.resourceType, status: $0.status,
                reason: $0.statusReason, updatedAt: $0.lastUpdated.map { Timestamp.string($0) } ?? "")
        }
        return String(decoding: (try? JSONEncoder().encode(rows)) ?? Data("[]".utf8), as: UTF8.self)
    }
}
