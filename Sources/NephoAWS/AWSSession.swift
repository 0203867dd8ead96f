import Foundation
import NephoHTTP

/// The CloudFormation, S3, STS, SNS and SQS clients for one configuration, sharing one HTTP
/// client (and its kept-alive connections) and one retry policy (and its quota).
public struct AWSSession: Sendable {
    public var configuration: AWSConfiguration
    public var http: any HTTPClient
    public var retry: RetryPolicy

    public init(
        configuration: AWSConfiguration, http: any HTTPClient = CurlHTTPClient(), retry: RetryPolicy? = nil
    ) {
        self.configuration = configuration
        self.http = http
        self.retry = retry ?? RetryPolicy(settings: configuration.retry)
    }

    public func cloudFormation() throws -> CloudFormationClient {
        try CloudFormationClient(configuration: configuration, http: http, retry: retry)
    }

    public func sts() throws -> STSClient {
        STSClient(
            query: AWSQueryClient(
                service: .sts, apiVersion: STSClient.apiVersion,
                endpoint: try configuration.endpoint(for: .sts),
                region: try configuration.requireRegion(),
                credentials: try configuration.requireCredentials(), http: http,
                retry: retry))
    }

    public func sns() throws -> SNSClient {
        SNSClient(query: try query(.sns, apiVersion: SNSClient.apiVersion))
    }

    public func sqs() throws -> SQSClient {
        SQSClient(query: try query(.sqs, apiVersion: SQSClient.apiVersion))
    }

    public func eventBridge() throws -> EventBridgeClient {
        EventBridgeClient(
            json: AWSJSONClient(
                service: .eventBridge, targetPrefix: EventBridgeClient.targetPrefix,
                endpoint: try configuration.endpoint(for: .eventBridge),
                region: try configuration.requireRegion(),
                credentials: try configuration.requireCredentials(), http: http, retry: retry))
    }

    public func tagging() throws -> TaggingClient {
        TaggingClient(
            json: AWSJSONClient(
                service: .tagging, targetPrefix: TaggingClient.targetPrefix,
                endpoint: try configuration.endpoint(for: .tagging),
                region: try configuration.requireRegion(),
                credentials: try configuration.requireCredentials(), http: http, retry: retry))
    }

    private func query(_ service: AWSService, apiVersion: String) throws -> AWSQueryClient {
        AWSQueryClient(
            service: service, apiVersion: apiVersion, endpoint: try configuration.endpoint(for: service),
            region: try configuration.requireRegion(), credentials: try configuration.requireCredentials(),
            http: http, retry: retry)
    }

    public func s3() throws -> S3Client {
        S3Client(
            endpoint: try configuration.configuredEndpoint(for: .s3),
            region: try configuration.requireRegion(),
            credentials: try configuration.requireCredentials(), http: http, retry: retry)
    }

    public func templateUploader() throws -> TemplateUploader {
        TemplateUploader(s3: try s3(), sts: try sts())
    }
}
