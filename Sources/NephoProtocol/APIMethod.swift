import Foundation

/// A method as it goes over the wire: its name and the types of its params and result.
/// `APIMethod` (answered by the engine) and `DaemonMethod` (answered by nephod itself)
/// are the two kinds; a client can send either.
public protocol WireMethod: Sendable {
    associatedtype Params: Codable & Sendable
    associatedtype Result: Codable & Sendable
    /// The JSON-RPC `method` member, `noun.verb`.
    var name: String { get }
}

/// A method of the nepho API: a value naming the method and fixing its params and result
/// types. Every one is declared once, as a property of `APIMethods` (`API.cloudletList`);
/// clients call it with `NephoAPI.call`, services answer it with `NephoService.handle`.
public struct APIMethod<Params: Codable & Sendable, Result: Codable & Sendable>: WireMethod, Hashable {
    public let name: String

    public init(_ name: String) { self.name = name }
}

/// A method nephod answers itself (the handshake, daemon control, event streaming), not
/// the engine. Declared in `DaemonRPC`.
public struct DaemonMethod<Params: Codable & Sendable, Result: Codable & Sendable>: WireMethod, Hashable {
    public let name: String

    public init(_ name: String) { self.name = name }
}

/// An `APIMethod` with its types hidden, so that a router can hold every method in one
/// table: `serve` reads the params from a request's JSON, asks a service, and returns the
/// result to encode. `API.all` lists one for each declared method.
public struct AnyAPIMethod: Sendable, CustomStringConvertible {
    public let name: String
    private let invoke:
        @Sendable (any NephoService, Data, ProviderContext?) async throws -> any Encodable & Sendable

    public init<Params, Result>(_ method: APIMethod<Params, Result>) {
        name = method.name
        invoke = { service, body, context in
            let params = try RPCMessageParser.params(Params.self, from: body).get()
            return try await service.handle(method, params, context: context)
        }
    }

    /// Decodes the params from `body` (a request line, see `RPCMessageParser.params`) and
    /// has `service` answer. Throws `RPCErrorObject` for bad params, else what the
    /// service throws.
    public func serve(_ service: any NephoService, body: Data, context: ProviderContext?) async throws
        -> any Encodable & Sendable
    {
        try await invoke(service, body, context)
    }

    public var description: String { name }
}

extension APIMethod {
    /// This method with its types hidden.
    public var erased: AnyAPIMethod { AnyAPIMethod(self) }
}

/// Lets `APIMethods.all` find the descriptors among its stored properties.
protocol ErasableAPIMethod {
    var erased: AnyAPIMethod { get }
}

extension APIMethod: ErasableAPIMethod {}

/// The answers of a service, one per `APIMethod`, looked up by wire name. A service
/// builds one table (one `bind` line per method) and forwards `NephoService.handle` to
/// `call`; a declared method without a binding is found by a test comparing `names`
/// with `API.all`, and answers `-32601` (method not found) if one slips through.
public struct APIBindings<Service: Sendable>: Sendable {
    /// One method's answer, with its types hidden: `.bind(API.cloudletList, to: …)`.
    public struct Binding: Sendable {
        let name: String
        let call: @Sendable (Service, any Sendable, ProviderContext?) async throws -> any Sendable

        /// Answers `method` with `body` (an unapplied method, `LocalAPI.cloudletList`).
        public static func bind<Params, Result>(
            _ method: APIMethod<Params, Result>,
            to body: @escaping @Sendable (Service) -> (Params) async throws -> Result
        ) -> Binding {
            bind(method) { service, params, _ in try await body(service)(params) }
        }

        /// Answers `method` with `body`, which also gets the requesting client's provider
        /// context (nil: this process's environment is the context).
        public static func bind<Params, Result>(
            _ method: APIMethod<Params, Result>,
            to body: @escaping @Sendable (Service) -> (Params, ProviderContext?) async throws -> Result
        ) -> Binding {
            bind(method) { service, params, context in try await body(service)(params, context) }
        }

        private static func bind<Params, Result>(
            _ method: APIMethod<Params, Result>,
            _ body: @escaping @Sendable (Service, Params, ProviderContext?) async throws -> Result
        ) -> Binding {
            Binding(name: method.name) { service, params, context in
                // `call` passes the params of a method of this name; names are unique (a test).
                guard let params = params as? Params else {
                    throw NephoError(
                        .internalError,
                        "\(method.name) was called with \(type(of: params)), not \(Params.self)")
                }
                return try await body(service, params, context)
            }
        }
    }

    private let table: [String: Binding]

    /// - Precondition: no method is bound twice.
    public init(_ bindings: [Binding]) {
        table = Dictionary(bindings.map { ($0.name, $0) }) { first, _ in
            preconditionFailure("\(first.name) is bound twice")
        }
    }

    /// The wire names of the bound methods.
    public var names: Set<String> { Set(table.keys) }

    /// Runs the binding of `method` on `service`.
    public func call<Params, Result>(
        _ service: Service, _ method: APIMethod<Params, Result>, _ params: Params, context: ProviderContext?
    )
        async throws -> Result
    {
        guard let binding = table[method.name] else {
            throw RPCErrorObject.methodNotFound(method.name).nephoError
        }
        let result = try await binding.call(service, params, context)
        guard let typed = result as? Result else {
            throw NephoError(
                .internalError,
                "the binding of \(method.name) answered \(type(of: result)), not \(Result.self)")
        }
        return typed
    }
}
