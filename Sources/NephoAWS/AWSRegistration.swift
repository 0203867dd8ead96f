import Foundation
import NephoHTTP
import NephoSupport

/// What `nepho register` does below its prompts: save a profile to the shared files
/// and check that its keys work.
public struct AWSRegistration: Sendable {
    public var profile: String
    public var region: String
    public var accessKeyId: String
    public var secretAccessKey: Secret

    public init(profile: String, region: String, accessKeyId: String, secretAccessKey: Secret) {
        self.profile = profile
        self.region = region
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
    }

    /// Checks the fields before anything is written.
    public func validate() throws {
        if region.isEmpty || region.contains(where: { !($0.isLetter || $0.isNumber || $0 == "-") }) {
            throw AWSConfigurationError.badSetting(
                name: "region", reason: "'\(region)' is not an AWS region name")
        }
        if accessKeyId.isEmpty || accessKeyId.contains(where: { $0.isWhitespace }) {
            throw AWSConfigurationError.badSetting(name: "access key id", reason: "it must be one word")
        }
        if secretAccessKey.isEmpty || secretAccessKey.reveal().contains(where: { $0.isWhitespace }) {
            throw AWSConfigurationError.badSetting(name: "secret access key", reason: "it must be one word")
        }
        if profile.isEmpty || profile.contains(where: { $0 == "[" || $0 == "]" || $0.isNewline }) {
            throw AWSConfigurationError.badSetting(
                name: "profile", reason: "'\(profile)' cannot name a profile")
        }
    }

    /// Writes the keys to the credentials file and the region to the config file.
    public func save(environment: [String: String]) throws -> (config: String, credentials: String) {
        try validate()
        let paths = AWSConfiguration.sharedFilePaths(environment: environment)
        try AWSSharedFileWriter.set(
            [("aws_access_key_id", accessKeyId), ("aws_secret_access_key", secretAccessKey.reveal())],
            section: profile, path: paths.credentials)
        try AWSSharedFileWriter.set(
            [("region", region)], section: profile == "default" ? "default" : "profile \(profile)",
            path: paths.config)
        return paths
    }

    /// Asks STS who the keys belong to (GetCallerIdentity needs no permission), at the
    /// endpoint the environment configures for STS.
    public func verify(environment: [String: String], http: any HTTPClient = CurlHTTPClient()) async throws
        -> CallerIdentity
    {
        var scrubbed = environment
        for key in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] { scrubbed[key] = nil }
        scrubbed["AWS_REGION"] = region
        var configuration = try AWSConfiguration.resolve(
            environment: scrubbed, profile: profile, region: region)
        configuration.credentials = AWSCredentials(
            accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, source: "nepho register")
        let retry = RetryPolicy(settings: RetrySettings(maxAttempts: 2))
        return try await AWSSession(configuration: configuration, http: http, retry: retry).sts()
            .getCallerIdentity()
    }
}
