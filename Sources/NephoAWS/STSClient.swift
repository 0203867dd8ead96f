import Foundation
import NephoHTTP

/// Who the credentials belong to, from STS GetCallerIdentity.
public struct CallerIdentity: Sendable, Equatable {
    public var account: String
    public var arn: String
    public var userId: String
}

/// The one STS call nepho makes: GetCallerIdentity, the cheapest check that keys work
/// (it needs no permission), and the source of the account id.
public struct STSClient: Sendable {
    public static let apiVersion = "2011-06-15"
    public var query: AWSQueryClient

    public init(query: AWSQueryClient) { self.query = query }

    public func getCallerIdentity() async throws -> CallerIdentity {
        let result = try await query.call("GetCallerIdentity", [])
        do {
            return CallerIdentity(
                account: try result.requiredText("Account"), arn: try result.requiredText("Arn"),
                userId: try result.requiredText("UserId"))
        } catch let error as XMLParseError {
            throw AWSResponseError(service: "sts", action: "GetCallerIdentity", reason: error.description)
        }
    }
}
