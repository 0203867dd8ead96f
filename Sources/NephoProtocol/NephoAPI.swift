/// Everything a client can ask of nepho. `DaemonClient` (over the socket) and
/// `LocalAPI` (in-process, NephoEngine) both conform; the CLI is written against this
/// protocol only, so `--foreground` is a different value, not a different code path.
///
/// Every method takes one `Params` value and returns one `Result` value, both plain
/// `Codable` structs; `API` declares each (see docs/protocol.md):
/// `try await api.call(API.cloudletList, NoParams())`.
/// Paths in params are absolute: the client resolves them against its own folder.
public protocol NephoAPI: Sendable {
    func call<Params, Result>(_ method: APIMethod<Params, Result>, _ params: Params) async throws -> Result

    /// Opens a stream (`API.formationFollow`): its items in order, then its end; an error
    /// ends it by being thrown. Stopping the iteration closes the stream.
    func follow<Params, Item>(_ stream: APIStream<Params, Item>, _ params: Params) async throws
        -> AsyncThrowingStream<Item, Error>
}

/// What answers the API on the server side: nephod's router hands every request to one
/// (nephod's `main.swift` passes the engine, `LocalAPI`), with the provider context of
/// the client that sent it (nil: this process's environment is the context).
public protocol NephoService: Sendable {
    func handle<Params, Result>(
        _ method: APIMethod<Params, Result>, _ params: Params, context: ProviderContext?
    ) async throws -> Result

    func stream<Params, Item>(_ stream: APIStream<Params, Item>, _ params: Params, context: ProviderContext?)
        throws -> AsyncThrowingStream<Item, Error>
}

/// Every method of the API, by the name code uses (`API.cloudletList`) and the name it
/// has on the wire (`cloudlet.list`). This is the one place a method is declared:
/// `all` finds them here, the router serves them, the engine binds each to its answer
/// (`LocalAPI+Methods.swift`). Properties that are not `APIMethod`s do not belong here.
public struct APIMethods: Sendable {
    public let cloudletList = APIMethod<NoParams, CloudletListResult>("cloudlet.list")
    public let cloudletDescribe = APIMethod<CloudletRef, CloudletDetail>("cloudlet.describe")
    public let cloudletCreate = APIMethod<CloudletCreateParams, CloudletCreateResult>("cloudlet.create")
    public let cloudletValidate = APIMethod<CloudletValidateParams, ValidationReport>("cloudlet.validate")
    public let cloudletDirs = APIMethod<CloudletDirsParams, CloudletDirsResult>("cloudlet.dirs")

    public let scenarioList = APIMethod<CloudletRef, ScenarioListResult>("scenario.list")
    public let scenarioDescribe = APIMethod<ScenarioDescribeParams, ScenarioDetail>("scenario.describe")

    public let parameterList = APIMethod<NoParams, ParameterListResult>("parameter.list")
    public let parameterGet = APIMethod<ParameterKey, UserParameter>("parameter.get")
    public let parameterSet = APIMethod<UserParameter, ParameterListResult>("parameter.set")
    public let parameterUnset = APIMethod<ParameterKey, ParameterListResult>("parameter.unset")

    // The cloudlet registry (docs/registry.md).
    public let registrySearch = APIMethod<RegistrySearchParams, RegistrySearchResult>("registry.search")
    public let cloudletInstall = APIMethod<CloudletInstallParams, CloudletInstallResult>("cloudlet.install")
    public let cloudletUpdate = APIMethod<CloudletUpdateParams, CloudletUpdateResult>("cloudlet.update")
    public let cloudletUninstall = APIMethod<CloudletUninstallParams, CloudletUninstallResult>(
        "cloudlet.uninstall")
    public let registryManage = APIMethod<RegistryManageParams, RegistryManageResult>("registry.manage")
    public let registryBuild = APIMethod<RegistryBuildParams, RegistryBuildResult>("registry.build")

    // Formations (docs/formations.md).
    public let formationCreate = APIMethod<FormationCreateParams, BuildSummary>("formation.create")
    public let formationList = APIMethod<FormationListParams, FormationListResult>("formation.list")
    public let formationDescribe = APIMethod<FormationRef, FormationDetail>("formation.describe")
    public let formationUpdate = APIMethod<FormationUpdateParams, FormationUpdateResult>("formation.update")
    public let formationDestroy = APIMethod<FormationActionParams, BuildSummary>("formation.destroy")
    public let formationCancel = APIMethod<FormationActionParams, BuildSummary>("formation.cancel")
    public let formationLogs = APIMethod<FormationRef, FormationLogsResult>("formation.logs")
    public let formationAccess = APIMethod<FormationAccessParams, FormationAccess>("formation.access")
    // How stack events reach the nanny (docs/aws.md, "Stack events").
    public let eventsStatus = APIMethod<NoParams, EventsStatusResult>("events.status")
    public let eventsRemove = APIMethod<NoParams, EventsRemoveResult>("events.remove")

    /// A build's events as they are stored, then its outcome (`formation:watch`, `create`, …).
    public let formationFollow = APIStream<FormationFollowParams, BuildProgress>("formation.follow")

    /// Every method declared above, in declaration order (read with `Mirror`, so that no
    /// second list can fall out of step).
    public var all: [AnyAPIMethod] {
        Mirror(reflecting: self).children.compactMap { ($0.value as? any ErasableAPIMethod)?.erased }
    }

    /// Every stream declared above, in declaration order.
    public var streams: [AnyAPIStream] {
        Mirror(reflecting: self).children.compactMap { ($0.value as? any ErasableAPIStream)?.erasedStream }
    }

    init() {}
}

/// The API's methods: `API.cloudletList`, …, and `API.all`.
public let API = APIMethods()
