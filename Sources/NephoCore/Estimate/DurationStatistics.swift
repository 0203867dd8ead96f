import Foundation
import NephoSupport

/// What a build does to a resource; an event's status says which (`CREATE_…`, `UPDATE_…`,
/// `DELETE_…`; a vagrant phase counts as a create).
public enum ResourceOperation: String, Sendable, Hashable, CaseIterable {
    case create, update, delete

    /// The operation an event status belongs to; nil for a status that names none.
    public init?(status: String) {
        if status.hasPrefix("CREATE_") {
            self = .create
        } else if status.hasPrefix("UPDATE_") {
            self = .update
        } else if status.hasPrefix("DELETE_") {
            self = .delete
        } else if status.hasPrefix("IMPORT_") {
            self = .create
        } else {
            return nil
        }
    }
}

/// One stored event as the estimator reads it.
public struct ObservedEvent: Sendable, Equatable {
    public var date: Date
    public var logicalID: String
    public var resourceType: String
    public var status: String
    public var reason: String?

    public init(date: Date, logicalID: String, resourceType: String, status: String, reason: String? = nil) {
        self.date = date
        self.logicalID = logicalID
        self.resourceType = resourceType
        self.status = status
        self.reason = reason
    }

    /// An event from its stored text; nil without a time, a logical id or a status.
    public init?(
        timestamp: String, logicalID: String?, resourceType: String?, status: String?, reason: String? = nil
    ) {
        guard let date = Timestamp.date(timestamp), let logicalID, let status else { return nil }
        self.init(
            date: date, logicalID: logicalID, resourceType: resourceType ?? "", status: status, reason: reason
        )
    }
}

/// One resource's work in one build: from its first `*_IN_PROGRESS` to its terminal status.
public struct ResourceSpan: Sendable, Equatable {
    public var logicalID: String
    public var resourceType: String
    public var operation: ResourceOperation
    public var start: Date
    /// nil while it is at work.
    public var end: Date?
    /// The last status seen.
    public var status: String

    public var seconds: Double? { end.map { $0.timeIntervalSince(start) } }
    public var succeeded: Bool { end != nil && status.hasSuffix("_COMPLETE") }

    /// The spans of one build's events, in the order they started. The stack's own events
    /// (`stack`, the stack's name) are left out. A resource worked on twice in a build (an
    /// update that replaces it, then deletes the old one; a rollback) has one span per operation.
    public static func spans(_ events: [ObservedEvent], stack: String?) -> [ResourceSpan] {
        var spans: [ResourceSpan] = []
        var open: [String: Int] = [:]
        for event in events.sorted(by: { $0.date < $1.date }) where event.logicalID != stack {
            guard let operation = ResourceOperation(status: event.status) else { continue }
            let key = event.logicalID
            if let index = open[key], spans[index].operation == operation {
                spans[index].status = event.status
                if !event.status.hasSuffix("_IN_PROGRESS") {
                    spans[index].end = event.date
                    open[key] = nil
                }
                continue
            }
            if let index = open[key] { open[key] = nil; spans[index].end = spans[index].end ?? event.date }
            var span = ResourceSpan(
                logicalID: key, resourceType: event.resourceType, operation: operation, start: event.date,
                end: nil, status: event.status)
            if !event.status.hasSuffix("_IN_PROGRESS") { span.end = event.date }
            spans.append(span)
            if span.end == nil { open[key] = spans.count - 1 }
        }
        return spans
    }
}

/// Robust statistics of durations: the median and the 90th percentile (linear
/// interpolation between order statistics), not the mean, which one slow build drags.
public struct DurationStats: Sendable, Equatable {
    public var count: Int
    public var median: Double
    public var p90: Double

    public init(count: Int, median: Double, p90: Double) {
        self.count = count
        self.median = median
        self.p90 = p90
    }

    public init?(_ values: [Double]) {
        let sorted = values.filter(\.isFinite).sorted()
        guard !sorted.isEmpty else { return nil }
        self.init(
            count: sorted.count, median: Self.quantile(sorted, 0.5), p90: Self.quantile(sorted, 0.9))
    }

    /// The `q` quantile of sorted values.
    public static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard sorted.count > 1 else { return sorted.first ?? 0 }
        let position = q * Double(sorted.count - 1)
        let low = Int(position.rounded(.down))
        let high = min(low + 1, sorted.count - 1)
        return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
    }

    /// The time left for a resource at work for `elapsed` seconds: to its median while it
    /// is under it; past the median, to its p90; past the p90, a quarter of the time it has
    /// taken so far (the longer it ran past what it usually takes, the less it says).
    public func remaining(after elapsed: Double) -> Double {
        if elapsed < median { return median - elapsed }
        if elapsed < p90 { return p90 - elapsed }
        return max(1, elapsed / 4)
    }
}

/// Where an expected duration came from.
public enum DurationSource: String, Sendable {
    /// This nanny's own finished builds.
    case learned
    /// The shipped prior table (`PriorDurations`).
    case prior
    /// Neither knows the type: a default.
    case guess
}

/// The shipped prior: typical durations per resource type and operation
/// (`PriorDurations+Table.swift`, source in docs/formations.md).
public enum PriorDurations {
    /// Seconds by type, then create/update/delete.
    public static let seconds: [String: [ResourceOperation: Double]] = {
        var result: [String: [ResourceOperation: Double]] = [:]
        for line in table.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: " ")
            guard fields.count == 4, let create = Double(fields[1]), let update = Double(fields[2]),
                let delete = Double(fields[3])
            else { continue }
            result[String(fields[0])] = [.create: create, .update: update, .delete: delete]
        }
        return result
    }()

    /// A type's prior; nil when the table does not have it.
    public static func stats(_ type: String, _ operation: ResourceOperation) -> DurationStats? {
        guard let seconds = Self.seconds[type]?[operation] else { return nil }
        let median = max(seconds, 1)
        // The table gives one typical figure; its spread is taken as half of it again.
        return DurationStats(count: 0, median: median, p90: median * 1.5)
    }
}

/// Expected durations per resource type and operation: learned from this nanny's
/// finished builds once a type has been seen `minimumSamples` times, else the prior table,
/// else a guess. Provisioner phases are learned the same way, keyed by cloudlet and scenario.
public struct DurationTable: Sendable {
    public struct Key: Hashable, Sendable {
        public var type: String
        public var operation: ResourceOperation
        public init(_ type: String, _ operation: ResourceOperation) {
            self.type = type
            self.operation = operation
        }
    }

    public static let minimumSamples = 3
    /// What a type neither learned nor in the prior is expected to take.
    public static let guess = DurationStats(count: 0, median: 10, p90: 30)

    public private(set) var samples: [Key: [Double]] = [:]
    /// Durations of provisioner phases (`phase N/T`), from the same cloudlet and scenario.
    public private(set) var phaseSamples: [Int: [Double]] = [:]
    /// The builds the samples came from.
    public private(set) var builds = 0

    public init() {}

    /// Adds one finished build's events (succeeded resources only: a failure's duration
    /// says nothing of how long the work takes).
    public mutating func add(build events: [ObservedEvent], stack: String?) {
        builds += 1
        for span in ResourceSpan.spans(events, stack: stack) where span.succeeded {
            guard let seconds = span.seconds else { continue }
            samples[Key(span.resourceType, span.operation), default: []].append(seconds)
        }
    }

    /// Adds the phase durations of one finished build of the same cloudlet and scenario.
    public mutating func add(phases events: [ObservedEvent]) {
        for (number, seconds) in PhaseClock.durations(events) {
            phaseSamples[number, default: []].append(seconds)
        }
    }

    public func stats(_ type: String, _ operation: ResourceOperation) -> (DurationStats, DurationSource) {
        if let values = samples[Key(type, operation)], values.count >= Self.minimumSamples,
            let stats = DurationStats(values)
        {
            return (stats, .learned)
        }
        if let prior = PriorDurations.stats(type, operation) { return (prior, .prior) }
        if let values = samples[Key(type, operation)], let stats = DurationStats(values) {
            return (stats, .learned)
        }
        return (Self.guess, .guess)
    }

    /// Phase `number`'s duration, learned; nil when it was not seen `minimumSamples` times.
    public func phaseStats(_ number: Int) -> DurationStats? {
        guard let values = phaseSamples[number], values.count >= Self.minimumSamples else { return nil }
        return DurationStats(values)
    }
}

/// Provisioner phases in a build's events: a wait condition's phase signals
/// (`…UniqueId phase-N-of-T`, `NEPHO_PHASE N/T`) or a vagrant build's `PHASE N/T` events.
public enum PhaseClock {
    /// The phase number and total an event announces.
    public static func phase(_ event: ObservedEvent) -> (number: Int, total: Int)? {
        if event.status.hasPrefix("PHASE "), let fraction = fraction(event.status.dropFirst(6), "/") {
            return fraction
        }
        guard let reason = event.reason else { return nil }
        if let range = reason.range(of: "UniqueId phase-") {
            return fraction(reason[range.upperBound...].prefix { !$0.isWhitespace }, "-of-")
        }
        if let range = reason.range(of: "NEPHO_PHASE ") {
            return fraction(reason[range.upperBound...].prefix { !$0.isWhitespace }, "/")
        }
        return nil
    }

    /// Each phase's duration: from the previous phase's signal (the first from the start
    /// of whatever carries the phases: the wait condition or vagrant's provisioner) to its own.
    public static func durations(_ events: [ObservedEvent]) -> [(Int, Double)] {
        var result: [(Int, Double)] = []
        var previous: Date?
        for event in events.sorted(by: { $0.date < $1.date }) {
            if previous == nil, isPhaseStart(event) { previous = event.date }
            guard let phase = phase(event) else { continue }
            if let previous { result.append((phase.number, event.date.timeIntervalSince(previous))) }
            previous = event.date
        }
        return result
    }

    /// What starts the clock of the first phase.
    static func isPhaseStart(_ event: ObservedEvent) -> Bool {
        (event.resourceType == "AWS::CloudFormation::WaitCondition" && event.status.hasSuffix("_IN_PROGRESS"))
            || (event.resourceType == "Vagrant::Provisioner" && phase(event) == nil)
            || event.status == "PROVISION_START"
    }

    static func fraction(_ text: Substring, _ separator: String) -> (number: Int, total: Int)? {
        guard let range = text.range(of: separator), let number = Int(text[..<range.lowerBound]),
            let total = Int(text[range.upperBound...].prefix { $0.isNumber }), number >= 1, number <= total
        else { return nil }
        return (number, total)
    }
}
