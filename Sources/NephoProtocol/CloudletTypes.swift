/// Params of methods that take nothing.
public struct NoParams: Codable, Sendable, Equatable {
    public init() {}
}

/// Names an installed cloudlet (`mediawiki`, or `owner/name` for registry names).
public struct CloudletRef: Codable, Sendable, Equatable {
    public var name: String
    public init(name: String) { self.name = name }
}

/// One installed cloudlet as `cloudlet:list` shows it.
public struct CloudletSummary: Codable, Sendable, Equatable {
    public var name: String
    public var version: String?
    public var summary: String?
    /// The cloudlet's folder.
    public var path: String
    /// Why the cloudlet cannot be used, when it is broken.
    public var problem: String?
    /// Set when another directory earlier in the search order has a cloudlet of this name.
    public var shadowedBy: String?

    public init(
        name: String, version: String? = nil, summary: String? = nil, path: String,
        problem: String? = nil, shadowedBy: String? = nil
    ) {
        self.name = name
        self.version = version
        self.summary = summary
        self.path = path
        self.problem = problem
        self.shadowedBy = shadowedBy
    }
}

/// One cloudlet directory and what is installed in it.
public struct CloudletDirectoryListing: Codable, Sendable, Equatable {
    public var path: String
    public var exists: Bool
    public var cloudlets: [CloudletSummary]

    public init(path: String, exists: Bool, cloudlets: [CloudletSummary]) {
        self.path = path
        self.exists = exists
        self.cloudlets = cloudlets
    }
}

public struct CloudletListResult: Codable, Sendable, Equatable {
    public var directories: [CloudletDirectoryListing]
    /// Duplicate names and unreadable directories, for people.
    public var warnings: [String]

    public init(directories: [CloudletDirectoryListing], warnings: [String]) {
        self.directories = directories
        self.warnings = warnings
    }
}

/// A scenario's name and one-line summary.
public struct ScenarioSummary: Codable, Sendable, Equatable {
    public var name: String
    public var summary: String?
    public var path: String

    public init(name: String, summary: String?, path: String) {
        self.name = name
        self.summary = summary
        self.path = path
    }
}

/// Everything `cloudlet:describe` shows.
public struct CloudletDetail: Codable, Sendable, Equatable {
    public var name: String
    public var version: String?
    public var summary: String?
    public var description: String?
    public var author: String?
    public var license: String?
    public var projectPage: String?
    /// Where the cloudlet's git repository lives (`source` in cloudlet.yaml).
    public var repository: String?
    public var keywords: [String]
    /// The installed folder, or nil when described from a registry only.
    public var path: String?
    public var scenarios: [ScenarioSummary]
    /// Versions a registry offers, when known.
    public var versions: [String]?

    public init(
        name: String, version: String?, summary: String?, description: String?, author: String?,
        license: String?, projectPage: String?, repository: String?, keywords: [String], path: String?,
        scenarios: [ScenarioSummary], versions: [String]? = nil
    ) {
        self.name = name
        self.version = version
        self.summary = summary
        self.description = description
        self.author = author
        self.license = license
        self.projectPage = projectPage
        self.repository = repository
        self.keywords = keywords
        self.path = path
        self.scenarios = scenarios
        self.versions = versions
    }
}

public struct CloudletCreateParams: Codable, Sendable, Equatable {
    public var name: String
    /// Folder to create the cloudlet in; the default cloudlet directory when nil.
    public var directory: String?

    public init(name: String, directory: String?) {
        self.name = name
        self.directory = directory
    }
}

public struct CloudletCreateResult: Codable, Sendable, Equatable {
    public var name: String
    public var path: String
    public var files: [String]

    public init(name: String, path: String, files: [String]) {
        self.name = name
        self.path = path
        self.files = files
    }
}

public struct CloudletValidateParams: Codable, Sendable, Equatable {
    /// A cloudlet folder (absolute), or the name of an installed cloudlet.
    public var path: String
    public init(path: String) { self.path = path }
}

/// One problem found in a file, with its position (1-based; 0 when unknown).
public struct Problem: Codable, Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Codable, Sendable { case error, warning }

    public var file: String
    public var line: Int
    public var column: Int
    public var severity: Severity
    public var message: String

    public init(file: String, line: Int, column: Int, severity: Severity = .error, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.severity = severity
        self.message = message
    }

    /// `file:line:column: severity: message`, as compilers print it.
    public var description: String {
        var place = file
        if line > 0 { place += ":\(line)" + (column > 0 ? ":\(column)" : "") }
        return "\(place): \(severity.rawValue): \(message)"
    }
}

public struct ValidationReport: Codable, Sendable, Equatable {
    public var path: String
    public var name: String?
    public var problems: [Problem]
    public var valid: Bool { !problems.contains { $0.severity == .error } }

    public init(path: String, name: String?, problems: [Problem]) {
        self.path = path
        self.name = name
        self.problems = problems
    }

    enum CodingKeys: String, CodingKey { case path, name, problems, valid }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decode(String.self, forKey: .path)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        problems = try c.decode([Problem].self, forKey: .problems)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encodeIfPresent(name, forKey: .name)
        try c.encode(problems, forKey: .problems)
        try c.encode(valid, forKey: .valid)
    }
}

/// `cloudlet:dirs`: list (no action), add or remove a directory.
public struct CloudletDirsParams: Codable, Sendable, Equatable {
    public enum Action: String, Codable, Sendable { case list, add, remove }
    public var action: Action
    public var path: String?

    public init(action: Action, path: String? = nil) {
        self.action = action
        self.path = path
    }
}

public struct CloudletDirectory: Codable, Sendable, Equatable {
    public var path: String
    /// True for `$NEPHO_HOME/cloudlets`, which cannot be removed.
    public var isDefault: Bool
    public var exists: Bool

    public init(path: String, isDefault: Bool, exists: Bool) {
        self.path = path
        self.isDefault = isDefault
        self.exists = exists
    }
}

public struct CloudletDirsResult: Codable, Sendable, Equatable {
    public var directories: [CloudletDirectory]
    public init(directories: [CloudletDirectory]) { self.directories = directories }
}
