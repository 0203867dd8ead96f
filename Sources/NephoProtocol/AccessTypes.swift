/// `formation.access`: how to reach a formation (`formation:open`, `formation:ssh`).
public struct FormationAccessParams: Codable, Sendable, Equatable {
    public var name: String
    /// A command to run there (`nepho ssh NAME -- CMD…`).
    public var command: [String]
    /// Only the ssh address is wanted (`--print-only`), not a program to run.
    public var addressOnly: Bool

    public init(name: String, command: [String] = [], addressOnly: Bool = false) {
        self.name = name
        self.command = command
        self.addressOnly = addressOnly
    }
}

/// What `formation.access` answers: the address to open, and how to ssh there — each,
/// when missing, with the reason (which outputs were looked for).
public struct FormationAccess: Codable, Sendable, Equatable {
    public var name: String
    public var url: String?
    /// Why there is no `url`, when there is none.
    public var urlProblem: String?
    public var ssh: SSHAccess?
    /// Why there is no `ssh`, when there is none.
    public var sshProblem: String?

    public init(name: String, url: String?, urlProblem: String?, ssh: SSHAccess?, sshProblem: String?) {
        self.name = name
        self.url = url
        self.urlProblem = urlProblem
        self.ssh = ssh
        self.sshProblem = sshProblem
    }
}

/// How to ssh to a formation: an address for the system's ssh, or the provider's own
/// tool (`vagrant ssh` in the formation's folder) that the client runs in its terminal.
public struct SSHAccess: Codable, Sendable, Equatable {
    /// `user@host` (or `host`).
    public var address: String
    public var port: Int?
    /// ssh options the provider needs (an identity file), before the client's own.
    public var options: [String]
    /// The provider's tool to run instead of ssh, when it has one.
    public var tool: SSHTool?

    public init(address: String, port: Int? = nil, options: [String] = [], tool: SSHTool? = nil) {
        self.address = address
        self.port = port
        self.options = options
        self.tool = tool
    }
}

/// A program the client runs (exec) in its own terminal to reach a formation: its path,
/// its arguments, the variables to set over the client's own environment and those to
/// remove, and the folder to run it in.
public struct SSHTool: Codable, Sendable, Equatable {
    public var path: String
    public var arguments: [String]
    public var environment: [String: String]
    public var unset: [String]
    public var directory: String

    public init(
        path: String, arguments: [String], environment: [String: String], unset: [String], directory: String
    ) {
        self.path = path
        self.arguments = arguments
        self.environment = environment
        self.unset = unset
        self.directory = directory
    }
}
