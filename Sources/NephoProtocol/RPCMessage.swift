import Foundation

/// One element of a received line: a request to run, or an error to send back at once.
public enum RPCCall: Sendable {
    /// A well-formed request; `body` is its JSON object, for decoding typed params.
    case request(RPCRequestHeader, body: Data)
    /// Not a valid request object; answered with `error` and `id` (null when unknown).
    case invalid(id: RPCID, error: RPCErrorObject)
}

/// A received line, classified per JSON-RPC 2.0 (section 6 for batches).
public enum RPCLine: Sendable {
    case single(RPCCall)
    case batch([RPCCall])
    /// Nothing to run; answer this error with id null (bad JSON, empty batch, a scalar).
    case failure(RPCErrorObject)
    /// A blank line: ignored.
    case empty
}

/// Reads lines into `RPCLine`s. Pure: no I/O.
public enum RPCMessageParser {
    public static func parse(_ line: [UInt8]) -> RPCLine {
        guard let first = line.first(where: { $0 != 32 && $0 != 9 && $0 != 13 }) else { return .empty }
        let data = Data(line)
        switch first {
        case UInt8(ascii: "{"):
            if let header = FastEnvelope.header(line) {
                if let problem = header.problem {
                    return .single(.invalid(id: header.id ?? .null, error: .invalidRequest(problem)))
                }
                return .single(.request(header, body: data))
            }
            return classify(data: data, asElement: false).map(RPCLine.single)
                ?? .failure(.parseError(describe(data)))
        case UInt8(ascii: "["):
            // JSONSerialization keeps the last of two members of one name: refuse those first.
            var ordered = OrderedJSONParser(bytes: line)
            if (try? ordered.parseDocument()) != nil, let duplicate = ordered.duplicateMember {
                return .failure(.invalidRequest("the member \"\(duplicate)\" appears twice in one object"))
            }
            let parsed: Any
            do {
                parsed = try JSONSerialization.jsonObject(with: data, options: [])
            } catch {
                return .failure(.parseError(describe(data)))
            }
            guard let elements = parsed as? [Any] else { return .failure(.parseError(describe(data))) }
            guard !elements.isEmpty else { return .failure(.invalidRequest("an empty batch")) }
            return .batch(
                elements.map { element in
                    guard element is [String: Any],
                        let body = try? JSONSerialization.data(withJSONObject: element, options: []),
                        let call = classify(data: body, asElement: true)
                    else {
                        return .invalid(
                            id: .null, error: .invalidRequest("a batch element must be an object"))
                    }
                    return call
                })
        default:
            if (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) != nil {
                return .failure(.invalidRequest("a message must be an object or a batch array"))
            }
            return .failure(.parseError(describe(data)))
        }
    }

    /// nil when `data` is not JSON at all.
    private static func classify(data: Data, asElement: Bool) -> RPCCall? {
        do {
            let header = try JSONDecoder().decode(RPCRequestHeader.self, from: data)
            if let problem = header.problem {
                return .invalid(id: header.id ?? .null, error: .invalidRequest(problem))
            }
            return .request(header, body: data)
        } catch DecodingError.typeMismatch {
            return .invalid(id: .null, error: .invalidRequest("a message must be an object"))
        } catch {
            return nil
        }
    }

    private static func describe(_ data: Data) -> String {
        "the line is not valid JSON (\(data.count) bytes)"
    }

    /// Decodes the typed params of a request body; failure is -32602.
    public static func params<P: Decodable>(_ type: P.Type, from body: Data) -> Result<P, RPCErrorObject> {
        // Nothing to read for methods without params (their shape was checked with the header).
        if let none = NoParams() as? P { return .success(none) }
        do {
            return .success(
                try OrderedJSONSource.decoder(for: body).decode(RPCParams<P>.self, from: body).params)
        } catch let error as DecodingError {
            // Only a failed decode looks for the cause JSONDecoder words as "not valid JSON":
            // a number too large for a double, named by its field.
            var scan = OrderedJSONParser(bytes: Array(body))
            if (try? scan.parseDocument()) != nil, let (path, text) = scan.outOfRange {
                return .failure(.invalidParams("\(path): the number \(text) is out of range"))
            }
            return .failure(.invalidParams(describe(error)))
        } catch {
            return .failure(.invalidParams("\(error)"))
        }
    }

    /// A decoding error as a short sentence naming the field.
    public static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "params" : keys.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context)): missing field \"\(key.stringValue)\""
        case .typeMismatch(let type, let context):
            return "\(path(context)): expected \(type)"
        case .valueNotFound(let type, let context):
            return "\(path(context)): expected \(type), found null"
        case .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
