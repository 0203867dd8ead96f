import Foundation

/// A formation as stored: one row of `formations`.
public struct FormationRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var provider: String
    public var cloudlet: String
    public var scenario: String
    public var region: String?
    public var stackID: String?
    public var status: String
    /// The parameter values (secret ones masked by whoever recorded them).
    public var parameters: [String: String]
    public var outputs: [String: String]
    public var createdAt: String
    public var updatedAt: String

    public init(
        id: Int64 = 0, name: String, provider: String, cloudlet: String, scenario: String,
        region: String? = nil, stackID: String? = nil, status: String, parameters: [String: String] = [:],
        outputs: [String: String] = [:], createdAt: String = "", updatedAt: String = ""
    ) {
        self.id = id
        self.name = name
        self.provider = provider
        self.cloudlet = cloudlet
        self.scenario = scenario
        self.region = region
        self.stackID = stackID
        self.status = status
        self.parameters = parameters
        self.outputs = outputs
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One create, update or destroy of a formation: one row of `builds`.
public struct BuildRecord: Sendable, Equatable {
    public enum Operation: String, Sendable { case create, update, destroy }

    public var id: Int64
    public var formationID: Int64
    public var operation: Operation
    public var status: String
    public var startedAt: String
    public var finishedAt: String?
    public var monitorPID: Int32?
    public var error: String?
    /// The idempotency token the build's provider call carries (CloudFormation's
    /// `ClientRequestToken`), recorded before the call.
    public var requestToken: String?
    /// The process making the build's provider call, until the call has returned: a build
    /// whose launcher died mid-call is resolved by its monitor (was the call taken?). 0 when
    /// the call got no answer and its launcher gave it up (`StateStore.launchUnanswered`).
    public var launcherPID: Int32?

    /// The process making the build's provider call still runs: its monitor waits for it.
    public var launcherRunning: Bool {
        guard let launcher = launcherPID, launcher > 0 else { return false }
        return kill(launcher, 0) == 0 || errno == EPERM
    }
    /// When the provider call returned (nil while it is made, and for builds recorded
    /// before nepho kept it).
    public var launchedAt: String?
    /// Where the provider call acts (`FormationDriver.scope`), recorded with the intent.
    public var scope: String?

    public init(
        id: Int64 = 0, formationID: Int64, operation: Operation, status: String, startedAt: String = "",
        finishedAt: String? = nil, monitorPID: Int32? = nil, error: String? = nil,
        requestToken: String? = nil, launcherPID: Int32? = nil, launchedAt: String? = nil,
        scope: String? = nil
    ) {
        self.id = id
        self.formationID = formationID
        self.operation = operation
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.monitorPID = monitorPID
        self.error = error
        self.requestToken = requestToken
        self.launcherPID = launcherPID
        self.launchedAt = launchedAt
        self.scope = scope
    }
}

/// One event of a build's log: unique by the provider's event id, numbered 1, 2, 3… per build.
public struct EventRecord: Sendable, Equatable {
    public var buildID: Int64
    /// Position in the build's log, from 1; assigned by `StateStore.appendEvent`.
    public var sequence: Int64
    public var providerEventID: String
    public var timestamp: String
    public var logicalID: String?
    public var resourceType: String?
    public var status: String?
    public var reason: String?

    public init(
        buildID: Int64, sequence: Int64 = 0, providerEventID: String, timestamp: String,
        logicalID: String? = nil, resourceType: String? = nil, status: String? = nil, reason: String? = nil
    ) {
        self.buildID = buildID
        self.sequence = sequence
        self.providerEventID = providerEventID
        self.timestamp = timestamp
        self.logicalID = logicalID
        self.resourceType = resourceType
        self.status = status
        self.reason = reason
    }
}

/// What a create's provider call made, recorded with its build's launch
/// (`StateStore.launched(build:formation:)`).
public struct LaunchedFormation: Sendable, Equatable {
    public var id: Int64
    public var stackID: String?
    public var region: String?
    public var outputs: [String: String]?
    public var parameters: [String: String]?

    public init(
        id: Int64, stackID: String?, region: String?, outputs: [String: String]?,
        parameters: [String: String]?
    ) {
        self.id = id
        self.stackID = stackID
        self.region = region
        self.outputs = outputs
        self.parameters = parameters
    }
}
