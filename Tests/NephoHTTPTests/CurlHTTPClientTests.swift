import Crypto
import Foundation
import NephoHTTP
import NephoSupport
import NephoTestBench
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The libcurl client against a real server on loopback (the bench's proxy), with its
/// faults standing in for broken networks.
@Suite(.serialized) struct CurlHTTPClientTests {
    static let benches = SharedCloudFormationBench()

    struct Echo: Decodable {
        var method: String
        var headers: [[String]]
        var body_length: Int
        var body_sha256: String
        func header(_ name: String) -> String? {
            headers.first { $0[0].lowercased() == name.lowercased() }?[1]
        }
    }

    func bench() async throws -> CloudFormationBench {
        let bench = try await Self.benches.bench()
        try await bench.reset()
        return bench
    }

    func url(_ bench: CloudFormationBench, _ path: String) -> URL {
        URL(string: bench.endpoint.absoluteString + path)!
    }

    @Test(arguments: ["GET", "POST", "PUT", "DELETE"]) func methodsHeadersAndBodiesArrive(method: String)
        async throws
    {
        let bench = try await bench()
        let body =
            method == "GET" || method == "DELETE" ? Data() : Data((0..<1_500_000).map { UInt8($0 % 251) })
        let request = HTTPRequest(
            method: method, url: url(bench, "/_echo"),
            headers: [("X-Nepho", "one  two"), ("Content-Type", "application/x-test")],
            body: body)
        let response = try await CurlHTTPClient().send(request)
        #expect(response.status == 200)
        #expect(response.header("x-echo") == "yes")
        let echo = try JSONDecoder().decode(Echo.self, from: response.body)
        #expect(echo.method == method)
        #expect(echo.header("X-Nepho") == "one  two")
        #expect(echo.body_length == body.count)
        #expect(echo.body_sha256 == SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined())
        #expect(echo.header("Expect") == nil, "no 100-continue round trip")
    }

    @Test func headHasNoBody() async throws {
        let bench = try await bench()
        let response = try await CurlHTTPClient().send(
            HTTPRequest(method: "HEAD", url: url(bench, "/_bytes?n=100")))
        #expect(response.status == 200)
        #expect(response.body.isEmpty)
    }

    @Test func responseBodiesAreBounded() async throws {
        let bench = try await bench()
        let client = CurlHTTPClient(limits: HTTPLimits(maxResponseBytes: 1000))
        #expect(
            try await client.send(HTTPRequest(method: "GET", url: url(bench, "/_bytes?n=1000"))).body.count
                == 1000)
        let error = await #expect(throws: HTTPError.self) {
            try await client.send(HTTPRequest(method: "GET", url: url(bench, "/_bytes?n=100000")))
        }
        #expect(error?.kind == .tooLarge)
        #expect(error?.host == "127.0.0.1:\(bench.endpoint.port!)")
    }

    @Test func requestBodiesAreBounded() async throws {
        let bench = try await bench()
        let client = CurlHTTPClient(limits: HTTPLimits(maxRequestBytes: 10))
        let error = await #expect(throws: HTTPError.self) {
            try await client.send(
                HTTPRequest(method: "POST", url: url(bench, "/_echo"), body: Data(count: 11)))
        }
        #expect(error?.kind == .tooLarge)
    }

    @Test func refusedConnectionNamesTheHost() async throws {
        let port = try #require(LoopbackPort.free(), "a loopback port nobody listens on")
        let error = await #expect(throws: HTTPError.self) {
            try await CurlHTTPClient().send(
                HTTPRequest(method: "GET", url: URL(string: "http://127.0.0.1:\(port)/")!))
        }
        #expect(error?.kind == .connect)
        #expect(error?.isTransient == true)
        #expect(error?.description.contains("127.0.0.1:\(port)") == true)
    }

    @Test func resetConnectionIsLostNotSecret() async throws {
        let bench = try await bench()
        try await bench.inject(.reset, into: "*", times: 1, pathPrefix: "/_echo")
        let request = HTTPRequest(
            method: "POST", url: url(bench, "/_echo?X-Amz-Signature=query-secret"),
            headers: [("Authorization", "AWS4-HMAC-SHA256 Credential=AKID, Signature=header-secret")],
            body: Data("body-secret".utf8))
        let error = await #expect(throws: HTTPError.self) { try await CurlHTTPClient().send(request) }
        #expect(error?.kind == .connectionLost)
        for secret in ["query-secret", "header-secret", "body-secret"] {
            #expect(error?.description.contains(secret) == false)
        }
    }

    @Test func hangingServerTimesOut() async throws {
        let bench = try await bench()
        try await bench.inject(.hang(seconds: 60), into: "*", times: 1, pathPrefix: "/_echo")
        let client = CurlHTTPClient(limits: HTTPLimits(connectTimeout: 5, totalTimeout: 1))
        let error = await #expect(throws: HTTPError.self) {
            try await client.send(HTTPRequest(method: "GET", url: url(bench, "/_echo")))
        }
        #expect(error?.kind == .timeout)
    }

    @Test func cancellingTheTaskStopsTheRequest() async throws {
        let bench = try await bench()
        try await bench.inject(.hang(seconds: 60), into: "*", times: 1, pathPrefix: "/_echo")
        let client = CurlHTTPClient(limits: HTTPLimits(connectTimeout: 5, totalTimeout: 120))
        let task = Task { try await client.send(HTTPRequest(method: "GET", url: url(bench, "/_echo"))) }
        try await Task.sleep(nanoseconds: 300_000_000)
        task.cancel()
        let outcome = await task.result
        guard case .failure(let error as HTTPError) = outcome else {
            Issue.record("expected a cancelled request, got \(outcome)")
            return
        }
        #expect(error.kind == .cancelled)
    }

    @Test func tlsIsVerified() async throws {
        let bench = try await bench()
        // A plain-HTTP server spoken to over https: the handshake fails, and is not ignored.
        let error = await #expect(throws: HTTPError.self) {
            try await CurlHTTPClient().send(
                HTTPRequest(
                    method: "GET", url: URL(string: "https://127.0.0.1:\(bench.endpoint.port!)/_echo")!))
        }
        #expect(error?.kind == .tls)
    }

    @Test func otherSchemesAreRefused() async throws {
        await #expect(throws: HTTPError.self) {
            try await CurlHTTPClient().send(
                HTTPRequest(method: "GET", url: URL(fileURLWithPath: "/etc/hostname")))
        }
    }
}
