import Foundation
import NephoHTTP

/// Calls an AWS JSON-protocol service (EventBridge: `awsJson1_1`): a JSON body POSTed to
/// `/` with the operation in `X-Amz-Target`, SigV4, JSON answers, standard-mode retries.
public struct AWSJSONClient: Sendable {
    public var service: AWSService
    /// `X-Amz-Target` is `targetPrefix.Action` (EventBridge: `AWSEvents`).
    public var targetPrefix: String
    public var endpoint: URL
    public var region: String
    public var credentials: AWSCredentials
    public var http: any HTTPClient
    public var retry: RetryPolicy
    public var now: @Sendable () -> Date

    public init(
        service: AWSService, targetPrefix: String, endpoint: URL, region: String, credentials: AWSCredentials,
        http: any HTTPClient, retry: RetryPolicy, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.service = service
        self.targetPrefix = targetPrefix
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.http = http
        self.retry = retry
        self.now = now
    }

    /// Calls `action` with `input` (a JSON object) and returns the answer's object.
    public func call(_ action: String, _ input: [String: Any]) async throws -> [String: Any] {
        let body = try JSONSerialization.data(withJSONObject: input, options: [.sortedKeys])
        let data = try await retry.run(
            { _ in try await attempt(action: action, body: body) },
            classify: { RetryPolicy.outcome($0) })
        if data.isEmpty { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw AWSResponseError(
                service: service.name, action: action, reason: "the answer is not a JSON object")
        }
        return object
    }

    private func attempt(action: String, body: Data) async throws -> Data {
        var request = HTTPRequest(method: "POST", url: AWSQueryClient.rootURL(endpoint), body: body)
        request.setHeader("Content-Type", "application/x-amz-json-1.1")
        request.setHeader("X-Amz-Target", "\(targetPrefix).\(action)")
        SigV4Signer(credentials: credentials, region: region, service: service.name).sign(
            &request, date: now())
        let response = try await http.send(request)
        guard (200..<300).contains(response.status) else {
            throw Self.error(
                status: response.status, body: response.body, headers: response.headers,
                service: service.name,
                action: action)
        }
        return response.body
    }

    /// Reads a JSON error (`__type`, which may carry a `prefix#`, and `message`/`Message`),
    /// or the `x-amzn-ErrorType` header; anything else becomes code `HTTP<status>`.
    static func error(
        status: Int, body: Data, headers: [(name: String, value: String)], service: String, action: String
    ) -> AWSError {
        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name }?.value
        }
        let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
        let type =
            (object["__type"] as? String) ?? header("x-amzn-errortype")?.components(separatedBy: ":").first
        let message = (object["message"] as? String) ?? (object["Message"] as? String) ?? ""
        guard let type, !type.isEmpty else {
            return AWSError(
                service: service, action: action, httpStatus: status, code: "HTTP\(status)",
                message: "the service answered HTTP \(status) without an AWS error document",
                requestId: header("x-amzn-requestid"))
        }
        return AWSError(
            service: service, action: action, httpStatus: status,
            code: type.components(separatedBy: "#").last ?? type, message: message,
            requestId: header("x-amzn-requestid"))
    }
}
