import Foundation
import NephoAWS
import NephoSupport
import Testing

/// AWS's SigV4 test suite: its header-signing cases, kept in `Fixtures/aws-sigv4/` (its README
/// says where they come from and which were left out).
@Suite struct SigV4SuiteTests {
    static let suite = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/aws-sigv4")

    /// Cases that apply: header signing with the token signed (nepho always signs it).
    static var cases: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: suite.path)) ?? []
        return names.filter { name in
            guard let context = try? context(name) else { return false }
            return (context["omit_session_token"] as? Bool) != true
        }.sorted()
    }

    static func context(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: suite.appendingPathComponent("\(name)/context.json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static func text(_ name: String, _ file: String) throws -> String {
        try String(contentsOf: suite.appendingPathComponent("\(name)/\(file)"), encoding: .utf8)
    }

    /// Reads `request.txt`: request line, headers (indented lines continue a header), body.
    static func request(_ name: String) throws -> SigV4Signer.SigV4Request {
        let raw = try text(name, "request.txt")
        var lines = raw.components(separatedBy: "\n")
        let requestLine = lines.removeFirst()
        let method = String(requestLine.prefix { $0 != " " })
        let target = String(requestLine.dropFirst(method.count + 1).dropLast(" HTTP/1.1".count))
        var headers: [(name: String, value: String)] = []
        var bodyLines: [String] = []
        var inBody = false
        for line in lines {
            if inBody { bodyLines.append(line); continue }
            if line.isEmpty { inBody = true; continue }
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += "\n" + line
                continue
            }
            let colon = line.firstIndex(of: ":")!
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        let path: String
        let query: String
        if let mark = target.firstIndex(of: "?") {
            path = String(target[..<mark])
            query = String(target[target.index(after: mark)...])
        } else {
            path = target
            query = ""
        }
        return SigV4Signer.SigV4Request(
            method: method, path: path, query: query, headers: headers,
            body: Data(bodyLines.joined(separator: "\n").utf8))
    }

    @Test func suiteIsThere() {
        #expect(Self.cases.count == 37, "expected the suite's 37 cases at \(Self.suite.path)")
    }

    @Test(arguments: cases) func headerSigning(name: String) throws {
        let context = try Self.context(name)
        let keys = context["credentials"] as! [String: String]
        let credentials = AWSCredentials(
            accessKeyId: keys["access_key_id"]!, secretAccessKey: Secret(keys["secret_access_key"]!),
            sessionToken: keys["token"].map(Secret.init))
        let signer = SigV4Signer(
            credentials: credentials, region: context["region"] as! String,
            service: context["service"] as! String)
        let date = ISO8601DateFormatter().date(from: context["timestamp"] as! String)!
        let signature = signer.sign(
            try Self.request(name), date: date, signBody: context["sign_body"] as? Bool ?? false,
            normalizePath: context["normalize"] as? Bool ?? true)
        #expect(signature.canonicalRequest == (try Self.text(name, "header-canonical-request.txt")))
        #expect(signature.stringToSign == (try Self.text(name, "header-string-to-sign.txt")))
        #expect(
            signature.signature
                == (try Self.text(name, "header-signature.txt")).trimmingCharacters(
                    in: .whitespacesAndNewlines))
        let expected = try Self.text(name, "header-signed-request.txt")
        let authorization = signature.addedHeaders.first { $0.name == "Authorization" }!.value
        #expect(expected.contains("Authorization:\(authorization)\n"))
    }
}
