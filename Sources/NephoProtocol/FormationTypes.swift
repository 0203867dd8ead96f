/// `API.formationCreate`: which cloudlet and scenario to build, under which name, with
/// which command-line parameters (docs/formations.md).
public struct FormationCreateParams: Codable, Sendable, Equatable {
    public var cloudlet: String
    /// `default` when nil.
    public var scenario: String?
    /// The formation's (and stack's) name; `CLOUDLET-SCENARIO` when nil.
    public var name: String?
    /// The command-line layer (`-p KEY=VALUE`) plus answers to prompts.
    public var overrides: [String: String]
    /// A provider's identifier (`--provider`: `aws`, `vagrant`, …); the scenario's own when nil.
    public var provider: String?

    public init(
        cloudlet: String, scenario: String? = nil, name: String? = nil, overrides: [String: String] = [:],
        provider: String? = nil
    ) {
        self.cloudlet = cloudlet
        self.scenario = scenario
        self.name = name
        self.overrides = overrides
        self.provider = provider
    }
}

/// `API.formationList`: which formations.
public struct FormationListParams: Codable, Sendable, Equatable {
    /// Destroyed formations too (hidden by default).
    public var all: Bool?
    /// Only those `state.db` holds, without asking the providers (shell completion).
    public var recordedOnly: Bool?
    public init(all: Bool? = nil, recordedOnly: Bool? = nil) {
        self.all = all
        self.recordedOnly = recordedOnly
    }
}

/// A formation by name.
public struct FormationRef: Codable, Sendable, Equatable {
    public var name: String
    public init(name: String) { self.name = name }
}

/// `API.formationDestroy` and `API.formationCancel`.
public struct FormationActionParams: Codable, Sendable, Equatable {
    public var name: String
    public init(name: String) { self.name = name }
}

/// `API.formationUpdate`: new parameters; `execute` false only plans the change set.
public struct FormationUpdateParams: Codable, Sendable, Equatable {
    public var name: String
    public var overrides: [String: String]
    /// The change set to execute (from a previous plan); nil: plan a new one.
    public var changeSet: String?

    public init(name: String, overrides: [String: String] = [:], changeSet: String? = nil) {
        self.name = name
        self.overrides = overrides
        self.changeSet = changeSet
    }
}

/// One planned change of an update.
public struct FormationChange: Codable, Sendable, Equatable {
    /// `Add`, `Modify`, `Remove`.
    public var action: String
    public var logicalID: String
    public var resourceType: String
    /// `True`, `False`, `Conditional` for a modification; nil otherwise.
    public var replacement: String?
    /// For a change inside a nested stack: the logical ids of the nested stacks it is in,
    /// outermost first, joined by `/` (`Network/Subnets`); nil for the stack's own.
    public var nestedStack: String?

    public init(
        action: String, logicalID: String, resourceType: String, replacement: String?,
        nestedStack: String? = nil
    ) {
        self.action = action
        self.logicalID = logicalID
        self.resourceType = resourceType
        self.replacement = replacement
        self.nestedStack = nestedStack
    }
}

/// A parameter an update changes: its stored value and the new one (secrets masked).
public struct FormationParameterChange: Codable, Sendable, Equatable {
    public var name: String
    /// nil: the formation had no value for it.
    public var old: String?
    public var new: String?

    public init(name: String, old: String?, new: String?) {
        self.name = name
        self.old = old
        self.new = new
    }
}

/// What `API.formationUpdate` planned (no build yet) or started (a build).
public struct FormationUpdateResult: Codable, Sendable, Equatable {
    public var name: String
    public var changeSet: String
    public var changes: [FormationChange]
    /// Set once the change set is executed.
    public var build: BuildSummary?
    /// The parameters the plan changes (nil from an older daemon).
    public var parameters: [FormationParameterChange]?

    public init(
        name: String, changeSet: String, changes: [FormationChange], build: BuildSummary?,
        parameters: [FormationParameterChange]? = nil
    ) {
        self.name = name
        self.changeSet = changeSet
        self.changes = changes
        self.build = build
        self.parameters = parameters
    }
}

/// One create, update or destroy of a formation.
public struct BuildSummary: Codable, Sendable, Equatable {
    public var id: Int64
    public var formation: String
    /// `create`, `update`, `destroy`.
    public var operation: String
    /// The stack's status as last seen (`CREATE_IN_PROGRESS`, …).
    public var status: String
    public var startedAt: String
    public var finishedAt: String?
    /// True when it ended well (`CREATE_COMPLETE`, `UPDATE_COMPLETE`, `DELETE_COMPLETE`).
    public var succeeded: Bool?
    public var error: String?

    public init(
        id: Int64, formation: String, operation: String, status: String, startedAt: String,
        finishedAt: String?, succeeded: Bool?, error: String?
    ) {
        self.id = id
        self.formation = formation
        self.operation = operation
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.succeeded = succeeded
        self.error = error
    }
}

/// One formation in a listing.
public struct FormationSummary: Codable, Sendable, Equatable {
    public var name: String
    public var cloudlet: String?
    public var scenario: String?
    public var status: String
    public var stackID: String?
    public var createdAt: String
    /// `nepho` (in this machine's state) or `aws` (a nepho-tagged stack found in the account).
    public var source: String
    /// While its last build runs: that build's progress and ETA.
    public var progress: BuildEstimate?

    public init(
        name: String, cloudlet: String?, scenario: String?, status: String, stackID: String?,
        createdAt: String,
        source: String
    ) {
        self.name = name
        self.cloudlet = cloudlet
        self.scenario = scenario
        self.status = status
        self.stackID = stackID
        self.createdAt = createdAt
        self.source = source
    }
}

public struct FormationListResult: Codable, Sendable, Equatable {
    public var formations: [FormationSummary]
    /// e.g. that the account could not be asked (no credentials).
    public var warnings: [String]
    public init(formations: [FormationSummary], warnings: [String] = []) {
        self.formations = formations
        self.warnings = warnings
    }
}

/// `API.formationDescribe`.
public struct FormationDetail: Codable, Sendable, Equatable {
    public var name: String
    public var cloudlet: String
    public var scenario: String
    public var status: String
    public var stackID: String?
    public var region: String?
    /// Secrets show as `********`.
    public var parameters: [String: String]
    public var outputs: [String: String]
    public var builds: [BuildSummary]
    /// The last build's events.
    public var timeline: [SequencedEvent]
    /// `aws` or `vagrant` (nil from a daemon older than the Vagrant provider: aws).
    public var provider: String?
    /// The stack's resources, each with its latest status from the stored events (nil
    /// from an older daemon; empty for a vagrant formation, whose machine state is an output).
    public var resources: [FormationResource]?
    /// When the provider last confirmed what this shows (a stack: the last long poll of the
    /// queue its events are pushed to, or the DescribeStacks call made for this answer);
    /// nil when a build's monitor keeps it current or the provider cannot say.
    public var confirmedAt: String?

    public init(
        name: String, cloudlet: String, scenario: String, status: String, stackID: String?, region: String?,
        parameters: [String: String], outputs: [String: String], builds: [BuildSummary],
        timeline: [SequencedEvent], provider: String? = nil, resources: [FormationResource]? = nil,
        confirmedAt: String? = nil
    ) {
        self.provider = provider
        self.resources = resources
        self.confirmedAt = confirmedAt
        self.name = name
        self.cloudlet = cloudlet
        self.scenario = scenario
        self.status = status
        self.stackID = stackID
        self.region = region
        self.parameters = parameters
        self.outputs = outputs
        self.builds = builds
        self.timeline = timeline
    }
}

/// One resource of a formation's stack as its last stored event left it.
public struct FormationResource: Codable, Sendable, Equatable {
    public var logicalID: String
    public var resourceType: String?
    public var status: String?
    public var reason: String?
    /// The time of that event.
    public var updatedAt: String

    public init(logicalID: String, resourceType: String?, status: String?, reason: String?, updatedAt: String)
    {
        self.logicalID = logicalID
        self.resourceType = resourceType
        self.status = status
        self.reason = reason
        self.updatedAt = updatedAt
    }
}

/// An event with its place in the build's log.
public struct SequencedEvent: Codable, Sendable, Equatable {
    public var build: Int64
    /// 1, 2, 3… per build.
    public var sequence: Int64
    public var event: BuildEvent
    public init(build: Int64, sequence: Int64, event: BuildEvent) {
        self.build = build
        self.sequence = sequence
        self.event = event
    }
}

/// `API.formationLogs`: every build with its events.
public struct FormationLogsResult: Codable, Sendable, Equatable {
    public var name: String
    public var builds: [BuildLog]
    /// What each resource of the formation's template waits for (`DependsOn`, `Ref`,
    /// `Fn::GetAtt`, `Fn::Sub`), for the chart's critical path; nil when the template is not at hand.
    public var dependencies: [String: [String]]?
    public init(name: String, builds: [BuildLog], dependencies: [String: [String]]? = nil) {
        self.name = name
        self.builds = builds
        self.dependencies = dependencies
    }
}

public struct BuildLog: Codable, Sendable, Equatable {
    public var build: BuildSummary
    public var events: [SequencedEvent]
    public init(build: BuildSummary, events: [SequencedEvent]) {
        self.build = build
        self.events = events
    }
}
