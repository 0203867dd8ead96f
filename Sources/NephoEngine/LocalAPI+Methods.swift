import NephoProtocol

/// The engine's side of every `API` method: one binding line per method, from its
/// descriptor to the `LocalAPI` function that answers it. A method declared in `API`
/// and missing here is caught by a test (`EveryMethodTests`), not by the compiler.
extension LocalAPI: NephoService, NephoAPI {
    static let methods = APIBindings<LocalAPI>([
        .bind(API.cloudletList, to: LocalAPI.cloudletList),
        .bind(API.cloudletDescribe, to: LocalAPI.cloudletDescribe),
        .bind(API.cloudletCreate, to: LocalAPI.cloudletCreate),
        .bind(API.cloudletValidate, to: LocalAPI.cloudletValidate),
        .bind(API.cloudletDirs, to: LocalAPI.cloudletDirs),
        .bind(API.scenarioList, to: LocalAPI.scenarioList),
        .bind(API.scenarioDescribe, to: LocalAPI.scenarioDescribe),
        .bind(API.parameterList, to: LocalAPI.parameterList),
        .bind(API.parameterGet, to: LocalAPI.parameterGet),
        .bind(API.parameterSet, to: LocalAPI.parameterSet),
        .bind(API.parameterUnset, to: LocalAPI.parameterUnset),
        .bind(API.registrySearch, to: LocalAPI.registrySearch),
        .bind(API.cloudletInstall, to: LocalAPI.cloudletInstall),
        .bind(API.cloudletUpdate, to: LocalAPI.cloudletUpdate),
        .bind(API.cloudletUninstall, to: LocalAPI.cloudletUninstall),
        .bind(API.registryManage, to: LocalAPI.registryManage),
        .bind(API.registryBuild, to: LocalAPI.registryBuild),
        .bind(API.formationCreate, to: LocalAPI.formationCreate),
        .bind(API.formationList, to: LocalAPI.formationList),
        .bind(API.formationDescribe, to: LocalAPI.formationDescribe),
        .bind(API.formationUpdate, to: LocalAPI.formationUpdate),
        .bind(API.formationDestroy, to: LocalAPI.formationDestroy),
        .bind(API.formationCancel, to: LocalAPI.formationCancel),
        .bind(API.formationLogs, to: LocalAPI.formationLogs),
        .bind(API.formationAccess, to: LocalAPI.formationAccess),
        .bind(API.eventsStatus, to: LocalAPI.eventsStatus),
        .bind(API.eventsRemove, to: LocalAPI.eventsRemove),
    ])

    static let streams = APIStreamBindings<LocalAPI>([
        .bind(API.formationFollow, to: LocalAPI.formationFollow)
    ])

    /// The wire names of the methods the engine answers (for the test that every `API`
    /// method has a binding).
    public static var boundMethodNames: Set<String> { methods.names.union(streams.names) }

    /// Opens a stream for the daemon, with the provider context of the client.
    public func stream<Params, Item>(
        _ stream: APIStream<Params, Item>, _ params: Params, context: ProviderContext?
    ) throws -> AsyncThrowingStream<Item, Error> {
        try Self.streams.open(self, stream, params, context: context)
    }

    /// `NephoAPI` for `--foreground`: the same stream, in this process.
    public func follow<Params, Item>(_ stream: APIStream<Params, Item>, _ params: Params) async throws
        -> AsyncThrowingStream<Item, Error>
    {
        try self.stream(stream, params, context: nil)
    }

    /// Serves one request for the daemon, with the provider context of the client.
    public func handle<Params, Result>(
        _ method: APIMethod<Params, Result>, _ params: Params, context: ProviderContext?
    ) async throws -> Result {
        try await Self.methods.call(self, method, params, context: context)
    }

    /// `NephoAPI` for `--foreground`: no context, so the engine uses this process's
    /// environment (its `AWS_*` variables for builds).
    public func call<Params, Result>(_ method: APIMethod<Params, Result>, _ params: Params) async throws
        -> Result
    {
        try await handle(method, params, context: nil)
    }
}
