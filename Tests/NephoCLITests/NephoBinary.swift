import Foundation
import NephoSupport

/// Runs the real `nepho` executable built beside the test bundle, in a private
/// NEPHO_HOME, the way a person or a script would.
final class NephoBinary: @unchecked Sendable {
    let home: URL
    let runtime: URL
    var environment: [String: String]

    static var executable: String {
        if let path = ProcessInfo.processInfo.environment["NEPHO_BIN"] { return path }
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [here, here.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("nepho")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url.path }
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/nepho").path
    }

    /// The repository's root folder.
    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    init() {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nepho-cli-\(UUID().uuidString)")
        home = base.appendingPathComponent("home")
        runtime = base.appendingPathComponent("run")
        try! FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try! FileManager.default.createDirectory(at: runtime, withIntermediateDirectories: true)
        environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": base.path,
            "NEPHO_HOME": home.path,
            "XDG_RUNTIME_DIR": runtime.path,
            "LANG": "C.UTF-8",
            // A pushed build whose events do not come (the shared bench under a loaded suite)
            // is looked at after 10 s, not after the default 600 s (docs/daemon.md).
            "NEPHO_MONITOR_PUSH_CHECK_INTERVAL": "10",
            // Builds are polled in the CLI tests, which share benches under a loaded suite;
            // FormationEventPushTests turns push on for its own bench.
            "NEPHO_EVENTS": "poll",
        ]
    }

    deinit { try? FileManager.default.removeItem(at: home.deletingLastPathComponent()) }

    /// Runs `nepho ARGUMENTS` and returns its status and output.
    @discardableResult
    func run(_ arguments: [String], input: String? = nil, in folder: URL? = nil) async throws -> ProcessResult
    {
        try await ProcessRunner.run(
            Self.executable, arguments, environment: environment, currentDirectory: folder,
            input: input.map { Data($0.utf8) }, timeout: 60)
    }

    /// Writes files under NEPHO_HOME.
    func write(_ files: [String: String]) {
        for (path, text) in files {
            let url = home.appendingPathComponent(path)
            try! FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try! Data(text.utf8).write(to: url)
        }
    }

    /// Installs a small valid cloudlet named `name` into the default directory.
    func installDemo(_ name: String = "demo", version: String = "1.2.0") {
        write([
            "cloudlets/\(name)/cloudlet.yaml": """
            name: \(name)
            version: \(version)
            summary: a demo cloudlet
            description: Demonstrates things.
            project_page: https://example.com/\(name)
            source: https://example.com/\(name).git
            """,
            "cloudlets/\(name)/scenarios/default.yaml": """
            summary: a single host
            pattern: aws/host.cf
            parameters:
              KeyName:
                description: SSH key pair
            """,
            "cloudlets/\(name)/scenarios/multi-tenant.yaml": """
            summary: elastic scaling multi-tenant load-balanced service
            pattern: aws/host.cf
            parameters:
              KeyName: ops
            """,
            "cloudlets/\(name)/patterns/aws/host.cf": """
            Parameters:
              KeyName: {Type: String}
              Size: {Type: String, Default: small, AllowedValues: [small, large]}
              DBPassword: {Type: String, NoEcho: true, Default: hunter2}
            Resources:
              Bucket: {Type: "AWS::S3::Bucket"}
            """,
        ])
    }
}

/// The pid in a build's lock file once a live monitor (other than `previous`) holds it.
func waitForMonitor(_ lock: URL, not previous: pid_t?) async throws -> pid_t {
    for _ in 0..<600 {
        if let text = try? String(contentsOf: lock, encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid != previous,
            kill(pid, 0) == 0
        {
            return pid
        }
        try await Task.sleep(nanoseconds: 100_000_000)
    }
    throw CancellationError()
}
