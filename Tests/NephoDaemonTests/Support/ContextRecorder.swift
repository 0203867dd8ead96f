import Foundation
import Logging
import NephoDaemon
import NephoEngine
import NephoProtocol

/// A test double of the engine for the one thing no real peer shows: which provider
/// context a request reached the engine with. It records the `context` of each call and
/// forwards it to `LocalAPI`.
final class ContextRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: (method: String, context: ProviderContext?)?
    /// The last call's method name and context.
    var last: (method: String, context: ProviderContext?)? { lock.withLock { recorded } }
    var seen: ProviderContext? { last?.context }

    func serve(home: TestHome) throws -> DaemonServer {
        let server = DaemonServer(
            configuration: DaemonConfiguration(paths: home.paths),
            engine: Engine(recorder: self, local: LocalAPI(paths: home.paths)), logger: Logger(label: "test"))
        try server.start()
        return server
    }

    /// Every method, one generic forwarder.
    struct Engine: NephoService {
        let recorder: ContextRecorder
        let local: LocalAPI

        func handle<Params, Result>(
            _ method: APIMethod<Params, Result>, _ params: Params, context: ProviderContext?
        ) async throws -> Result {
            recorder.lock.withLock { recorder.recorded = (method.name, context) }
            return try await local.handle(method, params, context: context)
        }

        func stream<Params, Item>(
            _ stream: APIStream<Params, Item>, _ params: Params, context: ProviderContext?
        ) throws -> AsyncThrowingStream<Item, Error> {
            recorder.lock.withLock { recorder.recorded = (stream.name, context) }
            return try local.stream(stream, params, context: context)
        }
    }
}
