/// `formation.follow`: a build's progress as a stream — its stored events after
/// `after` (a sequence number a client kept), then each new one as it is stored, then the
/// build's outcome. A client that reconnects asks again after the last number it saw and
/// gets nothing twice and nothing lost (docs/protocol.md, "Streams").
public struct FormationFollowParams: Codable, Sendable, Equatable {
    public var name: String
    /// The build; the formation's latest when nil.
    public var build: Int64?
    public var after: Int64

    public init(name: String, build: Int64? = nil, after: Int64 = 0) {
        self.name = name
        self.build = build
        self.after = after
    }

    /// `build` and `after` may be left out (the latest build, from its start).
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        build = try container.decodeIfPresent(Int64.self, forKey: .build)
        after = try container.decodeIfPresent(Int64.self, forKey: .after) ?? 0
    }
}

/// One item of a followed build: `build` first (which build is followed, its status),
/// then `event`s in sequence order, a `status` after each batch of events and when the
/// build's status changed (a client redraws then), and last `end` with the outcome and
/// the formation's outputs.
public struct BuildProgress: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case build, event, status, end
    }
    public var kind: Kind
    /// With `build`, `status` and `end`.
    public var build: BuildSummary?
    /// With `event`.
    public var event: SequencedEvent?
    /// With `end`: the formation's outputs.
    public var outputs: [String: String]?
    /// With `status` and `end`: progress and the ETA (nil from an older daemon).
    public var estimate: BuildEstimate?

    public init(
        kind: Kind, build: BuildSummary? = nil, event: SequencedEvent? = nil,
        outputs: [String: String]? = nil,
        estimate: BuildEstimate? = nil
    ) {
        self.kind = kind
        self.build = build
        self.event = event
        self.outputs = outputs
        self.estimate = estimate
    }

    public static func started(_ build: BuildSummary) -> BuildProgress { .init(kind: .build, build: build) }
    public static func event(_ event: SequencedEvent) -> BuildProgress { .init(kind: .event, event: event) }
    public static func status(_ build: BuildSummary) -> BuildProgress { .init(kind: .status, build: build) }
    public static func end(_ build: BuildSummary, outputs: [String: String]) -> BuildProgress {
        .init(kind: .end, build: build, outputs: outputs)
    }
}

/// Where a build in flight stands and how long it has left (docs/formations.md,
/// "Progress and ETA"): with `formation.follow`'s `status` and `end` items, and
/// per formation in `formation.list` while its last build runs.
public struct BuildEstimate: Codable, Sendable, Equatable {
    /// Resources (nested stacks' included) and provisioner phases done; never above `total`.
    public var done: Int
    public var total: Int
    /// True once the build rolls back: `done` and `total` then count the rollback's work.
    public var rollingBack: Bool
    /// Seconds since the build started, when this was computed.
    public var elapsedSeconds: Double
    /// Seconds left (the longest remaining path through the template); nil when unknown.
    public var remainingSeconds: Double?
    /// Where the expected durations mostly came from: `learned` (this nanny's builds),
    /// `prior` (the shipped table of typical durations) or `guess`.
    public var basis: String
    /// Resources at work past their p90, with how long they usually take.
    public var overdue: [OverdueResource]

    public init(
        done: Int, total: Int, rollingBack: Bool, elapsedSeconds: Double, remainingSeconds: Double?,
        basis: String, overdue: [OverdueResource] = []
    ) {
        self.done = done
        self.total = total
        self.rollingBack = rollingBack
        self.elapsedSeconds = elapsedSeconds
        self.remainingSeconds = remainingSeconds
        self.basis = basis
        self.overdue = overdue
    }
}

/// A resource at work longer than its p90.
public struct OverdueResource: Codable, Sendable, Equatable {
    public var logicalID: String
    public var resourceType: String
    public var elapsedSeconds: Double
    /// Its median: how long it usually takes.
    public var usualSeconds: Double
    public var p90Seconds: Double

    public init(
        logicalID: String, resourceType: String, elapsedSeconds: Double, usualSeconds: Double,
        p90Seconds: Double
    ) {
        self.logicalID = logicalID
        self.resourceType = resourceType
        self.elapsedSeconds = elapsedSeconds
        self.usualSeconds = usualSeconds
        self.p90Seconds = p90Seconds
    }
}
