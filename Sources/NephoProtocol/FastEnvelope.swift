import Foundation

/// The JSON-RPC envelope read and written by hand, around Foundation's coders for the
/// typed params and results: `JSONEncoder`/`JSONDecoder` cost about 10 µs per call each,
/// four times per round trip, which is most of a round trip's time. Same wire format.
public enum FastEnvelope {
    /// The request line (with its `\n`) for `method` with `params`.
    public static func request<P: Encodable>(id: Int64?, method: String, params: P) throws -> [UInt8] {
        var line = Array(#"{"jsonrpc":"2.0","#.utf8)
        if let id { line += Array(#""id":\#(id),"#.utf8) }
        line += Array(#""method":"#.utf8)
        line += quoted(method)
        line += Array(#","params":"#.utf8)
        line += params is NoParams ? Array("{}".utf8) : Array(try OrderedJSONSink.encode(params))
        line += Array("}\n".utf8)
        return line
    }

    /// A success response (without `\n`).
    public static func success<R: Encodable>(id: RPCID, result: R) throws -> [UInt8] {
        var line = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
        line += encode(id)
        line += Array(#","result":"#.utf8)
        line += result is NoParams ? Array("{}".utf8) : Array(try OrderedJSONSink.encode(result))
        line.append(UInt8(ascii: "}"))
        return line
    }

    /// The header of a request object, read without `JSONDecoder`; nil when the line is
    /// not a plain JSON object (the caller then takes the thorough path).
    public static func header(_ bytes: [UInt8]) -> RPCRequestHeader? {
        var parser = OrderedJSONParser(bytes: bytes)
        guard let root = try? parser.parseDocument(), case .object(let pairs) = root else { return nil }
        var header = RPCRequestHeader(pairs: pairs, idText: parser.topLevelNumbers["id"])
        if header.problem == nil, let duplicate = parser.duplicateMember {
            header.problem = "the member \"\(duplicate)\" appears twice in one object"
        }
        return header
    }

    /// What a client needs of a reply line before decoding a typed result.
    public struct Reply: Sendable {
        public var id: RPCID?
        public var method: String?
        public var error: RPCErrorObject?
        public var hasResult: Bool
    }

    /// Reads a reply's envelope; nil when it is not a JSON object.
    public static func reply(_ bytes: [UInt8]) -> Reply? {
        var parser = OrderedJSONParser(bytes: bytes)
        guard let root = try? parser.parseDocument(), case .object(let pairs) = root else { return nil }
        var reply = Reply(id: nil, method: nil, error: nil, hasResult: false)
        for (key, value) in pairs {
            switch (key, value) {
            case ("id", .number(let n)):
                reply.id = n == n.rounded() && abs(n) < 9e15 ? .int(Int64(n)) : .double(n)
            case ("id", .string(let s)): reply.id = .string(s)
            case ("id", .null): reply.id = .null
            case ("method", .string(let s)): reply.method = s
            case ("result", _): reply.hasResult = true
            case ("error", .object(let members)):
                var code = RPCErrorObject.internalErrorCode
                var message = ""
                var details: [String]?
                for (name, member) in members {
                    switch (name, member) {
                    case ("code", .number(let n)): code = Int(n)
                    case ("message", .string(let s)): message = s
                    case ("data", let data):
                        if case .array(let lines)? = data["details"] {
                            details = lines.compactMap { if case .string(let s) = $0 { s } else { nil } }
                        }
                    default: break
                    }
                }
                reply.error = RPCErrorObject(
                    code: code, message: message, data: details.map(RPCErrorData.init))
            default: break
            }
        }
        return reply
    }

    private static func encode(_ id: RPCID) -> [UInt8] {
        switch id {
        case .int(let n): return Array("\(n)".utf8)
        case .null: return Array("null".utf8)
        case .string(let s): return quoted(s)
        case .number(let text): return Array(text.utf8)
        case .double: return Array((try? JSONEncoder().encode(id)) ?? Data("null".utf8))
        }
    }

    private static func quoted(_ text: String) -> [UInt8] {
        var out = ""
        try? OrderedJSONSink.write(.string(text), into: &out)
        return Array(out.utf8)
    }
}

extension RPCRequestHeader {
    /// The header from an object's members, with the same checks as `init(from:)`.
    init(pairs: [(String, JSONValue)], idText: String? = nil) {
        paramsKind = .absent
        for (key, value) in pairs {
            switch key {
            case "jsonrpc": if case .string(let s) = value { jsonrpc = s } else { jsonrpc = nil }
            case "method": if case .string(let s) = value { method = s } else { method = nil }
            case "id":
                switch value {
                case .null: id = .null
                case .string(let s): id = .string(s)
                case .number(let n):
                    // From the text as written: a Double would round an id above 2^53.
                    if let text = idText {
                        id = Int64(text).map(RPCID.int) ?? .number(text)
                    } else {
                        id = n == n.rounded() && abs(n) < 9e15 ? .int(Int64(n)) : .double(n)
                    }
                default:
                    id = .null
                    problem = "\"id\" must be a string, a number or null"
                }
            case "params":
                switch value {
                case .object: paramsKind = .object
                case .array: paramsKind = .array
                default: paramsKind = .invalid
                }
            default: break
            }
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
}
