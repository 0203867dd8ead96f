import Foundation
import Logging
import NephoDaemon
import NephoEngine
import NephoProtocol
import NephoStore
import NephoSupport

/// A `DaemonServer` serving the real `LocalAPI` over a real socket inside the test process,
/// for tests that need to reach into it (publish events, read its log).
final class InProcessDaemon: @unchecked Sendable {
    let home: TestHome
    let server: DaemonServer
    /// The home's state database, as a monitor writes to it.
    let store: StateStore
    let logs: MemoryLogHandler.Storage

    init(
        home: TestHome = TestHome(), maximumQueuedMessages: Int = 1024, maximumLineLength: Int = 4 << 20,
        inheritedListener: Int32? = nil, keepAliveInterval: Double = 5, handshakeTimeLimit: Double = 10,
        maximumConnections: Int = 256, followIdleLook: Double = 5
    ) throws {
        self.home = home
        let logs = MemoryLogHandler.Storage()
        self.logs = logs
        let logger = Logger(label: "nephod-test") { _ in MemoryLogHandler(storage: logs) }
        let configuration = DaemonConfiguration(
            paths: home.paths, origin: .manual, inheritedListener: inheritedListener,
            maximumQueuedMessages: maximumQueuedMessages, maximumLineLength: maximumLineLength,
            keepAliveInterval: keepAliveInterval, handshakeTimeLimit: handshakeTimeLimit,
            maximumConnections: maximumConnections)
        store = try StateStore(path: home.paths.database.path)
        server = DaemonServer(
            configuration: configuration, engine: LocalAPI(paths: home.paths, followIdleLook: followIdleLook),
            logger: logger)
        try server.start()
    }

    deinit { server.stop(reason: "test over") }

    func rawClient() async throws -> RawClient {
        let client = try RawClient(socket: home.socket)
        _ = await client.handshake(home: home.home.path)
        return client
    }
}

/// A swift-log handler that keeps every message, for asserting on what nephod logs.
struct MemoryLogHandler: LogHandler {
    final class Storage: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
        var text: String { all.joined(separator: "\n") }
    }

    let storage: Storage
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        storage.append(
            "\(event.level) \(event.message) \(merged.map { "\($0)=\($1)" }.sorted().joined(separator: " "))")
    }
}
