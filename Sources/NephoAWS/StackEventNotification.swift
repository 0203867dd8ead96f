import Foundation

/// A stack event as CloudFormation pushes it: an SNS notification (the JSON envelope SNS
/// puts in an SQS message's body) whose `Message` is lines of `Key='value'`.
///
/// CloudFormation writes `ResourceStatusReason=''` or `'null'` where DescribeStackEvents has
/// no element (moto writes `'None'`); such values read as nil. A value may span lines
/// (`ResourceProperties` is JSON): a line that does not start a new `Key='` (a capital letter, letters and digits) continues it.
public enum StackEventNotification {
    /// What a queued message held: a stack event, or something else sent to the topic.
    public enum Content: Sendable, Equatable {
        case event(StackEvent, namespace: String?)
        case other(reason: String)
    }

    /// The prefix of the id an event that came through EventBridge is stored under.
    public static let eventBridgePrefix = "eventbridge:"
    /// The `detail-type`s of CloudFormation's stack events on EventBridge.
    public static let eventBridgeDetailTypes = [
        "CloudFormation Stack Status Change", "CloudFormation Resource Status Change",
    ]

    /// Reads an SQS message body: the SNS envelope (or, with raw delivery, the message
    /// itself), or an EventBridge event (a rule's target gets the event itself as the body).
    public static func parse(body: String) -> Content {
        var message = body
        if let data = body.data(using: .utf8),
            let envelope = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        {
            if envelope["detail-type"] != nil || envelope["source"] != nil {
                return parse(eventBridge: envelope)
            }
            guard let inner = envelope["Message"] as? String else {
                return .other(reason: "an SNS message without Message")
            }
            message = inner
        }
        return parse(message: message)
    }

    /// Reads an EventBridge event of source `aws.cloudformation` (AWS CloudFormation User
    /// Guide, "Stack Status Change event detail", "Resource Status Change event detail"):
    /// `detail` has `stack-id`, `status-details` (`status`, `status-reason`),
    /// `client-request-token` and, for a resource, `logical-resource-id`,
    /// `physical-resource-id`, `resource-type`. EventBridge events carry no CloudFormation
    /// EventId: the event is stored under `eventbridge:` and EventBridge's own `id` (the
    /// same for every delivery of that event), and the store reconciles it with the same
    /// event brought by DescribeStackEvents or SNS (`StateStore.appendEvent`). A stack's own
    /// event has no logical id: it is the stack's name (taken from the stack id's ARN), as
    /// in DescribeStackEvents. `time` (ISO 8601, whole seconds) is the event's timestamp.
    public static func parse(eventBridge event: [String: Any]) -> Content {
        guard event["source"] as? String == "aws.cloudformation",
            let type = event["detail-type"] as? String, eventBridgeDetailTypes.contains(type)
        else {
            return .other(reason: "not a CloudFormation stack event")
        }
        func text(_ value: Any?) -> String? {
            guard let value = value as? String, !value.isEmpty, value != "null" else { return nil }
            return value
        }
        let detail = event["detail"] as? [String: Any] ?? [:]
        let statusDetails = detail["status-details"] as? [String: Any] ?? [:]
        guard let id = text(event["id"]), let stackId = text(detail["stack-id"]),
            let stackName = stackName(fromId: stackId), let status = text(statusDetails["status"])
        else {
            return .other(reason: "a CloudFormation EventBridge event without id, stack-id or status")
        }
        guard let time = text(event["time"]), let timestamp = CloudFormationDecoding.parseDate(time) else {
            return .other(reason: "a CloudFormation EventBridge event without a readable time")
        }
        let stackLevel = type == "CloudFormation Stack Status Change"
        guard
            stackLevel || (text(detail["logical-resource-id"]) != nil && text(detail["resource-type"]) != nil)
        else {
            return .other(reason: "a resource status change without logical-resource-id or resource-type")
        }
        return .event(
            StackEvent(
                eventId: eventBridgePrefix + id, stackId: stackId, stackName: stackName,
                logicalResourceId: stackLevel ? stackName : text(detail["logical-resource-id"])!,
                physicalResourceId: stackLevel ? stackId : text(detail["physical-resource-id"]),
                resourceType: stackLevel ? "AWS::CloudFormation::Stack" : text(detail["resource-type"])!,
                status: status, statusReason: text(statusDetails["status-reason"]), timestamp: timestamp,
                clientRequestToken: text(detail["client-request-token"])),
            namespace: text(event["account"]))
    }

    /// `NAME` of `arn:PARTITION:cloudformation:REGION:ACCOUNT:stack/NAME/ID`.
    static func stackName(fromId stackId: String) -> String? {
        let parts = stackId.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[2] == "cloudformation" else { return nil }
        let path = parts[5].split(separator: "/", omittingEmptySubsequences: false)
        guard path.count >= 3, path[0] == "stack", !path[1].isEmpty else { return nil }
        return String(path[1])
    }

    /// Reads CloudFormation's `Key='value'` lines.
    public static func parse(message: String) -> Content {
        let fields = self.fields(message)
        func value(_ key: String) -> String? {
            guard let text = fields[key], !["", "null", "None"].contains(text) else { return nil }
            return text
        }
        guard let eventId = value("EventId"), let stackId = value("StackId"),
            let stackName = value("StackName"),
            let logical = value("LogicalResourceId"), let type = value("ResourceType"),
            let status = value("ResourceStatus")
        else {
            return .other(reason: "not a CloudFormation stack event")
        }
        guard let time = value("Timestamp"), let timestamp = CloudFormationDecoding.parseDate(time) else {
            return .other(reason: "a stack event without a readable Timestamp")
        }
        return .event(
            StackEvent(
                eventId: eventId, stackId: stackId, stackName: stackName, logicalResourceId: logical,
                physicalResourceId: value("PhysicalResourceId"), resourceType: type, status: status,
                statusReason: value("ResourceStatusReason"), timestamp: timestamp,
                clientRequestToken: value("ClientRequestToken")),
            namespace: value("Namespace"))
    }

    static func fields(_ message: String) -> [String: String] {
        var fields: [String: String] = [:]
        var key: String?
        var value = ""
        func close() {
            guard let key else { return }
            var text = value
            if text.hasSuffix("'") { text.removeLast() }
            fields[key] = text
        }
        for line in message.split(separator: "\n", omittingEmptySubsequences: false) {
            if let equals = line.firstIndex(of: "="), line[line.index(after: equals)...].hasPrefix("'"),
                let first = line.first, first.isASCII, first.isUppercase,
                line[..<equals].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
            {
                close()
                key = String(line[..<equals])
                value = String(line[line.index(equals, offsetBy: 2)...])
            } else if key != nil {
                value += "\n" + line
            }
        }
        close()
        return fields
    }
}
