import Foundation
import NephoAWS
import Testing

/// Credentials, region, endpoint and retry settings resolve in the AWS SDKs' order.
@Suite struct AWSConfigurationTests {
    /// A temporary folder with a config and a credentials file.
    struct Files {
        let folder: URL
        var environment: [String: String]

        init(config: String = "", credentials: String = "", mode: Int = 0o600) throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "nepho-aws-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let configPath = folder.appendingPathComponent("config").path
            let credentialsPath = folder.appendingPathComponent("credentials").path
            try config.write(toFile: configPath, atomically: true, encoding: .utf8)
            try credentials.write(toFile: credentialsPath, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: credentialsPath)
            environment = [
                "HOME": folder.path, "AWS_CONFIG_FILE": configPath,
                "AWS_SHARED_CREDENTIALS_FILE": credentialsPath,
            ]
        }
    }

    static let credentialsFile = """
        [default]
        aws_access_key_id = AKIDDEFAULT
        aws_secret_access_key = default-secret

        [dev]
        aws_access_key_id = AKIDDEV
        aws_secret_access_key = dev-secret  # a comment
        aws_session_token = dev-token
        """
    static let configFile = """
        [default]
        region = eu-west-1

        [profile dev]
        region = ap-southeast-2
        services = local
        max_attempts = 7

        [profile onlyconfig]
        aws_access_key_id = AKIDCONFIG
        aws_secret_access_key = config-secret
        endpoint_url = http://127.0.0.1:9999

        [services local]
        cloudformation =
          endpoint_url = http://localhost:4566
        s3 =
          endpoint_url = http://localhost:4572
        """

    @Test func environmentKeysComeFirst() throws {
        var files = try Files(config: Self.configFile, credentials: Self.credentialsFile)
        files.environment["AWS_ACCESS_KEY_ID"] = "AKIDENV"
        files.environment["AWS_SECRET_ACCESS_KEY"] = "env-secret"
        files.environment["AWS_SESSION_TOKEN"] = "env-token"
        let configuration = try AWSConfiguration.resolve(environment: files.environment)
        #expect(configuration.credentials?.accessKeyId == "AKIDENV")
        #expect(configuration.credentials?.secretAccessKey.reveal() == "env-secret")
        #expect(configuration.credentials?.sessionToken?.reveal() == "env-token")
        #expect(configuration.credentials?.source == "environment")
        #expect(configuration.region == "eu-west-1")
    }

    @Test func profileFlagSkipsEnvironmentKeys() throws {
        var files = try Files(config: Self.configFile, credentials: Self.credentialsFile)
        files.environment["AWS_ACCESS_KEY_ID"] = "AKIDENV"
        files.environment["AWS_SECRET_ACCESS_KEY"] = "env-secret"
        let configuration = try AWSConfiguration.resolve(environment: files.environment, profile: "dev")
        #expect(configuration.credentials?.accessKeyId == "AKIDDEV")
        #expect(configuration.credentials?.secretAccessKey.reveal() == "dev-secret")
        #expect(configuration.credentials?.sessionToken?.reveal() == "dev-token")
        #expect(configuration.region == "ap-southeast-2")
        #expect(configuration.retry.maxAttempts == 7)
    }

    @Test func awsProfileVariableAndConfigFileKeys() throws {
        var files = try Files(config: Self.configFile, credentials: Self.credentialsFile)
        files.environment["AWS_PROFILE"] = "onlyconfig"
        files.environment["AWS_DEFAULT_REGION"] = "us-west-1"
        let configuration = try AWSConfiguration.resolve(environment: files.environment)
        #expect(configuration.credentials?.accessKeyId == "AKIDCONFIG")
        #expect(configuration.region == "us-west-1")
        #expect(try configuration.endpoint(for: .cloudFormation).absoluteString == "http://127.0.0.1:9999")
    }

    @Test func regionOrder() throws {
        var files = try Files(config: Self.configFile, credentials: Self.credentialsFile)
        files.environment["AWS_DEFAULT_REGION"] = "us-west-1"
        #expect(try AWSConfiguration.resolve(environment: files.environment).region == "us-west-1")
        files.environment["AWS_REGION"] = "us-east-2"
        #expect(try AWSConfiguration.resolve(environment: files.environment).region == "us-east-2")
        #expect(
            try AWSConfiguration.resolve(environment: files.environment, region: "sa-east-1").region
                == "sa-east-1")
    }

    @Test func endpointOrder() throws {
        var files = try Files(config: Self.configFile, credentials: Self.credentialsFile)
        let dev = try AWSConfiguration.resolve(environment: files.environment, profile: "dev")
        #expect(try dev.endpoint(for: .cloudFormation).absoluteString == "http://localhost:4566")
        #expect(try dev.endpoint(for: .s3).absoluteString == "http://localhost:4572")
        #expect(try dev.endpoint(for: .sts).absoluteString == "https://sts.ap-southeast-2.amazonaws.com")

        files.environment["AWS_ENDPOINT_URL"] = "http://127.0.0.1:1111"
        let global = try AWSConfiguration.resolve(environment: files.environment, profile: "dev")
        #expect(try global.endpoint(for: .cloudFormation).absoluteString == "http://127.0.0.1:1111")
        #expect(try global.endpoint(for: .sts).absoluteString == "http://127.0.0.1:1111")

        files.environment["AWS_ENDPOINT_URL_CLOUDFORMATION"] = "http://127.0.0.1:2222"
        let specific = try AWSConfiguration.resolve(environment: files.environment, profile: "dev")
        #expect(try specific.endpoint(for: .cloudFormation).absoluteString == "http://127.0.0.1:2222")
        #expect(try specific.endpoint(for: .s3).absoluteString == "http://127.0.0.1:1111")

        files.environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
        let ignored = try AWSConfiguration.resolve(environment: files.environment, profile: "dev")
        #expect(
            try ignored.endpoint(for: .cloudFormation).absoluteString
                == "https://cloudformation.ap-southeast-2.amazonaws.com")
        #expect(try ignored.configuredEndpoint(for: .s3) == nil)
    }

    @Test func badEndpointIsNamed() throws {
        var files = try Files()
        files.environment["AWS_ENDPOINT_URL_S3"] = "localhost:4566"
        files.environment["AWS_REGION"] = "us-east-1"
        let configuration = try AWSConfiguration.resolve(environment: files.environment)
        #expect(
            throws: AWSConfigurationError.badSetting(
                name: "AWS_ENDPOINT_URL_S3", reason: "'localhost:4566' is not an http(s) URL")
        ) {
            try configuration.endpoint(for: .s3)
        }
    }

    @Test func missingThingsSayWhatToDo() throws {
        let files = try Files()
        let configuration = try AWSConfiguration.resolve(environment: files.environment)
        #expect(configuration.credentials == nil)
        #expect(throws: AWSConfigurationError.noCredentials) { try configuration.requireCredentials() }
        #expect(throws: AWSConfigurationError.noRegion) { try configuration.requireRegion() }
        #expect(throws: AWSConfigurationError.profileNotFound("nope")) {
            try AWSConfiguration.resolve(environment: files.environment, profile: "nope")
        }
        #expect("\(AWSConfigurationError.noCredentials)".contains("nepho register"))
    }

    @Test func malformedFileNamesFileAndLine() throws {
        let files = try Files(config: "[default]\nregion = eu-west-1\nthis line has no equals\n")
        #expect(
            throws: AWSConfigurationError.malformedFile(
                path: files.environment["AWS_CONFIG_FILE"]!, line: 3, reason: "expected key = value")
        ) {
            try AWSConfiguration.resolve(environment: files.environment)
        }
    }

    @Test func credentialsFileReadableByOthersWarns() throws {
        let open = try Files(credentials: Self.credentialsFile, mode: 0o644)
        let warned = try AWSConfiguration.resolve(environment: open.environment)
        #expect(warned.warnings.count == 1)
        #expect(warned.warnings.first?.contains("chmod 600") == true)
        let closed = try Files(credentials: Self.credentialsFile, mode: 0o600)
        #expect(try AWSConfiguration.resolve(environment: closed.environment).warnings.isEmpty)
    }

    @Test func retrySettings() throws {
        var files = try Files()
        #expect(
            try AWSConfiguration.resolve(environment: files.environment).retry
                == RetrySettings(mode: .standard, maxAttempts: 3))
        files.environment["AWS_RETRY_MODE"] = "legacy"
        #expect(try AWSConfiguration.resolve(environment: files.environment).retry.maxAttempts == 5)
        files.environment["AWS_MAX_ATTEMPTS"] = "9"
        #expect(try AWSConfiguration.resolve(environment: files.environment).retry.maxAttempts == 9)
        files.environment["AWS_MAX_ATTEMPTS"] = "zero"
        #expect(throws: AWSConfigurationError.self) {
            try AWSConfiguration.resolve(environment: files.environment)
        }
    }

    @Test func secretsNeverPrint() throws {
        var files = try Files(credentials: Self.credentialsFile)
        files.environment["AWS_SECRET_ACCESS_KEY"] = "env-secret-value"
        files.environment["AWS_ACCESS_KEY_ID"] = "AKIDENV"
        files.environment["AWS_SESSION_TOKEN"] = "env-token-value"
        let configuration = try AWSConfiguration.resolve(environment: files.environment)
        var dumped = ""
        dump(configuration, to: &dumped)
        for text in [
            "\(configuration)", String(reflecting: configuration), dumped, "\(configuration.credentials!)",
        ] {
            #expect(!text.contains("env-secret-value"))
            #expect(!text.contains("env-token-value"))
        }
    }
}
