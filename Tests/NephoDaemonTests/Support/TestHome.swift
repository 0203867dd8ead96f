import Foundation
import NephoSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A fresh NEPHO_HOME and XDG_RUNTIME_DIR for one test, removed at the end, and the
/// environment a `nepho` or `nephod` started by the test gets.
final class TestHome: @unchecked Sendable {
    let root: URL
    let home: URL
    let runtime: URL

    init() {
        // Short paths: a Unix socket path must fit in 108 bytes.
        root = URL(fileURLWithPath: "/tmp/nd-\(UUID().uuidString.prefix(8))", isDirectory: true)
        home = root.appendingPathComponent("home", isDirectory: true)
        runtime = root.appendingPathComponent("run", isDirectory: true)
        try! FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try! FileManager.default.createDirectory(at: runtime, withIntermediateDirectories: true)
        chmod(runtime.path, 0o700)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("AWS_") && !$0.key.hasPrefix("NEPHO") && !$0.key.hasPrefix("LISTEN_")
                && $0.key != "NOTIFY_SOCKET"
        }
        environment["NEPHO_HOME"] = home.path
        environment["XDG_RUNTIME_DIR"] = runtime.path
        environment["NO_COLOR"] = "1"
        environment["NEPHOD_PATH"] = Binaries.nephod
        // A daemon a failed test leaves behind exits on its own soon.
        environment["NEPHOD_IDLE_TIMEOUT"] = "30"
        return environment
    }

    var paths: NephoPaths { NephoPaths(environment: environment) }
    var socket: String { paths.socket.path }
    var logFile: String { home.appendingPathComponent("log/nephod.log").path }
    var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }
}

/// The `nepho` and `nephod` programs built beside the test bundle.
enum Binaries {
    static let folder: String = {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var folder = (me as NSString).deletingLastPathComponent
        while !folder.isEmpty && folder != "/" {
            if FileManager.default.isExecutableFile(atPath: folder + "/nephod") { return folder }
            folder = (folder as NSString).deletingLastPathComponent
        }
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return package.appendingPathComponent(".build/debug").path
    }()
    static var nepho: String { folder + "/nepho" }
    static var nephod: String { folder + "/nephod" }
}

/// Polls `condition` until it holds or `seconds` pass (generous: CI machines are loaded).
func eventually(_ seconds: Double = 30, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
    return try await condition()
}

/// True while a process with `pid` exists (and is not a zombie).
func processIsAlive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    guard let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}
