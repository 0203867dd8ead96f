import Foundation

/// The Resource Groups Tagging API, which finds resources by tag: nepho asks it for the
/// stacks tagged `CreatedBy=nepho`, so that listing them costs calls by the number of
/// nepho's stacks, not by every stack of the account (docs/aws.md, "Calls and quotas").
public struct TaggingClient: Sendable {
    public static let targetPrefix = "ResourceGroupsTaggingAPI_20170126"
    public var json: AWSJSONClient

    public init(json: AWSJSONClient) { self.json = json }

    /// The ARNs of resources of `type` (the API's form: `cloudformation:stack`) tagged
    /// `key` = `value`, with their tags; all pages.
    public func resources(type: String, key: String, value: String) async throws -> [(
        arn: String, tags: [String: String]
    )] {
        var result: [(arn: String, tags: [String: String])] = []
        var token: String?
        var seen: Set<String> = []
        repeat {
            var input: [String: Any] = [
                "TagFilters": [["Key": key, "Values": [value]]], "ResourceTypeFilters": [type],
                "ResourcesPerPage": 100,
            ]
            if let token { input["PaginationToken"] = token }
            let answer = try await json.call("GetResources", input)
            for mapping in answer["ResourceTagMappingList"] as? [[String: Any]] ?? [] {
                guard let arn = mapping["ResourceARN"] as? String else { continue }
                var tags: [String: String] = [:]
                for tag in mapping["Tags"] as? [[String: Any]] ?? [] {
                    if let key = tag["Key"] as? String { tags[key] = tag["Value"] as? String ?? "" }
                }
                result.append((arn, tags))
            }
            let next = (answer["PaginationToken"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            if let next, !seen.insert(next).inserted {
                throw AWSResponseError(
                    service: json.service.name, action: "GetResources",
                    reason: "the same page token came twice")
            }
            token = next
        } while token != nil
        return result
    }
}
