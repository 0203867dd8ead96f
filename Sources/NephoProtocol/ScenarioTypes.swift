public struct ScenarioListResult: Codable, Sendable, Equatable {
    public var cloudlet: String
    public var scenarios: [ScenarioSummary]

    public init(cloudlet: String, scenarios: [ScenarioSummary]) {
        self.cloudlet = cloudlet
        self.scenarios = scenarios
    }
}

public struct ScenarioDescribeParams: Codable, Sendable, Equatable {
    public var cloudlet: String
    /// `default` when nil.
    public var scenario: String?
    /// The command-line layer (`-p KEY=VALUE`).
    public var overrides: [String: String]
    /// The provider a create would use (`--provider`): refused here when unknown, before
    /// anyone is prompted for values.
    public var provider: String?

    public init(
        cloudlet: String, scenario: String?, overrides: [String: String] = [:], provider: String? = nil
    ) {
        self.cloudlet = cloudlet
        self.scenario = scenario
        self.overrides = overrides
        self.provider = provider
    }
}

/// Where a parameter's value came from, lowest layer first.
public enum ParameterLayer: String, Codable, Sendable, Comparable, CaseIterable {
    /// The pattern's own default (a CloudFormation parameter's `Default`).
    case template
    case cloudlet
    case scenario
    case user
    case commandLine = "command-line"
    case prompt

    public static func < (lhs: ParameterLayer, rhs: ParameterLayer) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One parameter of a scenario after the layers are merged.
public struct ResolvedParameter: Codable, Sendable, Equatable {
    public var name: String
    /// The value; `********` for a secret that has one.
    public var value: String?
    /// The layer the value came from; nil when nothing gave one.
    public var layer: ParameterLayer?
    public var description: String?
    public var defaultValue: String?
    public var allowedValues: [String]
    public var required: Bool
    public var secret: Bool

    public init(
        name: String, value: String?, layer: ParameterLayer?, description: String?,
        defaultValue: String?, allowedValues: [String], required: Bool, secret: Bool
    ) {
        self.name = name
        self.value = value
        self.layer = layer
        self.description = description
        self.defaultValue = defaultValue
        self.allowedValues = allowedValues
        self.required = required
        self.secret = secret
    }

    /// Required with no value from any layer.
    public var isMissing: Bool { required && value == nil }
}

/// Everything `scenario:describe` shows.
public struct ScenarioDetail: Codable, Sendable, Equatable {
    public var cloudlet: String
    public var name: String
    public var summary: String?
    public var description: String?
    public var provider: String
    public var pattern: String?
    public var provisioner: String?
    /// The scenario file to edit.
    public var path: String
    public var parameters: [ResolvedParameter]
    /// The scenario's configuration with parameters merged, secrets masked.
    public var configuration: JSONValue

    public init(
        cloudlet: String, name: String, summary: String?, description: String?, provider: String,
        pattern: String?, provisioner: String?, path: String, parameters: [ResolvedParameter],
        configuration: JSONValue
    ) {
        self.cloudlet = cloudlet
        self.name = name
        self.summary = summary
        self.description = description
        self.provider = provider
        self.pattern = pattern
        self.provisioner = provisioner
        self.path = path
        self.parameters = parameters
        self.configuration = configuration
    }
}

public struct ParameterKey: Codable, Sendable, Equatable {
    public var key: String
    public init(key: String) { self.key = key }
}

/// A value in the user layer, `$NEPHO_HOME/params.yaml`.
public struct UserParameter: Codable, Sendable, Equatable {
    public var key: String
    public var value: String
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

public struct ParameterListResult: Codable, Sendable, Equatable {
    /// The file holding the user layer.
    public var path: String
    public var parameters: [UserParameter]

    public init(path: String, parameters: [UserParameter]) {
        self.path = path
        self.parameters = parameters
    }
}
