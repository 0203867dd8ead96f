import Foundation
import Logging
import NephoProtocol
import NephoStore

/// Fans build events out to subscribed connections. Every event is stored first (so a
/// client that reconnects can resume from SQLite), then sent to live subscribers in
/// sequence order, each subscriber receiving every sequence number exactly once.
public final class EventHub: @unchecked Sendable {
    private let store: StateStore
    private let logger: Logger
    private let lock = NSLock()
    private var nextID = 1
    private var subscriptions: [Int: Subscription] = [:]

    private final class Subscription {
        let id: Int
        let subject: String
        let buildID: Int64
        let connection: Connection
        var lastSent: Int64
        /// Events published while the history is being replayed; nil once live.
        var pending: [EventRecord]? = []

        init(id: Int, subject: String, buildID: Int64, connection: Connection, after: Int64) {
            self.id = id
            self.subject = subject
            self.buildID = buildID
            self.connection = connection
            self.lastSent = after
        }
    }

    init(store: StateStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// `build:<id>` → the build id.
    static func buildID(subject: String) -> Int64? {
        guard subject.hasPrefix("build:") else { return nil }
        return Int64(subject.dropFirst("build:".count)).flatMap { $0 > 0 ? $0 : nil }
    }

    /// Stores `event` and sends it to the build's subscribers. Returns the stored event,
    /// or nil when this provider event id was already stored (nothing is sent again).
    @discardableResult
    public func publish(_ event: EventRecord) throws -> EventRecord? {
        guard let stored = try store.appendEvent(event) else { return nil }
        lock.withLock {
            for subscription in subscriptions.values where subscription.buildID == stored.buildID {
                if subscription.pending != nil {
                    subscription.pending!.append(stored)
                } else {
                    deliver(stored, to: subscription)
                }
            }
        }
        return stored
    }

    /// Registers a subscription; events arrive only after `replay` (call it once the
    /// subscribe response is queued, so the response comes first).
    func subscribe(subject: String, after: Int64, connection: Connection) throws -> (
        Int, replay: @Sendable () -> Void
    ) {
        guard let buildID = Self.buildID(subject: subject) else {
            throw NephoError(.invalidInput, "unknown subject \"\(subject)\": subjects are named build:<id>")
        }
        guard after >= 0 else { throw NephoError(.invalidInput, "\"after\" must be 0 or more") }
        let subscription = lock.withLock {
            defer { nextID += 1 }
            let subscription = Subscription(
                id: nextID, subject: subject, buildID: buildID, connection: connection, after: after)
            subscriptions[nextID] = subscription
            return subscription
        }
        let id = subscription.id
        return (id, { [self] in replay(id: id) })
    }

    private func replay(id: Int) {
        guard let subscription = lock.withLock({ subscriptions[id] }) else { return }
        // History from SQLite, in pages, then whatever was published meanwhile.
        while true {
            let after = lock.withLock { subscription.lastSent }
            let page = (try? store.events(buildID: subscription.buildID, after: after, limit: 1000)) ?? []
            if page.isEmpty || subscription.connection.isClosed { break }
            lock.withLock { for event in page { deliver(event, to: subscription) } }
        }
        lock.withLock {
            for event in subscription.pending ?? [] { deliver(event, to: subscription) }
            subscription.pending = nil
        }
    }

    /// Sends `event` unless the subscriber already has it. Call with `lock` held.
    private func deliver(_ event: EventRecord, to subscription: Subscription) {
        guard event.sequence > subscription.lastSent else { return }
        subscription.lastSent = event.sequence
        let notification = RPCNotification(
            method: DaemonRPC.eventNotification,
            params: EventNotification(
                subscription: subscription.id, subject: subscription.subject, sequence: event.sequence,
                event: BuildEvent(
                    eventID: event.providerEventID, timestamp: event.timestamp, logicalID: event.logicalID,
                    resourceType: event.resourceType, status: event.status, reason: event.reason)))
        guard let line = try? OrderedJSONSink.encode(notification) else { return }
        subscription.connection.send(Array(line))
    }

    /// Sends live subscribers the events stored since their last one. Monitors (separate
    /// processes) store events straight into SQLite; the daemon calls this a few times a
    /// second while anyone subscribes. Cheap when nobody does.
    public func catchUp() {
        let live = lock.withLock {
            subscriptions.values.filter { $0.pending == nil && !$0.connection.isClosed }
        }
        for subscription in live {
            let after = lock.withLock { subscription.lastSent }
            guard let page = try? store.events(buildID: subscription.buildID, after: after, limit: 1000),
                !page.isEmpty
            else { continue }
            lock.withLock { for event in page { deliver(event, to: subscription) } }
        }
    }

    var hasSubscriptions: Bool { lock.withLock { !subscriptions.isEmpty } }

    func unsubscribe(_ id: Int, connection: Connection) -> Bool {
        lock.withLock {
            guard subscriptions[id]?.connection === connection else { return false }
            subscriptions[id] = nil
            return true
        }
    }

    /// Drops every subscription of a closed connection.
    func remove(connection: Connection) {
        lock.withLock { subscriptions = subscriptions.filter { $0.value.connection !== connection } }
    }
}
