import Foundation

/// The EventBridge calls nepho makes when CloudFormation's events also come through a
/// rule on the default event bus (docs/aws.md, "Stack events", `NEPHO_EVENTS=eventbridge`).
public struct EventBridgeClient: Sendable {
    public static let targetPrefix = "AWSEvents"
    public var json: AWSJSONClient

    public init(json: AWSJSONClient) { self.json = json }

    /// Creates or updates a rule on the default bus; answers its ARN. PutRule is idempotent
    /// (tags are applied only when the rule is created).
    public func putRule(
        name: String, eventPattern: String, description: String, tags: [(String, String)] = []
    ) async throws -> String {
        var input: [String: Any] = [
            "Name": name, "EventPattern": eventPattern, "Description": description, "State": "ENABLED",
        ]
        if !tags.isEmpty { input["Tags"] = tags.map { ["Key": $0.0, "Value": $0.1] } }
        let answer = try await json.call("PutRule", input)
        guard let arn = answer["RuleArn"] as? String else {
            throw AWSResponseError(service: "events", action: "PutRule", reason: "no RuleArn")
        }
        return arn
    }

    /// Points the rule at `targets` (id, ARN); fails when EventBridge refused one.
    public func putTargets(rule: String, targets: [(id: String, arn: String)]) async throws {
        let answer = try await json.call(
            "PutTargets", ["Rule": rule, "Targets": targets.map { ["Id": $0.id, "Arn": $0.arn] }])
        if let failed = answer["FailedEntryCount"] as? Int, failed > 0 {
            let entry = (answer["FailedEntries"] as? [[String: Any]])?.first ?? [:]
            throw AWSError(
                service: "events", action: "PutTargets", httpStatus: 200,
                code: entry["ErrorCode"] as? String ?? "FailedEntry",
                message: entry["ErrorMessage"] as? String ?? "a target was refused", requestId: nil)
        }
    }

    /// The rule's ARN, state and pattern; nil when there is no such rule.
    public func describeRule(name: String) async throws -> (arn: String, state: String, pattern: String)? {
        do {
            let answer = try await json.call("DescribeRule", ["Name": name])
            return (
                answer["Arn"] as? String ?? "", answer["State"] as? String ?? "",
                answer["EventPattern"] as? String ?? ""
            )
        } catch let error as AWSError where error.code == "ResourceNotFoundException" {
            return nil
        }
    }

    /// The ARNs the rule targets, by target id.
    public func targets(rule: String) async throws -> [String: String] {
        let answer = try await json.call("ListTargetsByRule", ["Rule": rule])
        var found: [String: String] = [:]
        for target in answer["Targets"] as? [[String: Any]] ?? [] {
            if let id = target["Id"] as? String { found[id] = target["Arn"] as? String ?? "" }
        }
        return found
    }

    public func removeTargets(rule: String, ids: [String]) async throws {
        _ = try await json.call("RemoveTargets", ["Rule": rule, "Ids": ids])
    }

    public func deleteRule(name: String) async throws {
        _ = try await json.call("DeleteRule", ["Name": name])
    }
}
