import Foundation
import NephoHTTP

/// Calls an AWS Query-protocol service (CloudFormation, STS): form-encoded POST, SigV4,
/// XML answers, standard-mode retries. Each attempt is signed anew; the parameters
/// (a ClientRequestToken among them) stay the same, so a retried call cannot act twice.
public struct AWSQueryClient: Sendable {
    public var service: AWSService
    public var apiVersion: String
    public var endpoint: URL
    public var region: String
    public var credentials: AWSCredentials
    public var http: any HTTPClient
    public var retry: RetryPolicy
    /// The clock signatures use.
    public var now: @Sendable () -> Date

    public init(
        service: AWSService, apiVersion: String, endpoint: URL, region: String, credentials: AWSCredentials,
        http: any HTTPClient, retry: RetryPolicy, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.service = service
        self.apiVersion = apiVersion
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.http = http
        self.retry = retry
        self.now = now
    }

    /// Calls `action` and returns the `<ActionResult>` element of the answer (the root
    /// when an answer has none, as for DeleteStack).
    public func call(_ action: String, _ parameters: [(String, String)]) async throws -> XMLElementNode {
        let body = Self.formBody([("Action", action), ("Version", apiVersion)] + parameters)
        let root = try await retry.run(
            { _ in try await attempt(action: action, body: body) },
            classify: { RetryPolicy.outcome($0) })
        return root.child("\(action)Result") ?? root
    }

    private func attempt(action: String, body: Data) async throws -> XMLElementNode {
        var request = HTTPRequest(method: "POST", url: Self.rootURL(endpoint), body: body)
        request.setHeader("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
        SigV4Signer(credentials: credentials, region: region, service: service.name).sign(
            &request, date: now())
        let response = try await http.send(request)
        guard (200..<300).contains(response.status) else {
            throw AWSError.from(
                response: response.status, body: response.body, headers: response.headers,
                service: service.name,
                action: action)
        }
        let root: XMLElementNode
        do {
            root = try XMLElementNode.parse(response.body)
        } catch {
            throw AWSResponseError(service: service.name, action: action, reason: "\(error)")
        }
        guard root.name == "\(action)Response" else {
            throw AWSResponseError(
                service: service.name, action: action,
                reason: "the answer is <\(root.name)>, not <\(action)Response>")
        }
        return root
    }

    /// `key=value&…` with AWS's percent-encoding.
    static func formBody(_ parameters: [(String, String)]) -> Data {
        Data(
            parameters.map { "\(SigV4Signer.encode($0.0))=\(SigV4Signer.encode($0.1))" }.joined(
                separator: "&"
            ).utf8)
    }

    /// The endpoint with path `/` when it has none.
    static func rootURL(_ endpoint: URL) -> URL {
        endpoint.path.isEmpty ? endpoint.appendingPathComponent("") : endpoint
    }
}
