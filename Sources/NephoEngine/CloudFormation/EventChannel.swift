import Foundation
import NephoAWS
import NephoProtocol
import NephoStore
import NephoSupport

/// Sets up (once per account and region) what pushes stack events to this nanny: the SNS
/// topic `nepho-stack-events` that every stack nepho creates or updates notifies, and this
/// nanny's SQS queue `nepho-events-ID` subscribed to it, with a policy letting the topic
/// send to it; all tagged `CreatedBy=nepho` (docs/aws.md, "Stack events"). The result is
/// kept in `event_channels`: later builds make no call for it. Without permission for SNS
/// or SQS (or with `NEPHO_EVENTS=poll`) the scope is recorded as polled, with the reason,
/// and tried again after `retryAfter`.
enum EventChannel {
    static let topicName = "nepho-stack-events"
    /// Seconds before a scope recorded as polled (after a failure) is tried again.
    static let retryAfter = 900.0
    /// How long the queue keeps a message no nanny received: SQS's longest, 14 days.
    static let retentionSeconds = 1_209_600
    /// CloudFormation takes at most this many NotificationARNs.
    static let notificationLimit = 5

    /// The id of the queue as the rule's target.
    static let targetID = "nepho-queue"
    /// What the rule matches: CloudFormation's stack and resource status changes.
    static let eventPattern: String = {
        let pattern: [String: Any] = [
            "source": ["aws.cloudformation"], "detail-type": StackEventNotification.eventBridgeDetailTypes,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: pattern, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }()

    /// This nanny's EventBridge rule: `nepho-stack-events-ID`, ID as in its queue's name.
    static func ruleName(paths: NephoPaths) -> String {
        "nepho-stack-events-" + queueName(paths: paths).dropFirst("nepho-events-".count)
    }

    /// Whether the user asked for the EventBridge rule too (`NEPHO_EVENTS=eventbridge`).
    static func eventBridgeWanted(_ environment: [String: String]) -> Bool {
        (environment["NEPHO_EVENTS"] ?? ProcessInfo.processInfo.environment["NEPHO_EVENTS"])?.lowercased()
            == "eventbridge"
    }

    /// This nanny's queue: one per user, host and `NEPHO_HOME`.
    static func queueName(paths: NephoPaths) -> String {
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count)
        let who = "\(getuid())|\(String(cString: host))|\(paths.home.standardizedFileURL.path)"
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in who.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let hex = String(hash, radix: 16)
        return "nepho-events-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Whether the user turned push off (`NEPHO_EVENTS=poll` in the request's context, or
    /// in this process's environment).
    static func pollOnly(_ environment: [String: String]) -> Bool {
        (environment["NEPHO_EVENTS"] ?? ProcessInfo.processInfo.environment["NEPHO_EVENTS"])?.lowercased()
            == "poll"
    }

    /// The topic a stack created or updated now should notify, setting everything up on
    /// first use; nil when events are polled in this scope.
    static func topic(
        session: AWSSession, environment: [String: String], paths: NephoPaths, store: StateStore
    )
        async -> String?
    {
        await prepare(session: session, environment: environment, paths: paths, store: store).topic
    }

    /// The topic (as `topic`), and, when a set-up was tried just now and failed, why: the
    /// build's log says it once (a `Nepho::StackEvents` row).
    static func prepare(
        session: AWSSession, environment: [String: String], paths: NephoPaths, store: StateStore
    )
        async -> (topic: String?, notice: String?)
    {
        guard !pollOnly(environment) else { return (nil, nil) }
        let scope = CloudFormationMonitor.scope(
            environment: environment, configuration: session.configuration)
        let eventBridge = eventBridgeWanted(environment)
        let known = try? store.eventChannel(scope: scope)
        if let known {
            // Asked for the rule where it is not in place yet: set up again (every step is
            // idempotent), unless that was tried and failed lately.
            let ruleMissing =
                eventBridge && known.ruleArn == nil
                && (known.reason == nil
                    || Timestamp.date(known.checkedAt).map { Date().timeIntervalSince($0) >= retryAfter }
                        ?? true)
            if known.mode == .push, let topic = known.topicArn, !ruleMissing {
                EventQueue.register(paths: paths, scope: scope, environment: environment)
                return (topic, nil)
            }
            if let checked = Timestamp.date(known.checkedAt), Date().timeIntervalSince(checked) < retryAfter {
                return (nil, nil)
            }
        }
        var channel = await setUp(session: session, scope: scope, paths: paths, eventBridge: eventBridge)
        // A rule set up before is kept even when NEPHO_EVENTS no longer asks for it
        // (`events:remove` takes it down).
        if channel.mode == .push, channel.ruleArn == nil, !eventBridge, let rule = known?.ruleArn {
            channel.ruleArn = rule
        }
        try? store.setEventChannel(channel)
        if channel.mode == .push, let reason = channel.reason {
            let notice = "stack events come through SNS only: \(reason)"
            FileHandle.standardError.write(Data("\(Timestamp.now()) \(notice)\n".utf8))
            EventQueue.register(paths: paths, scope: scope, environment: environment)
            return (channel.topicArn, notice)
        }
        guard channel.mode == .push else {
            let notice = "stack events are polled: \(channel.reason ?? "")"
            FileHandle.standardError.write(Data("\(Timestamp.now()) \(notice)\n".utf8))
            return (nil, notice)
        }
        EventQueue.register(paths: paths, scope: scope, environment: environment)
        return (channel.topicArn, nil)
    }

    /// The row a build's log gets when its events could not be pushed.
    /// (`POLLED`; `SNS_ONLY` when push is in place but the EventBridge rule asked for is not).
    static func noticeEvent(_ notice: String, build: Int64) -> EventRecord {
        EventRecord(
            buildID: build, providerEventID: "nepho-events-\(build)", timestamp: Timestamp.now(),
            logicalID: "StackEvents", resourceType: "Nepho::StackEvents",
            status: notice.hasPrefix("stack events come through SNS only") ? "SNS_ONLY" : "POLLED",
            reason: notice)
    }

    /// Creates (or finds: every call is idempotent) the topic, the queue, its policy and the
    /// subscription; with `eventBridge`, also the rule on the default bus that sends
    /// CloudFormation's events to the queue. A rule that cannot be made leaves push through
    /// SNS in place, with the reason recorded (and tried again after `retryAfter`).
    static func setUp(session: AWSSession, scope: String, paths: NephoPaths, eventBridge: Bool = false) async
        -> EventChannelRecord
    {
        let region = session.configuration.region
        var step = "sns:CreateTopic"
        do {
            let sns = try session.sns()
            let sqs = try session.sqs()
            let topic = try await patiently {
                try await sns.createTopic(name: topicName, tags: [("CreatedBy", "nepho")])
            }
            step = "sqs:CreateQueue"
            let name = queueName(paths: paths)
            let queue = try await patiently {
                try await sqs.createQueue(
                    name: name,
                    attributes: [
                        "MessageRetentionPeriod": String(retentionSeconds),
                        "ReceiveMessageWaitTimeSeconds": String(SQSClient.longestWait),
                    ], tags: ["CreatedBy": "nepho"])
            }
            step = "sqs:GetQueueAttributes"
            guard
                let queueArn = try await patiently({
                    try await sqs.queueAttributes(url: queue, names: ["QueueArn"])
                })["QueueArn"]
            else {
                return EventChannelRecord(
                    scope: scope, mode: .poll, region: region, reason: "\(step) answered no QueueArn")
            }
            var ruleArn: String?
            var ruleProblem: String?
            if eventBridge {
                let (arn, problem) = await rule(session: session, paths: paths, queueArn: queueArn)
                ruleArn = arn
                ruleProblem = problem
            }
            step = "sqs:SetQueueAttributes"
            try await patiently {
                try await sqs.setQueueAttributes(
                    url: queue, ["Policy": policy(queueArn: queueArn, topicArn: topic, ruleArn: ruleArn)])
            }
            step = "sns:Subscribe"
            let subscription = try await patiently {
                try await sns.subscribe(topicArn: topic, protocol: "sqs", endpoint: queueArn)
            }
            return EventChannelRecord(
                scope: scope, mode: .push, region: region, topicArn: topic, queueURL: queue,
                queueArn: queueArn,
                subscriptionArn: subscription, ruleArn: ruleArn, reason: ruleProblem)
        } catch {
            return EventChannelRecord(
                scope: scope, mode: .poll, region: region, reason: explain(error, step: step))
        }
    }

    /// The rule on the default bus matching CloudFormation's stack and resource status
    /// changes, tagged `CreatedBy=nepho`, targeting the queue: its ARN, or why it is not in place.
    static func rule(session: AWSSession, paths: NephoPaths, queueArn: String) async -> (String?, String?) {
        var step = "events:PutRule"
        do {
            let events = try session.eventBridge()
            let name = ruleName(paths: paths)
            let arn = try await patiently {
                try await events.putRule(
                    name: name, eventPattern: eventPattern,
                    description: "nepho: CloudFormation stack events to the queue of one nanny",
                    tags: [("CreatedBy", "nepho")])
            }
            step = "events:PutTargets"
            try await patiently {
                try await events.putTargets(rule: name, targets: [(targetID, queueArn)])
            }
            return (arn, nil)
        } catch {
            return (
                nil, "the EventBridge rule is not in place: " + explain(error, step: step, fallback: "SNS")
            )
        }
    }

    /// Every step is idempotent: one AWS throttles is tried again, as the calls that start a
    /// build are (a busy account must not turn push off).
    private static func patiently<T>(_ call: () async throws -> T) async throws -> T {
        try await CloudFormationDriver.outlastingThrottling(call)
    }

    /// Why push is not in place, naming the permission when AWS refused one.
    static func explain(_ error: Error, step: String, fallback: String = "polling CloudFormation") -> String {
        if let error = error as? AWSError,
            error.httpStatus == 403 || error.code.contains("AccessDenied")
                || error.code.contains("Authorization")
        {
            return "no permission for \(step) (\(error.code): \(error.message)); "
                + "builds are followed by \(fallback) (docs/aws.md lists the IAM actions)"
        }
        return "\(step) failed (\(SystemError.reason(error))); builds are followed by \(fallback)"
    }

    /// Lets the topic, and only it, send to the queue; and the rule, when there is one.
    static func policy(queueArn: String, topicArn: String, ruleArn: String? = nil) -> String {
        var statements: [[String: Any]] = [
            [
                "Sid": "nepho-stack-events", "Effect": "Allow",
                "Principal": ["Service": "sns.amazonaws.com"], "Action": "sqs:SendMessage",
                "Resource": queueArn, "Condition": ["ArnEquals": ["aws:SourceArn": topicArn]],
            ]
        ]
        if let ruleArn {
            statements.append([
                "Sid": "nepho-stack-events-eventbridge", "Effect": "Allow",
                "Principal": ["Service": "events.amazonaws.com"], "Action": "sqs:SendMessage",
                "Resource": queueArn, "Condition": ["ArnEquals": ["aws:SourceArn": ruleArn]],
            ])
        }
        let document: [String: Any] = ["Version": "2012-10-17", "Statement": statements]
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Whether the scope's EventBridge rule is in place: it brings the events of every
    /// stack of the account and region, whatever their NotificationARNs.
    static func ruleInPlace(session: AWSSession, environment: [String: String], store: StateStore) -> Bool {
        let scope = CloudFormationMonitor.scope(
            environment: environment, configuration: session.configuration)
        guard let channel = try? store.eventChannel(scope: scope) else { return false }
        return channel.mode == .push && channel.ruleArn != nil
    }

    /// `request` notifying `topic` too, beside the ARNs it already has (at most five in all).
    /// With no room left and the EventBridge rule in place (`ruleInPlace`), the request is
    /// left as it is: the rule brings the stack's events.
    static func adding(_ topic: String?, to request: StackRequest, ruleInPlace: Bool = false) throws
        -> StackRequest
    {
        guard let topic, !request.notificationARNs.contains(topic) else { return request }
        if ruleInPlace, request.notificationARNs.count >= notificationLimit { return request }
        guard request.notificationARNs.count < notificationLimit else {
            throw NephoError(
                .invalidInput,
                "the stack already has \(request.notificationARNs.count) NotificationARNs, CloudFormation's "
                    + "limit: no room for nepho's topic \(topic); remove one, or set NEPHO_EVENTS=eventbridge (a rule brings every stack's events) or NEPHO_EVENTS=poll"
            )
        }
        var request = request
        request.notificationARNs.append(topic)
        return request
    }
}
