import Foundation
import NephoAWS
import NephoProtocol
import NephoStore
import NephoSupport

/// `events.status` and `events.remove`: what carries stack events to this nanny
/// (docs/aws.md, "Stack events").
extension LocalAPI {
    /// The session and scope of the request's account and region, when it has credentials.
    private func eventScope(_ context: ProviderContext?) -> (AWSSession, String)? {
        let environment = driverContext(context).environment
        guard let configuration = try? AWSConfiguration.resolve(environment: environment),
            (try? configuration.requireCredentials()) != nil, configuration.region != nil
        else { return nil }
        return (
            AWSSession(configuration: configuration),
            CloudFormationMonitor.scope(environment: environment, configuration: configuration)
        )
    }

    public func eventsStatus(_ params: NoParams, context: ProviderContext?) async throws -> EventsStatusResult
    {
        let store = try store()
        let request = eventScope(context)
        var warnings: [String] = []
        var channels: [EventChannelSummary] = []
        for channel in try store.eventChannels() {
            let current = channel.scope == request?.1
            var waiting: Int?
            if current, channel.mode == .push, let url = channel.queueURL, let session = request?.0 {
                do {
                    let attributes = try await session.sqs().queueAttributes(
                        url: url, names: ["ApproximateNumberOfMessages"])
                    waiting = attributes["ApproximateNumberOfMessages"].flatMap { Int($0) }
                } catch {
                    warnings.append("the queue \(url) could not be read: \(SystemError.reason(error))")
                }
            }
            channels.append(
                EventChannelSummary(
                    scope: channel.scope, region: channel.region, mode: channel.mode.rawValue,
                    topicArn: channel.topicArn, queueURL: channel.queueURL, queueArn: channel.queueArn,
                    subscriptionArn: channel.subscriptionArn, reason: channel.reason,
                    checkedAt: channel.checkedAt,
                    polledAt: channel.polledMilliseconds == 0
                        ? nil
                        : Timestamp.string(
                            Date(timeIntervalSince1970: Double(channel.polledMilliseconds) / 1000)),
                    waitingMessages: waiting, current: current, ruleArn: channel.ruleArn))
        }
        let environment = driverContext(context).environment
        let summary: String
        if EventChannel.pollOnly(environment) {
            summary = "NEPHO_EVENTS=poll: builds poll CloudFormation for their events"
        } else if request == nil {
            summary = "no AWS credentials or region in this command's environment"
        } else if let mine = channels.first(where: \.current) {
            summary =
                mine.mode == "push"
                ? "stack events are pushed: CloudFormation → \(mine.topicArn ?? "")"
                    + (mine.ruleArn.map { " and EventBridge rule \($0)" } ?? "")
                    + " → \(mine.queueURL ?? ""), "
                    + "long-polled by the nanny"
                : "stack events are polled: \(mine.reason ?? "push is not in place")"
        } else {
            summary =
                "not set up in this account and region yet: the first build there creates the topic "
                + "\(EventChannel.topicName) and the queue \(EventChannel.queueName(paths: paths))"
        }
        return EventsStatusResult(channels: channels, summary: summary, warnings: warnings)
    }

    public func eventsRemove(_ params: NoParams, context: ProviderContext?) async throws -> EventsRemoveResult
    {
        guard let (session, scope) = eventScope(context) else {
            throw NephoError(
                .missingCredentials, "events:remove needs AWS credentials and a region (run nepho register)")
        }
        let store = try store()
        var removed: [String] = []
        var warnings: [String] = []
        let sns = try session.sns()
        let sqs = try session.sqs()
        let known = try store.eventChannel(scope: scope)
        // Stop the daemon's poller first: it forgets a scope whose record is gone.
        try store.deleteEventChannel(scope: scope)
        let queueURL: String? =
            if let url = known?.queueURL { url } else {
                try await sqs.queueURL(name: EventChannel.queueName(paths: paths))
            }
        // The topic's ARN, found (or made: CreateTopic is idempotent) by name.
        let topic = try await sns.createTopic(name: EventChannel.topicName, tags: [("CreatedBy", "nepho")])
        var queueArn = known?.queueArn
        if queueArn == nil, let queueURL {
            queueArn = try? await sqs.queueAttributes(url: queueURL, names: ["QueueArn"])["QueueArn"]
        }
        var others = 0
        for subscription in try await sns.subscriptions(topicArn: topic) {
            if subscription.endpoint == queueArn {
                try await sns.unsubscribe(subscriptionArn: subscription.subscriptionArn)
                removed.append("subscription \(subscription.subscriptionArn)")
            } else {
                others += 1
            }
        }
        // The EventBridge rule: its target first (EventBridge deletes only a rule without
        // targets). One not recorded (the record went with a vanished queue) is looked for
        // by name; without permission for EventBridge that look is skipped.
        let events = try session.eventBridge()
        let rule = EventChannel.ruleName(paths: paths)
        var ruleArn = known?.ruleArn
        if ruleArn == nil {
            ruleArn = (try? await events.describeRule(name: rule))??.arn
        }
        if let ruleArn {
            do {
                try await events.removeTargets(rule: rule, ids: [EventChannel.targetID])
                try await events.deleteRule(name: rule)
                removed.append("rule \(ruleArn)")
            } catch let error as AWSError where error.code == "ResourceNotFoundException" {}
        }
        if let queueURL {
            do {
                try await sqs.deleteQueue(url: queueURL)
                removed.append("queue \(queueURL)")
            } catch let error as AWSError where SQSClient.isMissingQueue(error) {}
        }
        if others == 0 {
            try await sns.deleteTopic(arn: topic)
            removed.append("topic \(topic)")
        } else {
            warnings.append(
                "the topic \(topic) is kept: \(others) other subscription(s) (other nannies) use it")
        }
        warnings.append(
            "stacks keep the topic in their NotificationARNs; the next build in this account and region sets "
                + "push up again unless NEPHO_EVENTS=poll")
        return EventsRemoveResult(removed: removed, warnings: warnings)
    }
}
