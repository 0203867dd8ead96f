import Foundation

/// A method of the API whose answer is a stream (`API.formationFollow`): the request's
/// result names the stream (`{"stream":S}`), then `stream.item` notifications carry its
/// items in order and one `stream.end` ends it, with an error when it failed
/// (docs/protocol.md, "Streams"). Declared once, as a property of `APIMethods`; clients
/// read it with `NephoAPI.follow`, services answer it with `NephoService.stream`.
public struct APIStream<Params: Codable & Sendable, Item: Codable & Sendable>: WireMethod, Hashable {
    public typealias Result = StreamStarted
    public let name: String

    public init(_ name: String) { self.name = name }
}

/// The result of a stream's request: the number its notifications carry.
public struct StreamStarted: Codable, Sendable, Equatable {
    public var stream: Int
    public init(stream: Int) { self.stream = stream }
}

/// The `params` of a `stream.item` notification.
public struct StreamItem<Item: Codable & Sendable>: Codable, Sendable {
    public var stream: Int
    public var item: Item
    public init(stream: Int, item: Item) {
        self.stream = stream
        self.item = item
    }
}

/// The `params` of a `stream.end` notification: the stream is over, and why when it failed.
public struct StreamEnd: Codable, Sendable, Equatable {
    public var stream: Int
    public var error: RPCErrorObject?
    public init(stream: Int, error: RPCErrorObject? = nil) {
        self.stream = stream
        self.error = error
    }
}

/// An `APIStream` with its types hidden, for a router's table: `open` reads the params
/// from a request's JSON and has a service start the stream.
public struct AnyAPIStream: Sendable, CustomStringConvertible {
    public let name: String
    private let start:
        @Sendable (any NephoService, Data, ProviderContext?) throws -> AsyncThrowingStream<
            any Encodable & Sendable, Error
        >

    public init<Params, Item>(_ method: APIStream<Params, Item>) {
        name = method.name
        start = { service, body, context in
            let params = try RPCMessageParser.params(Params.self, from: body).get()
            let items = try service.stream(method, params, context: context)
            return AsyncThrowingStream { continuation in
                let task = Task {
                    do {
                        for try await item in items { continuation.yield(item) }
                        continuation.finish()
                    } catch {
                        continuation.finish(throwing: error)
                    }
                }
                continuation.onTermination = { _ in task.cancel() }
            }
        }
    }

    /// Decodes the params from `body` and has `service` start the stream. Throws
    /// `RPCErrorObject` for bad params, else what the service throws.
    public func open(_ service: any NephoService, body: Data, context: ProviderContext?) throws
        -> AsyncThrowingStream<any Encodable & Sendable, Error>
    {
        try start(service, body, context)
    }

    public var description: String { name }
}

/// Lets `APIMethods.streams` find the stream descriptors among its stored properties.
protocol ErasableAPIStream {
    var erasedStream: AnyAPIStream { get }
}

extension APIStream: ErasableAPIStream {
    var erasedStream: AnyAPIStream { AnyAPIStream(self) }
}

/// The streams of a service, one per `APIStream`, as `APIBindings` holds its methods.
public struct APIStreamBindings<Service: Sendable>: Sendable {
    public struct Binding: Sendable {
        let name: String
        let open: @Sendable (Service, any Sendable, ProviderContext?) throws -> any Sendable

        /// Answers `stream` with `body` (an unapplied method, `LocalAPI.formationFollow`).
        public static func bind<Params, Item>(
            _ stream: APIStream<Params, Item>,
            to body:
                @escaping @Sendable (Service) -> (Params, ProviderContext?) -> AsyncThrowingStream<
                    Item, Error
                >
        ) -> Binding {
            Binding(name: stream.name) { service, params, context in
                guard let params = params as? Params else {
                    throw NephoError(
                        .internalError,
                        "\(stream.name) was opened with \(type(of: params)), not \(Params.self)")
                }
                return body(service)(params, context)
            }
        }
    }

    private let table: [String: Binding]

    /// - Precondition: no stream is bound twice.
    public init(_ bindings: [Binding]) {
        table = Dictionary(bindings.map { ($0.name, $0) }) { first, _ in
            preconditionFailure("\(first.name) is bound twice")
        }
    }

    public var names: Set<String> { Set(table.keys) }

    /// Starts the binding of `stream` on `service`.
    public func open<Params, Item>(
        _ service: Service, _ stream: APIStream<Params, Item>, _ params: Params, context: ProviderContext?
    ) throws -> AsyncThrowingStream<Item, Error> {
        guard let binding = table[stream.name] else {
            throw RPCErrorObject.methodNotFound(stream.name).nephoError
        }
        guard let typed = try binding.open(service, params, context) as? AsyncThrowingStream<Item, Error>
        else {
            throw NephoError(.internalError, "the binding of \(stream.name) answered another stream")
        }
        return typed
    }
}
