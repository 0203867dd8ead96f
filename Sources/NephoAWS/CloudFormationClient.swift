import Foundation
import NephoHTTP

/// CloudFormation's Query API (version 2010-05-15): the calls nepho uses.
///
/// List calls follow `NextToken` to the end (`describeStackEvents` can stop early at
/// an event already seen). Calls that change a stack carry a `ClientRequestToken`, so
/// a retried call cannot act twice; pass one to make several calls one operation.
public struct CloudFormationClient: Sendable {
    /// Largest inline `TemplateBody`; larger templates go through S3 (`TemplateUploader`).
    public static let maxTemplateBodyBytes = 51_200
    public static let apiVersion = "2010-05-15"

    public var query: AWSQueryClient

    public init(query: AWSQueryClient) { self.query = query }

    /// A client for `configuration`'s region, endpoint and credentials.
    public init(configuration: AWSConfiguration, http: any HTTPClient, retry: RetryPolicy) throws {
        query = AWSQueryClient(
            service: .cloudFormation, apiVersion: Self.apiVersion,
            endpoint: try configuration.endpoint(for: .cloudFormation),
            region: try configuration.requireRegion(),
            credentials: try configuration.requireCredentials(), http: http, retry: retry)
    }

    /// A fresh idempotency token.
    public static func newClientRequestToken() -> String { "nepho-\(UUID().uuidString.lowercased())" }

    // MARK: stacks

    /// Creates a stack and returns its id.
    @discardableResult
    public func createStack(_ request: StackRequest) async throws -> String {
        var parameters = try stackParameters(request)
        if let onFailure = request.onFailure { parameters.append(("OnFailure", onFailure.rawValue)) }
        if let disable = request.disableRollback { parameters.append(("DisableRollback", String(disable))) }
        if let minutes = request.timeoutInMinutes { parameters.append(("TimeoutInMinutes", String(minutes))) }
        parameters.append(("ClientRequestToken", request.clientRequestToken ?? Self.newClientRequestToken()))
        let result = try await call("CreateStack", parameters)
        return try decode("CreateStack") { try result.requiredText("StackId") }
    }

    /// Updates a stack and returns its id. "No updates are to be performed" is an
    /// `AWSError` with `isNoUpdates`.
    @discardableResult
    public func updateStack(_ request: StackRequest) async throws -> String {
        var parameters = try stackParameters(request)
        if let disable = request.disableRollback { parameters.append(("DisableRollback", String(disable))) }
        parameters.append(("ClientRequestToken", request.clientRequestToken ?? Self.newClientRequestToken()))
        let result = try await call("UpdateStack", parameters)
        return try decode("UpdateStack") { try result.requiredText("StackId") }
    }

    public func deleteStack(_ stackName: String, clientRequestToken: String? = nil) async throws {
        _ = try await call(
            "DeleteStack",
            [
                ("StackName", stackName),
                ("ClientRequestToken", clientRequestToken ?? Self.newClientRequestToken()),
            ])
    }

    public func cancelUpdateStack(_ stackName: String, clientRequestToken: String? = nil) async throws {
        _ = try await call(
            "CancelUpdateStack",
            [
                ("StackName", stackName),
                ("ClientRequestToken", clientRequestToken ?? Self.newClientRequestToken()),
            ])
    }

    /// One stack (by name or id), or every live stack when `stackName` is nil.
    public func describeStacks(_ stackName: String? = nil) async throws -> [Stack] {
        try await paged("DescribeStacks", stackName.map { [("StackName", $0)] } ?? [], list: "Stacks") {
            try CloudFormationDecoding.stack($0)
        }
    }

    /// Stacks of the account, deleted ones included, optionally only with these statuses.
    public func listStacks(statusFilter: [String] = []) async throws -> [StackSummary] {
        let filter = statusFilter.enumerated().map {
            ("StackStatusFilter.member.\($0.offset + 1)", $0.element)
        }
        return try await paged("ListStacks", filter, list: "StackSummaries") {
            try CloudFormationDecoding.summary($0)
        }
    }

    /// A stack's events, newest first. With `stopAt`, paging stops at the page holding
    /// that event id, and only newer events are returned.
    public func describeStackEvents(_ stackName: String, stopAt eventId: String? = nil) async throws
        -> [StackEvent]
    {
        var events: [StackEvent] = []
        var token: String?
        var seenTokens: Set<String> = []
        repeat {
            var parameters = [("StackName", stackName)]
            if let token { parameters.append(("NextToken", token)) }
            let result = try await call("DescribeStackEvents", parameters)
            let page = try decode("DescribeStackEvents") {
                try result.members("StackEvents").map(CloudFormationDecoding.event)
            }
            if let eventId, let index = page.firstIndex(where: { $0.eventId == eventId }) {
                return events + page[..<index]
            }
            events += page
            token = try nextToken(result, action: "DescribeStackEvents", seen: &seenTokens)
        } while token != nil
        return events
    }

    public func listStackResources(_ stackName: String) async throws -> [StackResource] {
        try await paged("ListStackResources", [("StackName", stackName)], list: "StackResourceSummaries") {
            try CloudFormationDecoding.resource($0)
        }
    }

    public func describeStackResources(_ stackName: String) async throws -> [StackResource] {
        let result = try await call("DescribeStackResources", [("StackName", stackName)])
        return try decode("DescribeStackResources") {
            try result.members("StackResources").map(CloudFormationDecoding.resource)
        }
    }

    /// The template body of a stack (or of a change set).
    public func getTemplate(_ stackName: String, changeSetName: String? = nil) async throws -> String {
        var parameters = [("StackName", stackName)]
        if let changeSetName { parameters.append(("ChangeSetName", changeSetName)) }
        let result = try await call("GetTemplate", parameters)
        return try decode("GetTemplate") { try result.requiredText("TemplateBody") }
    }

    public func validateTemplate(_ template: TemplateSource) async throws -> TemplateSummary {
        let result = try await call("ValidateTemplate", try templateParameters(template))
        return try decode("ValidateTemplate") { try CloudFormationDecoding.templateSummary(result) }
    }

    /// A template's summary, from a template or from an existing stack.
    public func getTemplateSummary(_ template: TemplateSource? = nil, stackName: String? = nil) async throws
        -> TemplateSummary
    {
        var parameters: [(String, String)] = []
        if let template { parameters += try templateParameters(template) }
        if let stackName { parameters.append(("StackName", stackName)) }
        let result = try await call("GetTemplateSummary", parameters)
        return try decode("GetTemplateSummary") { try CloudFormationDecoding.templateSummary(result) }
    }

    // MARK: change sets

    /// Creates a change set (`CREATE` for a new stack, `UPDATE` otherwise);
    /// `includeNestedStacks` makes CloudFormation plan the nested stacks' changes too, in
    /// change sets of their own (`describeChangeSet(_:stackName:includingNested:)`).
    public func createChangeSet(
        _ request: StackRequest, changeSetName: String, type: String = "UPDATE",
        includeNestedStacks: Bool = false
    )
        async throws
        -> ChangeSetReference
    {
        var parameters = try stackParameters(request)
        parameters += [
            ("ChangeSetName", changeSetName), ("ChangeSetType", type),
            ("ClientToken", request.clientRequestToken ?? Self.newClientRequestToken()),
        ]
        if includeNestedStacks { parameters.append(("IncludeNestedStacks", "true")) }
        let result = try await call("CreateChangeSet", parameters)
        return try decode("CreateChangeSet") {
            ChangeSetReference(
                changeSetId: try result.requiredText("Id"), stackId: try result.requiredText("StackId"))
        }
    }

    /// A change set and its changes; `includingNested` also reads the change set of each
    /// nested stack it changes (made with `includeNestedStacks`), whose changes follow their
    /// stack's own with `nestedStack` set.
    public func describeChangeSet(
        _ changeSetName: String, stackName: String? = nil, includingNested: Bool
    ) async throws -> ChangeSet {
        var described = try await describeChangeSet(changeSetName, stackName: stackName)
        guard includingNested else { return described }
        var seen: Set<String> = [described.changeSetId]
        var result: [ResourceChange] = []
        // Depth first: a nested stack's changes right after the change of that stack.
        var pending = Array(described.changes.reversed())
        while let change = pending.popLast() {
            result.append(change)
            guard let nested = change.changeSetId, change.nestedStack.count < 10,
                seen.insert(nested).inserted
            else { continue }
            let inner = try await describeChangeSet(nested).changes.map {
                var inner = $0
                inner.nestedStack = change.nestedStack + [change.logicalResourceId]
                return inner
            }
            pending += inner.reversed()
        }
        described.changes = result
        return described
    }

    public func describeChangeSet(_ changeSetName: String, stackName: String? = nil) async throws -> ChangeSet
    {
        var base = [("ChangeSetName", changeSetName)]
        if let stackName { base.append(("StackName", stackName)) }
        var token: String?
        var seen: Set<String> = []
        var first: XMLElementNode?
        var changes: [ResourceChange] = []
        repeat {
            let result = try await call("DescribeChangeSet", base + (token.map { [("NextToken", $0)] } ?? []))
            if first == nil { first = result }
            changes += try decode("DescribeChangeSet") {
                try result.members("Changes").map(CloudFormationDecoding.change)
            }
            token = try nextToken(result, action: "DescribeChangeSet", seen: &seen)
        } while token != nil
        let node = first!
        return try decode("DescribeChangeSet") {
            ChangeSet(
                changeSetId: try node.requiredText("ChangeSetId"),
                changeSetName: try node.requiredText("ChangeSetName"),
                stackId: try node.requiredText("StackId"), stackName: try node.requiredText("StackName"),
                status: try node.requiredText("Status"), statusReason: node.optionalText("StatusReason"),
                executionStatus: node.optionalText("ExecutionStatus"), changes: changes)
        }
    }

    public func executeChangeSet(
        _ changeSetName: String, stackName: String? = nil, clientRequestToken: String? = nil
    )
        async throws
    {
        var parameters = [("ChangeSetName", changeSetName)]
        if let stackName { parameters.append(("StackName", stackName)) }
        parameters.append(("ClientRequestToken", clientRequestToken ?? Self.newClientRequestToken()))
        _ = try await call("ExecuteChangeSet", parameters)
    }

    public func deleteChangeSet(_ changeSetName: String, stackName: String? = nil) async throws {
        var parameters = [("ChangeSetName", changeSetName)]
        if let stackName { parameters.append(("StackName", stackName)) }
        _ = try await call("DeleteChangeSet", parameters)
    }

    // MARK: plumbing

    private func call(_ action: String, _ parameters: [(String, String)]) async throws -> XMLElementNode {
        try await query.call(action, parameters)
    }

    private func decode<T>(_ action: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as XMLParseError {
            throw AWSResponseError(service: "cloudformation", action: action, reason: error.description)
        }
    }

    private func paged<T>(
        _ action: String, _ parameters: [(String, String)], list: String, _ item: (XMLElementNode) throws -> T
    ) async throws -> [T] {
        var items: [T] = []
        var token: String?
        var seen: Set<String> = []
        repeat {
            let result = try await call(action, parameters + (token.map { [("NextToken", $0)] } ?? []))
            items += try decode(action) { try result.members(list).map(item) }
            token = try nextToken(result, action: action, seen: &seen)
        } while token != nil
        return items
    }

    private func nextToken(_ result: XMLElementNode, action: String, seen: inout Set<String>) throws
        -> String?
    {
        guard let token = result.optionalText("NextToken"), !token.isEmpty else { return nil }
        guard seen.insert(token).inserted else {
            throw AWSResponseError(
                service: "cloudformation", action: action, reason: "NextToken repeated; paging stopped")
        }
        return token
    }

    private func templateParameters(_ template: TemplateSource) throws -> [(String, String)] {
        switch template {
        case .body(let text):
            guard text.utf8.count <= Self.maxTemplateBodyBytes else {
                throw TemplateTooLargeError(bytes: text.utf8.count)
            }
            return [("TemplateBody", text)]
        case .url(let url): return [("TemplateURL", url.absoluteString)]
        }
    }

    private func stackParameters(_ request: StackRequest) throws -> [(String, String)] {
        var parameters = [("StackName", request.stackName)]
        if request.usePreviousTemplate {
            parameters.append(("UsePreviousTemplate", "true"))
        } else if let template = request.template {
            parameters += try templateParameters(template)
        }
        for (index, parameter) in request.parameters.enumerated() {
            let prefix = "Parameters.member.\(index + 1)"
            parameters.append(("\(prefix).ParameterKey", parameter.key))
            if parameter.usePreviousValue {
                parameters.append(("\(prefix).UsePreviousValue", "true"))
            } else {
                parameters.append(("\(prefix).ParameterValue", parameter.value ?? ""))
            }
        }
        for (index, tag) in request.tags.enumerated() {
            parameters += [
                ("Tags.member.\(index + 1).Key", tag.key), ("Tags.member.\(index + 1).Value", tag.value),
            ]
        }
        for (index, capability) in request.capabilities.enumerated() {
            parameters.append(("Capabilities.member.\(index + 1)", capability))
        }
        for (index, arn) in request.notificationARNs.enumerated() {
            parameters.append(("NotificationARNs.member.\(index + 1)", arn))
        }
        return parameters
    }
}

/// A template too large to pass inline; upload it with `TemplateUploader`.
public struct TemplateTooLargeError: Error, Sendable, CustomStringConvertible {
    public var bytes: Int
    public var description: String {
        "the template is \(bytes) bytes, over CloudFormation's inline limit of \(CloudFormationClient.maxTemplateBodyBytes); it must go through S3"
    }
}
