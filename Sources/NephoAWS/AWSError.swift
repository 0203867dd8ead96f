import Foundation

/// An error answer from an AWS service: its code, message and request id.
public struct AWSError: Error, Sendable, Equatable, CustomStringConvertible {
    public var service: String
    public var action: String
    public var httpStatus: Int
    public var code: String
    public var message: String
    public var requestId: String?

    public init(
        service: String, action: String, httpStatus: Int, code: String, message: String, requestId: String?
    ) {
        self.service = service
        self.action = action
        self.httpStatus = httpStatus
        self.code = code
        self.message = message
        self.requestId = requestId
    }

    /// True for throttling codes (see `RetryPolicy.throttlingCodes`).
    public var isThrottling: Bool { RetryPolicy.throttlingCodes.contains(code) }

    /// CloudFormation's "nothing to change" answer to UpdateStack.
    public var isNoUpdates: Bool {
        code == "ValidationError" && message.contains("No updates are to be performed")
    }

    /// "Stack … does not exist".
    public var isStackMissing: Bool { code == "ValidationError" && message.contains("does not exist") }

    public var description: String {
        "\(service) \(action) failed: \(code): \(message) (HTTP \(httpStatus)\(requestId.map { ", request id \($0)" } ?? ""))"
    }

    /// Reads an error document (Query API `ErrorResponse`, or S3's bare `Error`); a
    /// body that is not one becomes code `HTTP<status>`.
    static func from(
        response status: Int, body: Data, headers: [(name: String, value: String)], service: String,
        action: String
    )
        -> AWSError
    {
        let headerId = headers.first {
            ["x-amzn-requestid", "x-amz-request-id"].contains($0.name.lowercased())
        }?.value
        if let root = try? XMLElementNode.parse(body) {
            let error =
                root.name == "Error" ? root : (root.child("Error") ?? root.descendant("Errors", "Error"))
            if let error, let code = error.optionalText("Code") {
                let id =
                    root.optionalText("RequestId") ?? error.optionalText("RequestId")
                    ?? root.optionalText("RequestID")
                return AWSError(
                    service: service, action: action, httpStatus: status, code: code,
                    message: error.optionalText("Message") ?? "", requestId: id ?? headerId)
            }
        }
        return AWSError(
            service: service, action: action, httpStatus: status, code: "HTTP\(status)",
            message: "the service answered HTTP \(status) without an AWS error document",
            requestId: headerId)
    }
}

/// An answer that could not be understood (malformed or truncated XML, a missing element).
public struct AWSResponseError: Error, Sendable, CustomStringConvertible {
    public var service: String
    public var action: String
    public var reason: String

    public var description: String { "\(service) \(action): unreadable answer: \(reason)" }
}
