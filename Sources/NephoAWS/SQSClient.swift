import Foundation

/// One message of an SQS queue, as ReceiveMessage hands it out.
public struct SQSMessage: Sendable, Equatable {
    public var messageId: String
    /// What DeleteMessage takes; a new one with each delivery of the message.
    public var receiptHandle: String
    public var body: String
    /// How many times the queue has handed it out (`ApproximateReceiveCount`), 1 the first time.
    public var receiveCount: Int

    public init(messageId: String, receiptHandle: String, body: String, receiveCount: Int) {
        self.messageId = messageId
        self.receiptHandle = receiptHandle
        self.body = body
        self.receiveCount = receiveCount
    }
}

/// The SQS calls nepho makes for pushed stack events (Query API 2012-11-05, which SQS
/// still answers beside its JSON protocol): a nanny's queue, its policy, long polls,
/// deletes.
public struct SQSClient: Sendable {
    public static let apiVersion = "2012-11-05"
    /// The longest long poll SQS allows.
    public static let longestWait = 20
    public var query: AWSQueryClient

    public init(query: AWSQueryClient) { self.query = query }

    /// Creates the queue, or returns the one of that name when its attributes are the same.
    public func createQueue(name: String, attributes: [String: String] = [:], tags: [String: String] = [:])
        async throws -> String
    {
        var parameters = [("QueueName", name)]
        for (index, key) in attributes.keys.sorted().enumerated() {
            parameters += [
                ("Attribute.\(index + 1).Name", key), ("Attribute.\(index + 1).Value", attributes[key]!),
            ]
        }
        for (index, key) in tags.keys.sorted().enumerated() {
            parameters += [("Tag.\(index + 1).Key", key), ("Tag.\(index + 1).Value", tags[key]!)]
        }
        let result = try await query.call("CreateQueue", parameters)
        return try decode("CreateQueue") { try result.requiredText("QueueUrl") }
    }

    /// The queue's URL, or nil when there is no queue of that name.
    public func queueURL(name: String) async throws -> String? {
        do {
            let result = try await query.call("GetQueueUrl", [("QueueName", name)])
            return try decode("GetQueueUrl") { try result.requiredText("QueueUrl") }
        } catch let error as AWSError where Self.isMissingQueue(error) {
            return nil
        }
    }

    public func queueAttributes(url: String, names: [String] = ["All"]) async throws -> [String: String] {
        var parameters = [("QueueUrl", url)]
        for (index, name) in names.enumerated() { parameters.append(("AttributeName.\(index + 1)", name)) }
        let result = try await query.call("GetQueueAttributes", parameters)
        return try decode("GetQueueAttributes") {
            var attributes: [String: String] = [:]
            for node in result.children("Attribute") {
                attributes[try node.requiredText("Name")] = node.optionalText("Value") ?? ""
            }
            return attributes
        }
    }

    public func setQueueAttributes(url: String, _ attributes: [String: String]) async throws {
        var parameters = [("QueueUrl", url)]
        for (index, key) in attributes.keys.sorted().enumerated() {
            parameters += [
                ("Attribute.\(index + 1).Name", key), ("Attribute.\(index + 1).Value", attributes[key]!),
            ]
        }
        _ = try await query.call("SetQueueAttributes", parameters)
    }

    /// Up to `maximum` (at most 10) messages, waiting up to `waitSeconds` (at most 20) for
    /// the first: a long poll answers as soon as one arrives.
    /// `visibilityTimeout`: seconds a received message stays hidden from other receives
    /// (the queue's own setting when nil); one not deleted by then is handed out again.
    public func receiveMessages(
        url: String, maximum: Int = 10, waitSeconds: Int = longestWait, visibilityTimeout: Int? = nil
    ) async throws -> [SQSMessage] {
        var parameters = [
            ("QueueUrl", url), ("MaxNumberOfMessages", String(min(max(maximum, 1), 10))),
            ("WaitTimeSeconds", String(min(max(waitSeconds, 0), Self.longestWait))),
            ("AttributeName.1", "ApproximateReceiveCount"),
        ]
        if let visibilityTimeout { parameters.append(("VisibilityTimeout", String(visibilityTimeout))) }
        let result = try await query.call("ReceiveMessage", parameters)
        return try decode("ReceiveMessage") {
            try result.children("Message").map { node in
                var count = 1
                for attribute in node.children("Attribute")
                where attribute.optionalText("Name") == "ApproximateReceiveCount" {
                    count = Int(attribute.optionalText("Value") ?? "") ?? 1
                }
                return SQSMessage(
                    messageId: try node.requiredText("MessageId"),
                    receiptHandle: try node.requiredText("ReceiptHandle"),
                    body: node.optionalText("Body") ?? "", receiveCount: count)
            }
        }
    }

    public func deleteMessage(url: String, receiptHandle: String) async throws {
        _ = try await query.call("DeleteMessage", [("QueueUrl", url), ("ReceiptHandle", receiptHandle)])
    }

    public func deleteQueue(url: String) async throws {
        _ = try await query.call("DeleteQueue", [("QueueUrl", url)])
    }

    /// SQS's "no such queue", in either protocol's spelling.
    public static func isMissingQueue(_ error: AWSError) -> Bool {
        ["AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "NonExistentQueue"].contains(
            error.code)
    }

    private func decode<T>(_ action: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as XMLParseError {
            throw AWSResponseError(service: "sqs", action: action, reason: error.description)
        }
    }
}
