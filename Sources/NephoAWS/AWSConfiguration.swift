import Foundation
import NephoSupport

/// Everything nepho needs to call AWS, resolved the way the AWS SDKs and CLI do.
///
/// Credentials: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN` (unless
/// a profile was named with `--profile`), then the profile (`--profile`, `AWS_PROFILE`,
/// `default`) in the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`,
/// `~/.aws/credentials`), then in the config file (`AWS_CONFIG_FILE`, `~/.aws/config`).
/// Region: `--region`, `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`.
/// Endpoints: `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`, the profile's
/// `services` section, the profile's `endpoint_url`, then AWS's public endpoint;
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` (or the profile's
/// `ignore_configured_endpoint_urls`) skips all configured ones. docs/aws.md has the list.
public struct AWSConfiguration: Sendable {
    public var profile: String
    public var credentials: AWSCredentials?
    public var region: String?
    public var retry: RetrySettings
    /// Things the user should hear about (a credentials file readable by others).
    public var warnings: [String]
    public var configFilePath: String
    public var credentialsFilePath: String

    private var environment: [String: String]
    private var profileSettings: [String: String]
    private var servicesSettings: [String: [String: String]]

    /// Resolves from `environment` and the shared files it points to.
    /// - Parameters:
    ///   - profile: `--profile`, when given; it also disables credentials from the environment.
    ///   - region: `--region`, when given.
    public static func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment, profile: String? = nil,
        region: String? = nil
    ) throws -> AWSConfiguration {
        let paths = sharedFilePaths(environment: environment)
        let config = try AWSSharedFile.load(paths.config)
        let credentialsFile = try AWSSharedFile.load(paths.credentials)
        let profileName = nonEmpty(profile) ?? nonEmpty(environment["AWS_PROFILE"]) ?? "default"
        let settings = config.configProfile(profileName) ?? [:]
        let fileKeys = credentialsFile.credentialsProfile(profileName)
        if nonEmpty(profile) != nil || nonEmpty(environment["AWS_PROFILE"]) != nil {
            if fileKeys == nil && config.configProfile(profileName) == nil {
                throw AWSConfigurationError.profileNotFound(profileName)
            }
        }
        var warnings: [String] = []
        if let mode = filePermissions(paths.credentials), mode & 0o077 != 0 {
            warnings.append(
                "\(paths.credentials) can be read by other users (mode \(String(mode, radix: 8))); run chmod 600 on it"
            )
        }

        var credentials: AWSCredentials?
        if nonEmpty(profile) == nil, let keyId = nonEmpty(environment["AWS_ACCESS_KEY_ID"]),
            let secret = nonEmpty(environment["AWS_SECRET_ACCESS_KEY"])
        {
            credentials = AWSCredentials(
                accessKeyId: keyId, secretAccessKey: Secret(secret),
                sessionToken: nonEmpty(environment["AWS_SESSION_TOKEN"]).map(Secret.init),
                source: "environment")
        }
        if credentials == nil, let fileKeys {
            credentials = try keys(
                fileKeys, profile: profileName, path: paths.credentials, kind: "shared credentials file")
        }
        if credentials == nil, settings["aws_access_key_id"] != nil {
            credentials = try keys(settings, profile: profileName, path: paths.config, kind: "config file")
        }

        let resolvedRegion =
            nonEmpty(region) ?? nonEmpty(environment["AWS_REGION"]) ?? nonEmpty(
                environment["AWS_DEFAULT_REGION"])
            ?? nonEmpty(settings["region"])
        let retry = try RetrySettings.resolve(environment: environment, profile: settings)
        return AWSConfiguration(
            profile: profileName, credentials: credentials, region: resolvedRegion, retry: retry,
            warnings: warnings,
            configFilePath: paths.config, credentialsFilePath: paths.credentials, environment: environment,
            profileSettings: settings,
            servicesSettings: settings["services"].map { config.services($0) } ?? [:])
    }

    /// The credentials, or an error telling how to get some.
    public func requireCredentials() throws -> AWSCredentials {
        guard let credentials else { throw AWSConfigurationError.noCredentials }
        return credentials
    }

    /// The region, or an error telling how to set one.
    public func requireRegion() throws -> String {
        guard let region else { throw AWSConfigurationError.noRegion }
        return region
    }

    /// True when the endpoint of `service` comes from configuration, not AWS's public default.
    public func configuredEndpoint(for service: AWSService) throws -> URL? {
        let ignore =
            Self.truthy(environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"])
            ?? Self.truthy(profileSettings["ignore_configured_endpoint_urls"]) ?? false
        if ignore { return nil }
        let candidates: [(String, String?)] = [
            (
                "AWS_ENDPOINT_URL_\(service.environmentSuffix)",
                environment["AWS_ENDPOINT_URL_\(service.environmentSuffix)"]
            ),
            ("AWS_ENDPOINT_URL", environment["AWS_ENDPOINT_URL"]),
            (
                "services.\(service.configKey).endpoint_url",
                servicesSettings[service.configKey]?["endpoint_url"]
            ),
            ("endpoint_url", profileSettings["endpoint_url"]),
        ]
        for (name, value) in candidates {
            guard let text = Self.nonEmpty(value) else { continue }
            guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme),
                url.host != nil
            else {
                throw AWSConfigurationError.badSetting(name: name, reason: "'\(text)' is not an http(s) URL")
            }
            return url
        }
        return nil
    }

    /// Where to send calls for `service`.
    public func endpoint(for service: AWSService) throws -> URL {
        if let configured = try configuredEndpoint(for: service) { return configured }
        return service.defaultEndpoint(region: try requireRegion())
    }

    /// The environment's `AWS_*` variables (nepho passes these to the daemon with each request).
    public static func providerVariables(_ environment: [String: String]) -> [String: String] {
        environment.filter { $0.key.hasPrefix("AWS_") }
    }

    /// Paths of the config and credentials files.
    public static func sharedFilePaths(environment: [String: String]) -> (config: String, credentials: String)
    {
        let home = nonEmpty(environment["HOME"]) ?? NSHomeDirectory()
        return (
            nonEmpty(environment["AWS_CONFIG_FILE"]).map(expandTilde(home)) ?? "\(home)/.aws/config",
            nonEmpty(environment["AWS_SHARED_CREDENTIALS_FILE"]).map(expandTilde(home))
                ?? "\(home)/.aws/credentials"
        )
    }

    private static func expandTilde(_ home: String) -> (String) -> String {
        { $0.hasPrefix("~/") ? home + $0.dropFirst() : $0 }
    }

    private static func keys(_ settings: [String: String], profile: String, path: String, kind: String) throws
        -> AWSCredentials
    {
        guard let keyId = nonEmpty(settings["aws_access_key_id"]) else {
            throw AWSConfigurationError.incompleteProfile(
                profile: profile, path: path, missing: "aws_access_key_id")
        }
        guard let secret = nonEmpty(settings["aws_secret_access_key"]) else {
            throw AWSConfigurationError.incompleteProfile(
                profile: profile, path: path, missing: "aws_secret_access_key")
        }
        return AWSCredentials(
            accessKeyId: keyId, secretAccessKey: Secret(secret),
            sessionToken: nonEmpty(settings["aws_session_token"]).map(Secret.init),
            source: "\(kind) \(path) (profile \(profile))")
    }

    private static func filePermissions(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int
    }

    static func nonEmpty(_ value: String?) -> String? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    static func truthy(_ value: String?) -> Bool? {
        guard let value = nonEmpty(value)?.lowercased() else { return nil }
        return value == "true" || value == "1" || value == "yes"
    }
}

extension AWSConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    // The environment it was resolved from holds secrets: never print or mirror it.
    public var description: String {
        "AWSConfiguration(profile: \(profile), region: \(region ?? "none"), credentials: \(credentials.map { $0.description } ?? "none"), retry: \(retry.mode.rawValue)/\(retry.maxAttempts))"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(
            self, children: ["profile": profile, "region": region as Any, "credentials": credentials as Any])
    }
}
