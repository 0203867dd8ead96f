/// How the stack events of one account and region reach the nanny (`events.status`).
public struct EventChannelSummary: Codable, Sendable, Equatable {
    /// The account and region's key (a hash; no credential).
    public var scope: String
    public var region: String?
    /// `push` (SNS topic → this nanny's SQS queue, long-polled by the daemon) or `poll`.
    public var mode: String
    public var topicArn: String?
    public var queueURL: String?
    public var queueArn: String?
    public var subscriptionArn: String?
    /// The EventBridge rule on the default bus that also sends CloudFormation's events to
    /// the queue (`NEPHO_EVENTS=eventbridge`); nil when there is none.
    public var ruleArn: String?
    /// Why events are polled (a missing permission, `NEPHO_EVENTS=poll`, …).
    public var reason: String?
    /// When the set-up was made or last tried.
    public var checkedAt: String
    /// When the daemon last long-polled the queue; nil when it never did.
    public var polledAt: String?
    /// Messages waiting in the queue (asked of SQS for the requesting account and region).
    public var waitingMessages: Int?
    /// True for the account and region of the request.
    public var current: Bool

    public init(
        scope: String, region: String?, mode: String, topicArn: String?, queueURL: String?, queueArn: String?,
        subscriptionArn: String?, reason: String?, checkedAt: String, polledAt: String?,
        waitingMessages: Int?,
        current: Bool, ruleArn: String? = nil
    ) {
        self.ruleArn = ruleArn
        self.scope = scope
        self.region = region
        self.mode = mode
        self.topicArn = topicArn
        self.queueURL = queueURL
        self.queueArn = queueArn
        self.subscriptionArn = subscriptionArn
        self.reason = reason
        self.checkedAt = checkedAt
        self.polledAt = polledAt
        self.waitingMessages = waitingMessages
        self.current = current
    }
}

/// `events.status`: every account and region nepho set up, and how the next build of the
/// request's account and region will get its events.
public struct EventsStatusResult: Codable, Sendable, Equatable {
    public var channels: [EventChannelSummary]
    /// One sentence for the request's account and region.
    public var summary: String
    public var warnings: [String]

    public init(channels: [EventChannelSummary], summary: String, warnings: [String] = []) {
        self.channels = channels
        self.summary = summary
        self.warnings = warnings
    }
}

/// `events.remove`: what was taken down in the request's account and region.
public struct EventsRemoveResult: Codable, Sendable, Equatable {
    /// One line per resource removed (`queue URL`, `subscription ARN`, `topic ARN`).
    public var removed: [String]
    public var warnings: [String]

    public init(removed: [String], warnings: [String] = []) {
        self.removed = removed
        self.warnings = warnings
    }
}
