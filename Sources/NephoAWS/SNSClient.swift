import Foundation

/// A subscription of an SNS topic (ListSubscriptionsByTopic).
public struct SNSSubscription: Sendable, Equatable {
    public var subscriptionArn: String
    public var topicArn: String
    public var `protocol`: String
    public var endpoint: String
}

/// The SNS calls nepho makes for pushed stack events (Query API 2010-03-31): the topic
/// CloudFormation notifies, and the subscription of a nanny's queue to it.
public struct SNSClient: Sendable {
    public static let apiVersion = "2010-03-31"
    public var query: AWSQueryClient

    public init(query: AWSQueryClient) { self.query = query }

    /// Creates the topic, or returns the one of that name (CreateTopic is idempotent
    /// while the attributes and tags are the same).
    public func createTopic(name: String, tags: [(String, String)] = []) async throws -> String {
        var parameters = [("Name", name)]
        for (index, tag) in tags.enumerated() {
            parameters += [
                ("Tags.member.\(index + 1).Key", tag.0), ("Tags.member.\(index + 1).Value", tag.1),
            ]
        }
        let result = try await query.call("CreateTopic", parameters)
        return try decode("CreateTopic") { try result.requiredText("TopicArn") }
    }

    public func deleteTopic(arn: String) async throws {
        _ = try await query.call("DeleteTopic", [("TopicArn", arn)])
    }

    /// The topic's attributes (`Owner`, `Policy`, `SubscriptionsConfirmed`, …); fails with
    /// `NotFound` when there is no such topic.
    public func topicAttributes(arn: String) async throws -> [String: String] {
        let result = try await query.call("GetTopicAttributes", [("TopicArn", arn)])
        var attributes: [String: String] = [:]
        for entry in result.child("Attributes")?.children("entry") ?? [] {
            if let key = entry.optionalText("key") { attributes[key] = entry.optionalText("value") ?? "" }
        }
        return attributes
    }

    /// Subscribes `endpoint` (for SQS, the queue's ARN); answers the subscription's ARN.
    /// Subscribing the same endpoint again returns the existing subscription.
    public func subscribe(topicArn: String, protocol: String, endpoint: String) async throws -> String {
        let result = try await query.call(
            "Subscribe",
            [
                ("TopicArn", topicArn), ("Protocol", `protocol`), ("Endpoint", endpoint),
                ("ReturnSubscriptionArn", "true"),
            ])
        return try decode("Subscribe") { try result.requiredText("SubscriptionArn") }
    }

    public func unsubscribe(subscriptionArn: String) async throws {
        _ = try await query.call("Unsubscribe", [("SubscriptionArn", subscriptionArn)])
    }

    /// Every subscription of the topic, following `NextToken` to the end.
    public func subscriptions(topicArn: String) async throws -> [SNSSubscription] {
        var found: [SNSSubscription] = []
        var token: String?
        repeat {
            var parameters = [("TopicArn", topicArn)]
            if let token { parameters.append(("NextToken", token)) }
            let result = try await query.call("ListSubscriptionsByTopic", parameters)
            found += try decode("ListSubscriptionsByTopic") {
                try result.members("Subscriptions").map {
                    SNSSubscription(
                        subscriptionArn: try $0.requiredText("SubscriptionArn"),
                        topicArn: try $0.requiredText("TopicArn"), protocol: try $0.requiredText("Protocol"),
                        endpoint: try $0.requiredText("Endpoint"))
                }
            }
            let next = result.optionalText("NextToken").flatMap { $0.isEmpty ? nil : $0 }
            if let next, next == token {
                throw AWSResponseError(
                    service: "sns", action: "ListSubscriptionsByTopic", reason: "the same NextToken twice")
            }
            token = next
        } while token != nil
        return found
    }

    private func decode<T>(_ action: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as XMLParseError {
            throw AWSResponseError(service: "sns", action: action, reason: error.description)
        }
    }
}
