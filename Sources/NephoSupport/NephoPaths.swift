import Foundation

/// Where nepho keeps its files, resolved once from an environment.
///
/// `NEPHO_HOME` (default `~/.nepho`) holds cloudlets, `config.yaml`, `params.yaml`,
/// `state.db` and the cache. The daemon socket lives under `$XDG_RUNTIME_DIR/nepho`
/// and falls back to `$NEPHO_HOME/run` when no runtime folder is set.
public struct NephoPaths: Sendable, Equatable {
    public var home: URL
    public var runtimeDirectory: URL

    public init(home: URL, runtimeDirectory: URL) {
        self.home = home
        self.runtimeDirectory = runtimeDirectory
    }

    /// Reads `NEPHO_HOME`, `HOME` and `XDG_RUNTIME_DIR` from `environment`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let userHome = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        if let explicit = environment["NEPHO_HOME"], !explicit.isEmpty {
            home = URL(fileURLWithPath: explicit, isDirectory: true).standardizedFileURL
        } else {
            home = URL(fileURLWithPath: userHome, isDirectory: true).appendingPathComponent(".nepho")
        }
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            runtimeDirectory = URL(fileURLWithPath: runtime, isDirectory: true)
                .appendingPathComponent("nepho")
        } else {
            runtimeDirectory = home.appendingPathComponent("run")
        }
    }

    /// The default cloudlet directory, `$NEPHO_HOME/cloudlets`.
    public var cloudlets: URL { home.appendingPathComponent("cloudlets", isDirectory: true) }
    /// User configuration: extra cloudlet directories, registries.
    public var config: URL { home.appendingPathComponent("config.yaml") }
    /// The user layer of parameters.
    public var userParameters: URL { home.appendingPathComponent("params.yaml") }
    /// The SQLite state database.
    public var database: URL { home.appendingPathComponent("state.db") }
    /// Downloaded registry indexes and other caches.
    public var cache: URL { home.appendingPathComponent("cache", isDirectory: true) }
    /// The daemon's Unix socket.
    public var socket: URL { runtimeDirectory.appendingPathComponent("nephod.sock") }
}
