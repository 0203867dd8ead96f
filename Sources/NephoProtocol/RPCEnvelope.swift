import Foundation

/// A JSON-RPC 2.0 request id: a string, a number or null (echoed back unchanged).
public enum RPCID: Codable, Hashable, Sendable, CustomStringConvertible {
    case int(Int64)
    case double(Double)
    /// A number that is not an `Int64`, as the client wrote it: echoed verbatim, since a
    /// `Double` would change it (`9007199254740993` is not one; `1e400` is too large).
    case number(String)
    case string(String)
    case null

    public init(from decoder: Decoder) throws {
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let value = try? single.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? single.decode(Double.self) {
            self = .double(value)
        } else {
            self = .string(try single.decode(String.self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var single = encoder.singleValueContainer()
        switch self {
        case .int(let value): try single.encode(value)
        case .double(let value): try single.encode(value)
        case .number(let text): try single.encode(Decimal(string: text) ?? 0)
        case .string(let value): try single.encode(value)
        case .null: try single.encodeNil()
        }
    }

    public var description: String {
        switch self {
        case .int(let value): "\(value)"
        case .double(let value): "\(value)"
        case .number(let text): text
        case .string(let value): "\"\(value)\""
        case .null: "null"
        }
    }
}

/// The `error` member of a JSON-RPC response.
public struct RPCErrorObject: Codable, Sendable, Equatable, Error {
    public var code: Int
    public var message: String
    /// For nepho's own errors: `{"details": [...]}`.
    public var data: RPCErrorData?

    public init(code: Int, message: String, data: RPCErrorData? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    /// JSON-RPC 2.0's reserved codes.
    public static let parseErrorCode = -32700
    public static let invalidRequestCode = -32600
    public static let methodNotFoundCode = -32601
    public static let invalidParamsCode = -32602
    public static let internalErrorCode = -32603

    public static func parseError(_ message: String) -> RPCErrorObject {
        RPCErrorObject(code: parseErrorCode, message: "Parse error: \(message)")
    }
    public static func invalidRequest(_ message: String) -> RPCErrorObject {
        RPCErrorObject(code: invalidRequestCode, message: "Invalid Request: \(message)")
    }
    public static func methodNotFound(_ method: String) -> RPCErrorObject {
        RPCErrorObject(code: methodNotFoundCode, message: "Method not found: \(method)")
    }
    public static func invalidParams(_ message: String) -> RPCErrorObject {
        RPCErrorObject(code: invalidParamsCode, message: "Invalid params: \(message)")
    }
    public static func internalError(_ message: String) -> RPCErrorObject {
        RPCErrorObject(code: internalErrorCode, message: "Internal error: \(message)")
    }

    /// The wire form of a `NephoError`.
    public init(_ error: NephoError) {
        self.init(
            code: error.code.rawValue, message: error.message,
            data: error.details.isEmpty ? nil : RPCErrorData(details: error.details))
    }

    /// The error as the API's callers see it: a `NephoError` whatever the code.
    public var nephoError: NephoError {
        NephoError(NephoError.Code(rawValue: code), message, details: data?.details ?? [])
    }
}

/// Extra information carried by an error response.
public struct RPCErrorData: Codable, Sendable, Equatable {
    public var details: [String]
    public init(details: [String]) { self.details = details }
}

/// What the server reads of a request before it knows the method: the members other than
/// `params`, each checked against the spec without failing on a wrong type.
public struct RPCRequestHeader: Decodable, Sendable {
    public var jsonrpc: String? = nil
    public var method: String? = nil
    /// nil for a notification (no `id` member at all).
    public var id: RPCID? = nil
    /// Why this is not a valid request object, when it is not.
    public var problem: String? = nil
    public var paramsKind: ParamsKind

    public enum ParamsKind: Sendable { case absent, object, array, invalid }

    enum CodingKeys: String, CodingKey { case jsonrpc, method, id, params }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        jsonrpc = try? c.decode(String.self, forKey: .jsonrpc)
        method = try? c.decode(String.self, forKey: .method)
        if c.contains(.id) {
            if let value = try? c.decode(RPCID.self, forKey: .id) {
                id = value
            } else {
                id = .null
                problem = "\"id\" must be a string, a number or null"
            }
        }
        if !c.contains(.params) {
            paramsKind = .absent
        } else if (try? c.nestedContainer(keyedBy: CodingKeys.self, forKey: .params)) != nil {
            paramsKind = .object
        } else if (try? c.nestedUnkeyedContainer(forKey: .params)) != nil {
            paramsKind = .array
        } else {
            paramsKind = .invalid
        }
        if problem == nil {
            if jsonrpc != "2.0" {
                problem = "\"jsonrpc\" must be exactly \"2.0\""
            } else if method == nil {
                problem = "\"method\" must be a string"
            } else if paramsKind == .invalid {
                problem = "\"params\" must be an object or an array"
            }
        }
    }

    public var isNotification: Bool { id == nil }
}

/// Decodes the typed `params` of a request; an absent `params` reads as `{}`.
public struct RPCParams<P: Decodable>: Decodable {
    public var params: P

    enum CodingKeys: String, CodingKey { case params }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if c.contains(.params) {
            params = try c.decode(P.self, forKey: .params)
        } else {
            params = try JSONDecoder().decode(P.self, from: Data("{}".utf8))
        }
    }
}

/// A request as a client sends it; `id` nil makes it a notification.
public struct RPCRequest<P: Encodable>: Encodable {
    public var jsonrpc = "2.0"
    public var id: RPCID?
    public var method: String
    public var params: P

    public init(id: RPCID?, method: String, params: P) {
        self.id = id
        self.method = method
        self.params = params
    }

    enum CodingKeys: String, CodingKey { case jsonrpc, id, method, params }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(jsonrpc, forKey: .jsonrpc)
        if let id { try c.encode(id, forKey: .id) }
        try c.encode(method, forKey: .method)
        try c.encode(params, forKey: .params)
    }
}

/// A response: `result` on success, `error` on failure, never both.
public struct RPCResponse<R: Encodable>: Encodable {
    public var id: RPCID
    public var outcome: Result<R, RPCErrorObject>

    public init(id: RPCID, outcome: Result<R, RPCErrorObject>) {
        self.id = id
        self.outcome = outcome
    }

    enum CodingKeys: String, CodingKey { case jsonrpc, id, result, error }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("2.0", forKey: .jsonrpc)
        switch outcome {
        case .success(let value): try c.encode(value, forKey: .result)
        case .failure(let error): try c.encode(error, forKey: .error)
        }
        try c.encode(id, forKey: .id)
    }
}

/// What a client reads of any line from the server: a response (id + result or error)
/// or a notification (method + params).
public struct RPCIncoming<R: Decodable>: Decodable {
    public var id: RPCID?
    public var method: String?
    public var result: R?
    public var error: RPCErrorObject?
}

/// A notification as the server sends it.
public struct RPCNotification<P: Codable>: Codable {
    public var jsonrpc = "2.0"
    public var method: String
    public var params: P

    public init(method: String, params: P) {
        self.method = method
        self.params = params
    }
}
