/// The one error type that crosses the wire: a stable `code` and a message written for
/// the person at the terminal (what went wrong and what to do), plus optional details.
public struct NephoError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    /// nepho's own codes, in JSON-RPC's server range -32000…-32099.
    public struct Code: RawRepresentable, Codable, Sendable, Hashable {
        public var rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        /// An unexpected failure inside nepho.
        public static let internalError = Code(rawValue: -32000)
        /// A named thing (cloudlet, scenario, formation, parameter) does not exist.
        public static let notFound = Code(rawValue: -32001)
        /// Input that nepho read (a file, a flag, a value) is malformed or invalid.
        public static let invalidInput = Code(rawValue: -32002)
        /// The name is taken, or the thing is in a state that forbids the request.
        public static let conflict = Code(rawValue: -32003)
        /// Required parameters have no value and nobody can be asked for one.
        public static let missingParameters = Code(rawValue: -32004)
        /// The client and daemon speak different protocol versions.
        public static let versionMismatch = Code(rawValue: -32005)
        /// The operating system or the cloud refused access.
        public static let permissionDenied = Code(rawValue: -32006)
        /// The cloud provider answered with an error.
        public static let providerError = Code(rawValue: -32010)
        /// No credentials were found for the provider.
        public static let missingCredentials = Code(rawValue: -32011)
        /// A child program (git, vagrant) failed.
        public static let toolFailed = Code(rawValue: -32012)
        /// The handshake has not been made on this connection.
        public static let handshakeRequired = Code(rawValue: -32020)
    }

    public var code: Code
    public var message: String
    /// Further lines (e.g. one per validation problem or missing parameter).
    public var details: [String]

    public init(_ code: Code, _ message: String, details: [String] = []) {
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String {
        ([message] + details.map { "  " + $0 }).joined(separator: "\n")
    }
}
