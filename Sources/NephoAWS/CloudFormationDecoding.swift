import Foundation

/// Turns CloudFormation's XML answers into values, strictly: a missing required
/// element or an unreadable date is an error naming it.
enum CloudFormationDecoding {
    static func date(_ node: XMLElementNode, _ name: String) throws -> Date {
        let text = try node.requiredText(name)
        guard let value = parseDate(text) else { throw XMLParseError(line: 0, column: 0, reason: "<\(name)> '\(text)' is not a date") }
        return value
    }

    static func optionalDate(_ node: XMLElementNode, _ name: String) throws -> Date? {
        guard node.child(name) != nil else { return nil }
        return try date(node, name)
    }

    static func parseDate(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = withFraction.date(from: trimmed) { return date }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: trimmed) { return date }
        // Microseconds, which some formatters refuse: keep milliseconds.
        if let dot = trimmed.firstIndex(of: "."), let zone = trimmed[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) {
            let digits = trimmed[trimmed.index(after: dot)..<zone].prefix(3)
            return withFraction.date(from: String(trimmed[..<dot]) + "." + digits + trimmed[zone...])
        }
        return nil
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
            status: try node.requiredText("StackStatus"), statusReason: node.optionalText("StackStatusReason"),
            description: node.optionalText("Description"), creationTime: try date(node, "CreationTime"),
            lastUpdatedTime: try optionalDate(node, "LastUpdatedTime"), deletionTime: try optionalDate(node, "DeletionTime"),
            parameters: parameters,
            outputs: try node.members("Outputs").map {
                StackOutput(
                    key: try $0.requiredText("OutputKey"), value: $0.optionalText("OutputValue") ?? "",
                    description: $0.optionalText("Description"), exportName: $0.optionalText("ExportName"))
            },
            tags: try node.members("Tags").map { StackTag(key: try $0.requiredText("Key"), value: $0.optionalText("Value") ?? "") },
            capabilities: node.members("Capabilities").map(\.text),
            notificationARNs: node.members("NotificationARNs").map(\.text),
            disableRollback: bool(node, "DisableRollback"),
            timeoutInMinutes: node.optionalText("TimeoutInMinutes").flatMap { Int($0) })
    }

    static func event(_ node: XMLElementNode) throws -> StackEvent {
        StackEvent(
            eventId: try node.requiredText("EventId"), stackId: try node.requiredText("StackId"),
            stackName: try node.requiredText("StackName"), logicalResourceId: try node.requiredText("LogicalResourceId"),
            physicalResourceId: node.optionalText("PhysicalResourceId"), resourceType: try node.requiredText("ResourceType"),
            status: try node.requiredText("ResourceStatus"), statusReason: node.optionalText("ResourceStatusReason"),
            timestamp: try date(node, "Timestamp"), clientRequestToken: node.optionalText("ClientRequestToken"))
    }

    static func summary(_ node: XMLElementNode) throws -> StackSummary {
        StackSummary(
            stackId: try node.requiredText("StackId"), stackName: try node.requiredText("StackName"),
            status: try node.requiredText("StackStatus"), statusReason: node.optionalText("StackStatusReason"),
            creationTime: try date(node, "CreationTime"), lastUpdatedTime: try optionalDate(node, "LastUpdatedTime"),
            deletionTime: try optionalDate(node, "DeletionTime"), templateDescription: node.optionalText("TemplateDescription"))
    }

    static func resource(_ node: XMLElementNode) throws -> StackResource {
        StackResource(
            logicalResourceId: try node.requiredText("LogicalResourceId"),
            physicalResourceId: node.optionalText("PhysicalResourceId"), resourceType: try node.requiredText("ResourceType"),
            status: try node.requiredText("ResourceStatus"), statusReason: node.optionalText("ResourceStatusReason"),
            lastUpdated: try date(node, node.child("LastUpdatedTimestamp") != nil ? "LastUpdatedTimestamp" : "Timestamp"))
    }

    static func templateSummary(_ node: XMLElementNode) throws -> TemplateSummary {
        TemplateSummary(
            description: node.optionalText("Description"),
            parameters: try node.members(node.child("Parameters") != nil ? "Parameters" : "ParameterDeclarations").map {
                TemplateParameter(
                    key: try $0.requiredText("ParameterKey"), defaultValue: $0.optionalText("DefaultValue"),
                    noEcho: bool($0, "NoEcho") ?? false, description: $0.optionalText("Description"),
                    type: $0.optionalText("ParameterType"))
            },
            capabilities: node.members("Capabilities").map(\.text), capabilitiesReason: node.optionalText("CapabilitiesReason"),
            resourceTypes: node.members("ResourceTypes").map(\.text))
    }

    static func change(_ node: XMLElementNode) throws -> ResourceChange {
        guard let detail = node.child("ResourceChange") else { throw XMLParseError.missing("ResourceChange", in: node.name) }
        return ResourceChange(
            action: try detail.requiredText("Action"), logicalResourceId: try detail.requiredText("LogicalResourceId"),
            physicalResourceId: detail.optionalText("PhysicalResourceId"), resourceType: try detail.requiredText("ResourceType"),
            replacement: detail.optionalText("Replacement"))
    }
}
