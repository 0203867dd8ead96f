import Foundation
import NephoSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Test peer shared by the test targets: `Fixtures/registry/serve.py` (Python's http.server with ETag/304, an
/// optional 401 mode and TLS, or git's smart HTTP through `git http-backend`) on a free
/// loopback port, stopped by `stop()`.
public final class TestHTTPServer: @unchecked Sendable {
    public let process: ChildProcess
    public let port: Int
    public let log: URL
    public let certificate: URL?

    private init(process: ChildProcess, port: Int, log: URL, certificate: URL?) {
        self.process = process
        self.port = port
        self.log = log
        self.certificate = certificate
    }

    public static var fixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    public static func start(
        root: URL, tls: Bool = false, auth: Bool = false, cut: Bool = false, etag: Bool = true,
        git: Bool = false
    )
        async throws
        -> TestHTTPServer
    {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        let portFile = state.appendingPathComponent("port")
        let log = state.appendingPathComponent("requests.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        var arguments = [
            fixtures.appendingPathComponent("registry/serve.py").path, "--root", root.path, "--port-file",
            portFile.path, "--log", log.path,
        ]
        if auth { arguments.append("--auth") }
        if cut { arguments.append("--cut") }
        if !etag { arguments.append("--no-etag") }
        if git { arguments.append("--git") }
        var certificate: URL?
        if tls {
            let cert = state.appendingPathComponent("cert.pem")
            let key = state.appendingPathComponent("key.pem")
            _ = try await ProcessRunner.check(
                "openssl",
                [
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key.path, "-out", cert.path,
                ], timeout: 120)
            arguments += ["--tls", cert.path, key.path]
            certificate = cert
        }
        guard let python = ProcessRunner.resolve("python3") else { throw TestServerError.noPython }
        let process = try ChildProcess.spawn(
            path: python, arguments: arguments, environment: nil, currentDirectory: nil, captureInput: false)
        for _ in 0..<600 {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), let port = Int(text) {
                return TestHTTPServer(process: process, port: port, log: log, certificate: certificate)
            }
            if !process.isRunning { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        process.signal(SIGKILL)
        throw TestServerError.didNotStart
    }

    /// "METHOD PATH STATUS" for each request answered so far.
    public func requests() -> [String] {
        ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    public func stop() { process.signal(SIGKILL) }

    /// A server is never left running when a test ends early (a failed `try` before its
    /// `defer { stop() }`, or a replaced server).
    deinit { process.signal(SIGKILL) }
}

public enum TestServerError: Error { case noPython, didNotStart }
