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
    /// (`stack`, the stack's name) and a nested stack's own (`NestedPath.isStackRow`) are
    /// left out; a nested stack's resources are spans of their own (`Child/Bucket`). A
    /// resource worked on twice in a build (an update that replaces it, then deletes the
    /// old one; a rollback) has one span per operation.
    public static func spans(_ events: [ObservedEvent], stack: String?) -> [ResourceSpan] {
        var spans: [ResourceSpan] = []
        var open: [String: Int] = [:]
        for event in events.sorted(by: { $0.date < $1.date })
        where event.logicalID != stack && !NestedPath.isStackRow(event.logicalID) {
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

    /// `sharedSpread`: the spread (log-normal sigma) of every type's durations around its
    /// own median in the same table (`DurationTable.sharedSpread`), which a type seen only
    /// a few times leans on.
    public init?(_ values: [Double], sharedSpread: Double? = nil) {
        let sorted = values.filter(\.isFinite).sorted()
        guard !sorted.isEmpty else { return nil }
        let median = Self.quantile(sorted, 0.5)
        var p90 = Self.quantile(sorted, 0.9)
        // Under ten samples the interpolated p90 sits low (five samples have no tenth
        // above it): also take a log-normal's, and keep the larger. Its spread: the median
        // absolute deviation of the logarithms (robust like the median), pulled toward the
        // table's shared spread as if that were `sharedWeight` more samples (five samples
        // alone often show a third of the true spread).
        if sorted.count < 10, median > 0, sorted.allSatisfy({ $0 > 0 }) {
            var sigma = 1.4826 * Self.quantile(Self.deviations(sorted, median: median), 0.5)
            if let sharedSpread {
                let n = Double(sorted.count)
                let k = Self.sharedWeight
                sigma = ((n * sigma * sigma + k * sharedSpread * sharedSpread) / (n + k)).squareRoot()
            }
            p90 = max(p90, median * exp(1.2816 * sigma))
        }
        self.init(count: sorted.count, median: median, p90: p90)
    }

    /// How many samples the shared spread counts for beside a type's own.
    public static let sharedWeight = 5.0

    /// |log(value / median)| of sorted positive values, leaving out the middle one of an
    /// odd count (it is the median: its zero says nothing of the spread).
    static func deviations(_ sorted: [Double], median: Double) -> [Double] {
        var values = sorted
        if values.count % 2 == 1, values.count > 1 { values.remove(at: values.count / 2) }
        return values.map { abs(log($0 / median)) }.sorted()
    }

    /// The `q` quantile of sorted values.
    public static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard sorted.count > 1 else { return sorted.first ?? 0 }
        let position = q * Double(sorted.count - 1)
        let low = Int(position.rounded(.down))
        let high = min(low + 1, sorted.count - 1)
        return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
    }

    /// The time left for a resource at work for `elapsed` seconds: the median of its
    /// duration given that it has already taken `elapsed`, under a log-normal fitted to the
    /// median and p90. At the start that is the median; once it has run as long as its
    /// median, its 75th percentile; at its p90, its 95th: toward the p90, then beyond.
    /// Without a spread (median = p90): to the median, then a quarter of the time so far.
    public func remaining(after elapsed: Double) -> Double {
        let sigma = median > 0 && p90 > median ? log(p90 / median) / 1.281_551_565_5 : 0
        guard sigma > 0.001, elapsed > 0 else {
            if elapsed < median { return median - elapsed }
            return max(1, elapsed / 4)
        }
        let reached = Self.normalCDF(log(elapsed / median) / sigma)
        let conditional = median * exp(sigma * Self.normalQuantile((1 + reached) / 2))
        return max(conditional - elapsed, 0.5)
    }

    static func normalCDF(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }

    /// Φ⁻¹ by bisection (only a few calls per estimate).
    static func normalQuantile(_ p: Double) -> Double {
        var low = -10.0
        var high = 10.0
        for _ in 0..<80 {
            let middle = (low + high) / 2
            if normalCDF(middle) < p { low = middle } else { high = middle }
        }
        return (low + high) / 2
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
    /// Vagrant builds: seconds from each milestone (`VagrantMilestones`) to the build's end, by operation.
    public private(set) var milestoneSamples: [String: [Double]] = [:]
    /// The milestones of the latest learned vagrant build, by operation: how many steps a build has.
    public private(set) var milestoneLists: [ResourceOperation: [String]] = [:]

    public init() {}

    /// Computed once per table as it stands (`sharedSpread`).
    private final class SpreadCache: @unchecked Sendable {
        let lock = NSLock()
        var value: Double??
    }
    private var spreadCache = SpreadCache()

    /// The spread (log-normal sigma) of durations around their type's median, pooled over
    /// every type and operation seen at least `minimumSamples` times: how much builds in
    /// this account and region vary, which a type seen a few times cannot tell alone.
    /// Robust (1.4826 × the median absolute deviation of the logarithms); nil when too few.
    public var sharedSpread: Double? {
        spreadCache.lock.withLock {
            if let known = spreadCache.value { return known }
            var deviations: [Double] = []
            for values in samples.values where values.count >= Self.minimumSamples {
                let sorted = values.filter { $0.isFinite && $0 > 0 }.sorted()
                guard sorted.count >= Self.minimumSamples else { continue }
                deviations += DurationStats.deviations(sorted, median: DurationStats.quantile(sorted, 0.5))
            }
            let spread: Double? =
                deviations.count < 6 ? nil : 1.4826 * DurationStats.quantile(deviations.sorted(), 0.5)
            spreadCache.value = .some(spread)
            return spread
        }
    }

    /// Adds one finished build's events (succeeded resources only: a failure's duration
    /// says nothing of how long the work takes).
    public mutating func add(build events: [ObservedEvent], stack: String?) {
        spreadCache = SpreadCache()
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

    /// Adds a finished vagrant build of the same cloudlet and scenario (`start`, `end`: the build's).
    public mutating func add(
        milestones events: [ObservedEvent], operation: ResourceOperation, start: Date, end: Date
    ) {
        let reached = [("start", start)] + VagrantMilestones.reached(events)
        guard reached.count > 1 else { return }
        for (name, date) in reached where date <= end {
            milestoneSamples["\(operation.rawValue) \(name)", default: []].append(end.timeIntervalSince(date))
        }
        milestoneLists[operation] = reached.dropFirst().map(\.0)
    }

    /// Seconds from `milestone` to the end, learned; nil when not seen `minimumSamples` times.
    public func milestoneStats(_ milestone: String, _ operation: ResourceOperation) -> DurationStats? {
        guard let values = milestoneSamples["\(operation.rawValue) \(milestone)"],
            values.count >= Self.minimumSamples
        else { return nil }
        return DurationStats(values)
    }

    public func stats(_ type: String, _ operation: ResourceOperation) -> (DurationStats, DurationSource) {
        if let values = samples[Key(type, operation)], values.count >= Self.minimumSamples,
            let stats = DurationStats(values, sharedSpread: sharedSpread)
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

/// A vagrant build's milestones: vagrant's own steps (`==> default: Booting VM...`, each
/// machine's `UP_START`) and the provisioner's phases (`PHASE N/T`). Learned per cloudlet
/// and scenario as the time from each milestone to the build's end.
public enum VagrantMilestones {
    /// The milestone an event marks; nil for other events.
    public static func milestone(_ event: ObservedEvent) -> String? {
        guard event.resourceType.hasPrefix("Vagrant::") else { return nil }
        if event.status.hasPrefix("PHASE ") { return event.status }
        if event.status.hasSuffix("_START") { return "\(event.logicalID) \(event.status)" }
        guard event.status == "INFO" || event.status == "OUTPUT", let reason = event.reason,
            reason.hasPrefix("==> ")
        else { return nil }
        // `==> default: Booting VM...` → `default: Booting VM`; the rest of the line varies.
        var text = reason.dropFirst(4).prefix { !$0.isNewline }
        if let quote = text.firstIndex(where: { $0 == "'" || $0 == "(" }) { text = text[..<quote] }
        let step = text.trimmingCharacters(in: CharacterSet(charactersIn: " .:"))
        return step.isEmpty ? nil : step
    }

    /// Each milestone of a build in order, with its first time.
    public static func reached(_ events: [ObservedEvent]) -> [(String, Date)] {
        var seen = Set<String>()
        var result: [(String, Date)] = []
        for event in events.sorted(by: { $0.date < $1.date }) {
            guard let name = milestone(event), !seen.contains(name) else { continue }
            seen.insert(name)
            result.append((name, event.date))
        }
        return result
    }
}
