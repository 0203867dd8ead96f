import Crypto
import Foundation
import NephoHTTP
import NephoSupport

/// AWS Signature Version 4 over request headers.
///
/// Works on a `SigV4Request` whose path is the decoded path (as written in the request
/// line of AWS's test suite); the canonical form encodes it once with AWS's rules,
/// which is what the wire form of every nepho request is (CloudFormation's path is
/// `/`; S3 keys are encoded with `SigV4Signer.encode`). A session token is signed.
public struct SigV4Signer: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The parts of a request that take part in a signature.
    public struct SigV4Request: Sendable {
        public var method: String
        /// The decoded path, e.g. `/example space/`.
        public var path: String
        /// The query as sent, still percent-encoded, without `?`.
        public var query: String
        public var headers: [(name: String, value: String)]
        public var body: Data

        public init(
            method: String, path: String, query: String = "", headers: [(name: String, value: String)],
            body: Data = Data()
        ) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.body = body
        }
    }

    /// Intermediate results, for tests and for `AWSError` messages that must not carry them.
    public struct Signature: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
        /// Headers to add to the request: `X-Amz-Date`, the token, the content hash, `Authorization`.
        public var addedHeaders: [(name: String, value: String)]
    }

    /// Signs `request` at `date`. `signBody` adds `x-amz-content-sha256` (S3 needs it);
    /// `normalizePath` removes `.`/`..` segments and repeated slashes (every service but S3).
    public func sign(_ request: SigV4Request, date: Date, signBody: Bool = false, normalizePath: Bool = true)
        -> Signature
    {
        let stamp = Self.timestamp(date)
        let day = String(stamp.prefix(8))
        let payloadHash = Self.hex(SHA256.hash(data: request.body))
        var added: [(name: String, value: String)] = [("X-Amz-Date", stamp)]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token.reveal())) }
        if signBody { added.append(("x-amz-content-sha256", payloadHash)) }

        var grouped: [String: [String]] = [:]
        for (name, value) in request.headers + added {
            let key = name.lowercased()
            if Self.unsignedHeaders.contains(key) { continue }
            grouped[key, default: []].append(Self.canonicalValue(value))
        }
        let names = grouped.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(grouped[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let path = normalizePath ? Self.normalize(request.path) : request.path
        let canonicalRequest = [
            request.method.uppercased(),
            Self.encode(path, keepSlash: true),
            Self.canonicalQuery(request.query),
            canonicalHeaders,
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = Self.stringToSign(canonicalRequest: canonicalRequest, stamp: stamp, scope: scope)
        let signature = Self.signature(
            stringToSign, day: day, region: region, service: service, secretKey: credentials.secretAccessKey)
        added.append(
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope), "
                    + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
            ))
        return Signature(
            canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
            addedHeaders: added)
    }

    /// Signs an `HTTPRequest` in place (its `Host` header is set from the URL when missing).
    public func sign(
        _ request: inout HTTPRequest, date: Date = Date(), signBody: Bool = false, normalizePath: Bool = true
    ) {
        if request.header("Host") == nil { request.setHeader("Host", request.hostDescription) }
        let components = URLComponents(url: request.url, resolvingAgainstBaseURL: false)
        let path = components?.path ?? "/"
        let parts = SigV4Request(
            method: request.method, path: path.isEmpty ? "/" : path,
            query: components?.percentEncodedQuery ?? "",
            headers: request.headers, body: request.body)
        let signature = sign(parts, date: date, signBody: signBody, normalizePath: normalizePath)
        for (name, value) in signature.addedHeaders { request.setHeader(name, value) }
    }

    /// Headers never signed: they may change on the way (as botocore and aws-c-auth skip them).
    static let unsignedHeaders: Set<String> = [
        "authorization", "user-agent", "expect", "x-amzn-trace-id", "connection",
    ]

    /// `20150830T123600Z`.
    /// What is signed: the algorithm, the time, the scope and the canonical request's hash.
    static func stringToSign(canonicalRequest: String, stamp: String, scope: String) -> String {
        [
            "AWS4-HMAC-SHA256", stamp, scope, hex(SHA256.hash(data: Data(canonicalRequest.utf8))),
        ].joined(separator: "\n")
    }

    /// `stringToSign` signed with the key derived from the secret, day, region and service.
    static func signature(
        _ stringToSign: String, day: String, region: String, service: String, secretKey: Secret
    )
        -> String
    {
        var key = SymmetricKey(data: Data("AWS4\(secretKey.reveal())".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key))
    }

    public static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d%02d%02dT%02d%02d%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters (and `/` when asked).
    public static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs: [(String, String)] = query.split(separator: "&", omittingEmptySubsequences: true).map {
            item in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            return (encode(key), encode(value))
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Trims a header value and collapses runs of white space (folded lines too) into one space.
    static func canonicalValue(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(
            separator: " ")
    }

    /// Removes `.` and `..` segments and empty segments; keeps a trailing slash.
    static func normalize(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." {
                if !segments.isEmpty { segments.removeLast() }
                continue
            }
            segments.append(segment)
        }
        var result = "/" + segments.joined(separator: "/")
        if path.hasSuffix("/") && !segments.isEmpty { result += "/" }
        return result
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
