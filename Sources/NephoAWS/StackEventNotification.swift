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

    /// Reads an SQS message body: the SNS envelope (or, with raw delivery, the message itself).
    public static func parse(body: String) -> Content {
        var message = body
        if let data = body.data(using: .utf8),
            let envelope = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        {
            guard let inner = envelope["Message"] as? String else {
                return .other(reason: "an SNS message without Message")
            }
            message = inner
        }
        return parse(message: message)
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
