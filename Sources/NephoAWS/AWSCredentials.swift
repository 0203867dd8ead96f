import NephoSupport

/// An access key pair, with a session token for temporary credentials. The secret parts
/// are `Secret`s, so printing or logging credentials never shows them.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    public var accessKeyId: String
    public var secretAccessKey: Secret
    public var sessionToken: Secret?
    /// Where they were found, e.g. `environment` or `shared credentials file (profile dev)`.
    public var source: String

    public init(
        accessKeyId: String, secretAccessKey: Secret, sessionToken: Secret? = nil, source: String = "explicit"
    ) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.source = source
    }

    public var description: String {
        "AWSCredentials(accessKeyId: \(accessKeyId), secret: <redacted>\(sessionToken == nil ? "" : ", session token: <redacted>"), source: \(source))"
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["accessKeyId": accessKeyId, "source": source], displayStyle: .struct)
    }
}
