import Foundation

/// An AWS service nepho calls: how its endpoint is configured and how it signs.
public struct AWSService: Sendable, Equatable {
    /// Signing name and host prefix, e.g. `cloudformation`.
    public var name: String
    /// Suffix of its endpoint variable, e.g. `CLOUDFORMATION` for `AWS_ENDPOINT_URL_CLOUDFORMATION`.
    public var environmentSuffix: String
    /// Key in a `[services]` config section, e.g. `cloudformation`.
    public var configKey: String

    public static let cloudFormation = AWSService(
        name: "cloudformation", environmentSuffix: "CLOUDFORMATION", configKey: "cloudformation")
    public static let s3 = AWSService(name: "s3", environmentSuffix: "S3", configKey: "s3")
    public static let sts = AWSService(name: "sts", environmentSuffix: "STS", configKey: "sts")
    public static let sns = AWSService(name: "sns", environmentSuffix: "SNS", configKey: "sns")
    public static let sqs = AWSService(name: "sqs", environmentSuffix: "SQS", configKey: "sqs")
    /// EventBridge: signing name and host prefix `events`; botocore's service id `EventBridge`
    /// (so `AWS_ENDPOINT_URL_EVENTBRIDGE`, `[services] eventbridge`).
    public static let eventBridge = AWSService(
        name: "events", environmentSuffix: "EVENTBRIDGE", configKey: "eventbridge")

    /// The Resource Groups Tagging API: signing name and host prefix `tagging`; botocore's
    /// service id `Resource Groups Tagging API` (so `AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API`,
    /// `[services] resource_groups_tagging_api`).
    public static let tagging = AWSService(
        name: "tagging", environmentSuffix: "RESOURCE_GROUPS_TAGGING_API",
        configKey: "resource_groups_tagging_api")

    /// The public endpoint in `region`.
    public func defaultEndpoint(region: String) -> URL {
        let domain = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return URL(string: "https://\(name).\(region).\(domain)")!
    }
}
