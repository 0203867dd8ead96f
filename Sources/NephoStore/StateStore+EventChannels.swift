import Foundation

/// How the stack events of one account and region (a scope) reach nepho.
public struct EventChannelRecord: Sendable, Equatable {
    /// `push`: CloudFormation → the SNS topic → this nanny's SQS queue, long-polled by the
    /// daemon. `poll`: monitors ask CloudFormation (`reason` says why).
    public enum Mode: String, Sendable { case push, poll }

    public var scope: String
    public var mode: Mode
    public var region: String?
    public var topicArn: String?
    public var queueURL: String?
    public var queueArn: String?
    public var subscriptionArn: String?
    /// The EventBridge rule on the default bus that sends CloudFormation's events to the
    /// queue too (`NEPHO_EVENTS=eventbridge`); nil when there is none.
    public var ruleArn: String?
    public var reason: String?
    /// When the set-up was made or last tried.
    public var checkedAt: String
    /// When the daemon last started a long poll of the queue (milliseconds since 1970; 0: never).
    public var polledMilliseconds: Int64

    public init(
        scope: String, mode: Mode, region: String? = nil, topicArn: String? = nil, queueURL: String? = nil,
        queueArn: String? = nil, subscriptionArn: String? = nil, ruleArn: String? = nil,
        reason: String? = nil,
        checkedAt: String = "",
        polledMilliseconds: Int64 = 0
    ) {
        self.scope = scope
        self.mode = mode
        self.region = region
        self.topicArn = topicArn
        self.queueURL = queueURL
        self.queueArn = queueArn
        self.subscriptionArn = subscriptionArn
        self.ruleArn = ruleArn
        self.reason = reason
        self.checkedAt = checkedAt
        self.polledMilliseconds = polledMilliseconds
    }
}

extension StateStore {
    private static let channelColumns = """
        SELECT scope, mode, region, topic_arn, queue_url, queue_arn, subscription_arn, reason, checked_at,
            polled_ms, rule_arn FROM event_channels
        """

    private static func channel(_ row: [DatabaseValue]) -> EventChannelRecord {
        EventChannelRecord(
            scope: row[0].text ?? "", mode: EventChannelRecord.Mode(rawValue: row[1].text ?? "") ?? .poll,
            region: row[2].text, topicArn: row[3].text, queueURL: row[4].text, queueArn: row[5].text,
            subscriptionArn: row[6].text, ruleArn: row[10].text, reason: row[7].text,
            checkedAt: row[8].text ?? "",
            polledMilliseconds: row[9].integer ?? 0)
    }

    /// Records (or replaces) a scope's channel; the time of the last long poll is kept.
    public func setEventChannel(_ channel: EventChannelRecord) throws {
        func optional(_ text: String?) -> DatabaseValue { text.map { .text($0) } ?? .null }
        try withDatabase { database in
            _ = try database.write {
                try database.query(
                    """
                    INSERT INTO event_channels (scope, mode, region, topic_arn, queue_url, queue_arn,
                        subscription_arn, reason, checked_at, rule_arn) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (scope) DO UPDATE SET mode = excluded.mode, region = excluded.region,
                        topic_arn = excluded.topic_arn, queue_url = excluded.queue_url,
                        queue_arn = excluded.queue_arn, subscription_arn = excluded.subscription_arn,
                        reason = excluded.reason, checked_at = excluded.checked_at,
                        rule_arn = excluded.rule_arn
                    """,
                    [
                        .text(channel.scope), .text(channel.mode.rawValue), optional(channel.region),
                        optional(channel.topicArn), optional(channel.queueURL), optional(channel.queueArn),
                        optional(channel.subscriptionArn), optional(channel.reason),
                        .text(channel.checkedAt.isEmpty ? Self.timestamp() : channel.checkedAt),
                        optional(channel.ruleArn),
                    ])
            }
        }
    }

    public func eventChannel(scope: String) throws -> EventChannelRecord? {
        try withDatabase { database in
            try database.query(Self.channelColumns + " WHERE scope = ?", [.text(scope)]).first.map(
                Self.channel)
        }
    }

    public func eventChannels() throws -> [EventChannelRecord] {
        try withDatabase { database in
            try database.query(Self.channelColumns + " ORDER BY scope").map(Self.channel)
        }
    }

    public func deleteEventChannel(scope: String) throws {
        try withDatabase { database in
            _ = try database.write {
                try database.query("DELETE FROM event_channels WHERE scope = ?", [.text(scope)])
            }
        }
    }

    /// Notes that the daemon is about to long-poll the scope's queue (monitors rely on push
    /// only while this is recent).
    public func markEventChannelPolled(scope: String) throws {
        try withDatabase { database in
            _ = try database.write {
                try database.query(
                    "UPDATE event_channels SET polled_ms = ? WHERE scope = ?",
                    [.integer(Self.nowMilliseconds()), .text(scope)])
            }
        }
    }

    /// Records that a stack was created or updated with `topicArn` among its NotificationARNs.
    public func setStackTopic(stackID: String, topicArn: String?) throws {
        try withDatabase { database in
            _ = try database.write {
                if let topicArn {
                    try database.query(
                        """
                        INSERT INTO stack_topics (stack_id, topic_arn) VALUES (?, ?)
                        ON CONFLICT (stack_id) DO UPDATE SET topic_arn = excluded.topic_arn
                        """, [.text(stackID), .text(topicArn)])
                } else {
                    try database.query("DELETE FROM stack_topics WHERE stack_id = ?", [.text(stackID)])
                }
            }
        }
    }

    /// The topic a stack notifies, as nepho last set it.
    public func stackTopic(stackID: String) throws -> String? {
        try withDatabase { database in
            try database.query("SELECT topic_arn FROM stack_topics WHERE stack_id = ?", [.text(stackID)])
                .first?.first?.text
        }
    }

    /// The root stack's provider event id stored last by the builds of a formation before `buildID`:
    /// where the reconciling DescribeStackEvents pass of that build may stop paging back.
    public func lastEventID(formationID: Int64, before buildID: Int64) throws -> String? {
        try withDatabase { database in
            try database.query(
                """
                SELECT e.provider_event_id FROM events e JOIN builds b ON b.id = e.build_id
                WHERE b.formation_id = ? AND b.id < ? AND instr(COALESCE(e.logical_id, ''), '/') = 0
                ORDER BY b.id DESC, e.seq DESC LIMIT 1
                """, [.integer(formationID), .integer(buildID)]
            ).first?.first?.text
        }
    }

    /// The formation whose stack is `stackID`, if nepho recorded one.
    public func formation(stackID: String) throws -> FormationRecord? {
        try formations().last { $0.stackID == stackID }
    }
}
