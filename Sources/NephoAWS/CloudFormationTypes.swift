import Foundation

/// Where a stack's template comes from.
public enum TemplateSource: Sendable, Equatable {
    /// Inline text, at most `CloudFormationClient.maxTemplateBodyBytes` bytes.
    case body(String)
    /// A template already in S3.
    case url(URL)
}

/// A stack parameter: a value, or the value the stack already has.
public struct StackParameter: Sendable, Equatable {
    public var key: String
    public var value: String?
    public var usePreviousValue: Bool

    public init(key: String, value: String) {
        self.key = key
        self.value = value
        usePreviousValue = false
    }

    public init(keepingPreviousValueOf key: String) {
        self.key = key
        value = nil
        usePreviousValue = true
    }
}

/// A stack tag.
public struct StackTag: Sendable, Equatable {
    public var key: String
    public var value: String
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// What CloudFormation does when a stack fails to create.
public enum OnFailure: String, Sendable {
    case doNothing = "DO_NOTHING"
    case rollback = "ROLLBACK"
    case delete = "DELETE"
}

/// The settings of CreateStack, UpdateStack and CreateChangeSet.
public struct StackRequest: Sendable {
    public var stackName: String
    public var template: TemplateSource?
    /// UpdateStack: reuse the stack's current template instead of `template`.
    public var usePreviousTemplate = false
    public var parameters: [StackParameter] = []
    public var tags: [StackTag] = []
    /// e.g. `CAPABILITY_IAM`, `CAPABILITY_NAMED_IAM`, `CAPABILITY_AUTO_EXPAND`.
    public var capabilities: [String] = []
    /// CreateStack only; exclusive with `disableRollback`.
    public var onFailure: OnFailure?
    public var disableRollback: Bool?
    public var notificationARNs: [String] = []
    /// CreateStack only.
    public var timeoutInMinutes: Int?
    /// Makes a retried call idempotent; one per operation. nil: the client makes one.
    public var clientRequestToken: String?

    public init(stackName: String, template: TemplateSource?) {
        self.stackName = stackName
        self.template = template
    }
}

/// A stack output.
public struct StackOutput: Sendable, Equatable {
    public var key: String
    public var value: String
    public var description: String?
    public var exportName: String?
}

/// One stack as DescribeStacks tells it.
public struct Stack: Sendable {
    public var stackId: String
    public var stackName: String
    public var status: String
    public var statusReason: String?
    public var description: String?
    public var creationTime: Date
    public var lastUpdatedTime: Date?
    public var deletionTime: Date?
    public var parameters: [String: String]
    public var outputs: [StackOutput]
    public var tags: [StackTag]
    public var capabilities: [String]
    public var notificationARNs: [String]
    public var disableRollback: Bool?
    public var timeoutInMinutes: Int?
}

/// One line of a stack's event log.
public struct StackEvent: Sendable, Equatable {
    public var eventId: String
    public var stackId: String
    public var stackName: String
    public var logicalResourceId: String
    public var physicalResourceId: String?
    public var resourceType: String
    public var status: String
    public var statusReason: String?
    public var timestamp: Date
    public var clientRequestToken: String?
}

/// A stack as ListStacks tells it (deleted stacks included).
public struct StackSummary: Sendable {
    public var stackId: String
    public var stackName: String
    public var status: String
    public var statusReason: String?
    public var creationTime: Date
    public var lastUpdatedTime: Date?
    public var deletionTime: Date?
    public var templateDescription: String?
}

/// A resource of a stack (ListStackResources, DescribeStackResources).
public struct StackResource: Sendable {
    public var logicalResourceId: String
    public var physicalResourceId: String?
    public var resourceType: String
    public var status: String
    public var statusReason: String?
    /// AWS always sends it; moto 5.2 leaves it out of ListStackResources.
    public var lastUpdated: Date?
}

/// A parameter a template declares.
public struct TemplateParameter: Sendable, Equatable {
    public var key: String
    public var defaultValue: String?
    public var noEcho: Bool
    public var description: String?
    public var type: String?
}

/// ValidateTemplate and GetTemplateSummary's answer.
public struct TemplateSummary: Sendable {
    public var description: String?
    public var parameters: [TemplateParameter]
    public var capabilities: [String]
    public var capabilitiesReason: String?
    /// GetTemplateSummary only.
    public var resourceTypes: [String]
}

/// One planned change of a change set.
public struct ResourceChange: Sendable, Equatable {
    public var action: String
    public var logicalResourceId: String
    public var physicalResourceId: String?
    public var resourceType: String
    public var replacement: String?
    /// The change set CloudFormation made for this nested stack (`IncludeNestedStacks`).
    public var changeSetId: String? = nil
    /// The logical ids of the nested stacks the change is in, outermost first; empty for
    /// a change of the stack itself.
    public var nestedStack: [String] = []
}

/// DescribeChangeSet's answer (all pages joined).
public struct ChangeSet: Sendable {
    public var changeSetId: String
    public var changeSetName: String
    public var stackId: String
    public var stackName: String
    public var status: String
    public var statusReason: String?
    public var executionStatus: String?
    public var changes: [ResourceChange]
}

/// CreateChangeSet's answer.
public struct ChangeSetReference: Sendable, Equatable {
    public var changeSetId: String
    public var stackId: String
}
