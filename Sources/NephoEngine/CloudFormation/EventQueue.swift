import Foundation
import NephoAWS
import NephoStore
import NephoSupport

/// The daemon's side of pushed stack events: for each account and region whose events
/// are pushed (`event_channels`, mode `push`) it long-polls this nanny's SQS queue (SNS
/// notifications, and EventBridge events when the rule is in place; 20 s
/// waits: about three calls a minute however many builds run), stores each stack event
/// once (by EventId) under the build it belongs to, records the stack's own status
/// changes, and deletes a message only after its event is committed. Any commit wakes
/// the build's followers (inotify on `state.db`) and its monitor, which reconciles the
/// build's end with one DescribeStackEvents pass (`CloudFormationMonitor`).
///
/// It needs the credentials of the scope: the contexts builds were started with (the
/// driver registers them here) or the supervisor's, in memory only.
public final class EventQueue: @unchecked Sendable {
    public let paths: NephoPaths
    private let contexts: @Sendable () -> [[String: String]]
    private let lock = NSLock()
    private var running: Set<String> = []
    private var started = false
    /// False in a `--foreground` command: the queue's news stay out of the user's terminal.
    private var logging = true

    /// Contexts registered by set-ups in this process, by home and scope.
    nonisolated(unsafe) private static var registered: [String: [String: [String: String]]] = [:]
    private static let registryLock = NSLock()

    /// `contexts` lists provider contexts the daemon holds (the supervisor's).
    public init(paths: NephoPaths, contexts: @escaping @Sendable () -> [[String: String]]) {
        self.paths = paths
        self.contexts = contexts
    }

    /// Stack names this process is creating now, by home: their first events may arrive
    /// before the formation is recorded with the stack's id.
    nonisolated(unsafe) private static var expected: [String: [String: Date]] = [:]

    static func register(paths: NephoPaths, scope: String, environment: [String: String]) {
        registryLock.withLock { registered[paths.home.path, default: [:]][scope] = environment }
    }

    /// Notes that a stack of this name is about to be created.
    static func expect(paths: NephoPaths, stackName: String) {
        registryLock.withLock {
            var names = expected[paths.home.path, default: [:]].filter {
                Date().timeIntervalSince($0.value) < 60
            }
            names[stackName] = Date()
            expected[paths.home.path] = names
        }
    }

    private static func isExpected(paths: NephoPaths, stackName: String) -> Bool {
        registryLock.withLock {
            expected[paths.home.path]?[stackName].map { Date().timeIntervalSince($0) < 60 } ?? false
        }
    }

    /// Starts watching the store for pushed scopes, once; a queue is polled as soon as a
    /// set-up records it and a context for it is known.
    public func start(every interval: Double = 0.5, logging: Bool = true) {
        let first = lock.withLock { () -> Bool in
            defer { started = true }
            self.logging = logging
            return !started
        }
        guard first else { return }
        Thread.detachNewThread { [self] in
            // Until the home goes away (a throw-away test home); a home or database not made
            // yet (a first command, in the foreground) is waited for.
            var seen = false
            while true {
                if FileManager.default.fileExists(atPath: paths.home.path) {
                    seen = true
                } else if seen {
                    return
                }
                if FileManager.default.fileExists(atPath: paths.database.path) { startPollers() }
                Thread.sleep(forTimeInterval: interval)
            }
        }
    }

    /// The store the pollers use, opened once (opening one is a write transaction).
    private var openStore: StateStore?

    private func startPollers() {
        let opened = lock.withLock { openStore } ?? (try? StateStore(path: paths.database.path))
        lock.withLock { if openStore == nil { openStore = opened } }
        guard let store = opened,
            let channels = try? store.eventChannels().filter({ $0.mode == .push && $0.queueURL != nil })
        else { return }
        for channel in channels where !lock.withLock({ running.contains(channel.scope) }) {
            guard let environment = context(for: channel.scope) else { continue }
            lock.withLock { _ = running.insert(channel.scope) }
            Task.detached { [self] in
                await poll(channel, environment: environment, store: store)
                lock.withLock { _ = running.remove(channel.scope) }
            }
        }
    }

    private func context(for scope: String) -> [String: String]? {
        if let known = Self.registryLock.withLock({ Self.registered[paths.home.path]?[scope] }) {
            return known
        }
        return contexts().first { environment in
            guard let configuration = try? AWSConfiguration.resolve(environment: environment) else {
                return false
            }
            return CloudFormationMonitor.scope(environment: environment, configuration: configuration)
                == scope
        }
    }

    private func log(_ line: String) {
        guard lock.withLock({ logging }) else { return }
        FileHandle.standardError.write(Data("\(Timestamp.now()) \(line)\n".utf8))
    }

    /// Long-polls one queue until the channel changes or the home goes away.
    private func poll(_ channel: EventChannelRecord, environment: [String: String], store: StateStore) async {
        guard let url = channel.queueURL,
            let configuration = try? AWSConfiguration.resolve(environment: environment),
            let sqs = try? AWSSession(configuration: configuration).sqs()
        else { return }
        // Settings of the daemon's own environment (tests shorten them).
        let settings = ProcessInfo.processInfo.environment
        // Handling a message takes milliseconds; a poller killed with messages in flight
        // delays them by this long (a redelivery is recognised by its EventId).
        let visibility = Int(settings["NEPHO_EVENTS_VISIBILITY_TIMEOUT"] ?? "") ?? 10
        let wait = Int(settings["NEPHO_EVENTS_WAIT"] ?? "") ?? SQSClient.longestWait
        var backoff = 0.0
        log("stack events of \(channel.region ?? "?") arrive through \(url)")
        while FileManager.default.fileExists(atPath: paths.database.path) {
            guard let current = try? store.eventChannel(scope: channel.scope), current.mode == .push,
                current.queueURL == url
            else { return }
            do {
                try store.markEventChannelPolled(scope: channel.scope)
                let messages = try await sqs.receiveMessages(
                    url: url, maximum: 10, waitSeconds: wait, visibilityTimeout: visibility)
                for message in messages {
                    try await Self.store(message, in: store, paths: paths)
                    // Only once the event is committed: a crash before this redelivers it.
                    try await sqs.deleteMessage(url: url, receiptHandle: message.receiptHandle)
                }
                backoff = 0
            } catch let error as AWSError where SQSClient.isMissingQueue(error) {
                log("the queue \(url) is gone; stack events are polled until the next set-up")
                try? store.deleteEventChannel(scope: channel.scope)
                return
            } catch {
                backoff = min(30, max(backoff * 2, 1))
                log("queue \(url): \(SystemError.reason(error)); trying again in \(backoff) s")
                try? await Task.sleep(nanoseconds: UInt64(backoff * 1e9))
            }
        }
    }

    /// A formation of that name whose create is recorded but not yet launched (its
    /// CreateStack is under way, in whichever process: the daemon's, or a `--foreground`
    /// command's, when both long-poll the queue).
    private static func isBeingCreated(_ stackName: String, in store: StateStore) -> Bool {
        guard let formation = try? store.formation(named: stackName), formation.stackID == nil,
            let builds = try? store.builds(formationID: formation.id)
        else { return false }
        return builds.contains { $0.operation == .create && $0.finishedAt == nil && $0.launchedAt == nil }
    }

    /// Stores the stack event a message carries (nothing for a stack nepho does not know).
    static func store(_ message: SQSMessage, in store: StateStore, paths: NephoPaths) async throws {
        guard case .event(let event, _) = StackEventNotification.parse(body: message.body) else { return }
        if let nested = try store.nestedStack(stackID: event.stackId) {
            // A nested stack of a build (EventBridge brings every stack's events; SNS only
            // those of stacks that notify the topic): stored in the root's build, under its path.
            try recordNested(event, nested: nested, store: store)
            return
        }
        var formation = try store.formation(stackID: event.stackId)
        // A stack this nanny is creating this very moment: its row comes once CreateStack answered.
        var waited = 0
        while formation == nil, waited < 50,
            isExpected(paths: paths, stackName: event.stackName) || isBeingCreated(event.stackName, in: store)
        {
            try await Task.sleep(nanoseconds: 100_000_000)
            waited += 1
            formation = try store.formation(stackID: event.stackId)
        }
        guard let formation else { return }
        try record(event, formation: formation, store: store)
    }

    /// Stores an event of a nested stack in its root's build, if that build is still open:
    /// it never sets the build's status (only the root's own events do), it notes the
    /// nested stack's own status and the nested stacks it names.
    static func recordNested(_ event: StackEvent, nested: NestedStackRecord, store: StateStore) throws {
        guard let build = try store.build(id: nested.buildID), build.finishedAt == nil else { return }
        try NestedStackEvents.note(event, path: nested.path, buildID: build.id, store: store)
        guard
            try store.appendEvent(NestedStackEvents.record(event, path: nested.path, buildID: build.id))
                != nil
        else { return }
        // EventBridge's ids are no CloudFormation EventId: no place to stop paging at.
        let bridged = event.eventId.hasPrefix(StackEventNotification.eventBridgePrefix)
        try store.updateNestedStack(
            buildID: build.id, stackID: nested.stackID, status: NestedStackEvents.ownStatus([event]),
            lastEventID: bridged ? nil : event.eventId)
    }

    /// Stores `event` under the build of `formation` it belongs to; the stack's own events
    /// set the build's and the formation's status.
    static func record(_ event: StackEvent, formation: FormationRecord, store: StateStore) throws {
        let builds = try store.builds(formationID: formation.id)
        let stackLevel =
            event.resourceType == "AWS::CloudFormation::Stack" && event.logicalResourceId == event.stackName
        // The last build started before the event (clocks may differ by a few seconds).
        // EventBridge's times have whole seconds (see below).
        let bridged = event.eventId.hasPrefix(StackEventNotification.eventBridgePrefix)
        let owner =
            builds.last {
                guard let start = Timestamp.date($0.startedAt) else { return false }
                return start.addingTimeInterval(-5) <= event.timestamp
            } ?? builds.last
        guard let build = owner else { return }
        if build.finishedAt != nil {
            // A change nepho did not start (the console, a colleague's nanny): the formation
            // shows it; the finished build's log stays as it was.
            if stackLevel, let end = Timestamp.date(build.finishedAt ?? ""),
                event.timestamp.addingTimeInterval(bridged ? 1 : 0) > end
            {
                try store.updateFormation(id: formation.id, status: event.status)
            }
            return
        }
        // SQS may deliver out of order: a stack status older than one already stored is not
        // written over it.
        let newest = try store.events(buildID: build.id).filter {
            $0.resourceType == "AWS::CloudFormation::Stack" && $0.logicalID == event.stackName
        }.compactMap { Timestamp.date($0.timestamp) }.max()
        try NestedStackEvents.note(event, path: "", buildID: build.id, store: store)
        let stored = try store.appendEvent(NestedStackEvents.record(event, path: "", buildID: build.id))
        // An update's or destroy's build takes only its own operation's statuses (a late
        // event of the operation before it is stored, not taken for its status).
        let ownStatus =
            CloudFormationMonitor.verbs[build.operation].map { event.status.hasPrefix($0) } ?? true
        // EventBridge's times have whole seconds: a stack status it brings that ends an
        // operation is not older than what is stored within the same second.
        let slack = bridged && !event.status.hasSuffix("_IN_PROGRESS") ? 1.0 : 0
        if stored != nil, stackLevel, ownStatus,
            newest.map({ event.timestamp.addingTimeInterval(slack) >= $0 }) ?? true
        {
            try store.updateBuild(
                id: build.id, formationID: formation.id, status: event.status, finished: false)
        }
    }
}
