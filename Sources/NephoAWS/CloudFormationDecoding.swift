import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Turns CloudFormation's XML answers into values, strictly: a missing required
/// element or an unreadable date is an error naming it.
enum CloudFormationDecoding {
    static func date(_ node: XMLElementNode, _ name: String) throws -> Date {
        let text = try node.requiredText(name)
        guard let value = parseDate(text) else {
            throw XMLParseError(line: 0, column: 0, reason: "<\(name)> '\(text)' is not a date")
        }
        return value
    }

    static func optionalDate(_ node: XMLElementNode, _ name: String) throws -> Date? {
        guard node.child(name) != nil else { return nil }
        return try date(node, name)
    }

    /// ISO 8601 as AWS writes it: `2026-11-29T02:44:59Z`, with or without a fraction,
    /// with `Z` or a `+hh:mm` offset.
    static func parseDate(_ text: String) -> Date? {
        let bytes = Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[from..<(from + count)] {
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "), bytes[13] == UInt8(ascii: ":"),
            bytes[16] == UInt8(ascii: ":"), let year = number(0, 4), let month = number(5, 2),
            let day = number(8, 2),
            let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
            if index == start { return nil }
        }
        var offset = 0
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "Z") {
            index += 1
        } else if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            guard let hours = number(index + 1, 2), let minutes = number(index + 4, 2),
                bytes.count > index + 3, bytes[index + 3] == UInt8(ascii: ":")
            else { return nil }
            offset = (hours * 3600 + minutes * 60) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = timegm(&parts)
        return Date(timeIntervalSince1970: Double(seconds - offset) + fraction)
    }

    static func bool(_ node: XMLElementNode, _ name: String) -> Bool? {
        node.optionalText(name).map { $0.lowercased() == "true" }
    }

    static func stack(_ node: XMLElementNode) throws -> Stack {
        var parameters: [String: String] = [:]
        for member in node.members("Parameters") {
            parameters[try member.requiredText("ParameterKey")] = member.optionalText("ParameterValue") ?? ""
        }
        return Stack(
            stackId: try node.requiredText("StackId"), stackName: try node.requiredText("StackName"),
            status: try node.requiredText("StackStatus"),
            statusReason: node.optionalText("StackStatusReason"),
            description: node.optionalText("Description"), creationTime: try date(node, "CreationTime"),
            lastUpdatedTime: try optionalDate(node, "LastUpdatedTime"),
            deletionTime: try optionalDate(node, "DeletionTime"),
            parameters: parameters,
            outputs: try node.members("Outputs").map {
                StackOutput(
                    key: try $0.requiredText("OutputKey"), value: $0.optionalText("OutputValue") ?? "",
                    description: $0.optionalText("Description"), exportName: $0.optionalText("ExportName"))
            },
            tags: try node.members("Tags").map {
                StackTag(key: try $0.requiredText("Key"), value: $0.optionalText("Value") ?? "")
            },
            capabilities: node.members("Capabilities").map(\.text),
            notificationARNs: node.members("NotificationARNs").map(\.text),
            disableRollback: bool(node, "DisableRollback"),
            timeoutInMinutes: node.optionalText("TimeoutInMinutes").flatMap { Int($0) })
    }

    static func event(_ node: XMLElementNode) throws -> StackEvent {
        StackEvent(
            eventId: try node.requiredText("EventId"), stackId: try node.requiredText("StackId"),
            stackName: try node.requiredText("StackName"),
            logicalResourceId: try node.requiredText("LogicalResourceId"),
            physicalResourceId: node.optionalText("PhysicalResourceId"),
            resourceType: try node.requiredText("ResourceType"),
            status: try node.requiredText("ResourceStatus"),
            statusReason: node.optionalText("ResourceStatusReason"),
            timestamp: try date(node, "Timestamp"),
            clientRequestToken: node.optionalText("ClientRequestToken"))
    }

    static func summary(_ node: XMLElementNode) throws -> StackSummary {
        StackSummary(
            stackId: try node.requiredText("StackId"), stackName: try node.requiredText("StackName"),
            status: try node.requiredText("StackStatus"),
            statusReason: node.optionalText("StackStatusReason"),
            creationTime: try date(node, "CreationTime"),
            lastUpdatedTime: try optionalDate(node, "LastUpdatedTime"),
            deletionTime: try optionalDate(node, "DeletionTime"),
            templateDescription: node.optionalText("TemplateDescription"))
    }

    static func resource(_ node: XMLElementNode) throws -> StackResource {
        StackResource(
            logicalResourceId: try node.requiredText("LogicalResourceId"),
            physicalResourceId: node.optionalText("PhysicalResourceId"),
            resourceType: try node.requiredText("ResourceType"),
            status: try node.requiredText("ResourceStatus"),
            statusReason: node.optionalText("ResourceStatusReason"),
            lastUpdated: try optionalDate(node, "LastUpdatedTimestamp") ?? optionalDate(node, "Timestamp"))
    }

    static func templateSummary(_ node: XMLElementNode) throws -> TemplateSummary {
        TemplateSummary(
            description: node.optionalText("Description"),
            parameters: try node.members(
                node.child("Parameters") != nil ? "Parameters" : "ParameterDeclarations"
            ).map {
                TemplateParameter(
                    key: try $0.requiredText("ParameterKey"), defaultValue: $0.optionalText("DefaultValue"),
                    noEcho: bool($0, "NoEcho") ?? false, description: $0.optionalText("Description"),
                    type: $0.optionalText("ParameterType"))
            },
            capabilities: node.members("Capabilities").map(\.text),
            capabilitiesReason: node.optionalText("CapabilitiesReason"),
            resourceTypes: node.members("ResourceTypes").map(\.text))
    }

    static func change(_ node: XMLElementNode) throws -> ResourceChange {
        guard let detail = node.child("ResourceChange") else {
            throw XMLParseError.missing("ResourceChange", in: node.name)
        }
        return ResourceChange(
            action: try detail.requiredText("Action"),
            logicalResourceId: try detail.requiredText("LogicalResourceId"),
            physicalResourceId: detail.optionalText("PhysicalResourceId"),
            resourceType: try detail.requiredText("ResourceType"),
            replacement: detail.optionalText("Replacement"), changeSetId: detail.optionalText("ChangeSetId"))
    }
}
