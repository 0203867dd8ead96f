/// Everything a client can ask of nepho. `LocalAPI` (in-process, NephoEngine) and
/// `DaemonClient` (over the socket) both conform; the CLI is written against this
/// protocol only, so `--foreground` is a different value, not a different code path.
///
/// Every method takes one `Params` value and returns one `Result` value, both plain
/// `Codable` structs; `API` lists the wire name of each (see docs/protocol.md).
/// Paths in params are absolute: the client resolves them against its own folder.
public protocol NephoAPI: Sendable {
    func cloudletList(_ params: NoParams) async throws -> CloudletListResult
    func cloudletDescribe(_ params: CloudletRef) async throws -> CloudletDetail
    func cloudletCreate(_ params: CloudletCreateParams) async throws -> CloudletCreateResult
    func cloudletValidate(_ params: CloudletValidateParams) async throws -> ValidationReport
    func cloudletDirs(_ params: CloudletDirsParams) async throws -> CloudletDirsResult

    func scenarioList(_ params: CloudletRef) async throws -> ScenarioListResult
    func scenarioDescribe(_ params: ScenarioDescribeParams) async throws -> ScenarioDetail

    func parameterList(_ params: NoParams) async throws -> ParameterListResult
    func parameterGet(_ params: ParameterKey) async throws -> UserParameter
    func parameterSet(_ params: UserParameter) async throws -> ParameterListResult
    func parameterUnset(_ params: ParameterKey) async throws -> ParameterListResult

    // The cloudlet registry (docs/registry.md).
    func registrySearch(_ params: RegistrySearchParams) async throws -> RegistrySearchResult
    func cloudletInstall(_ params: CloudletInstallParams) async throws -> CloudletInstallResult
    func cloudletUpdate(_ params: CloudletUpdateParams) async throws -> CloudletUpdateResult
    func cloudletUninstall(_ params: CloudletUninstallParams) async throws -> CloudletUninstallResult
    func registryManage(_ params: RegistryManageParams) async throws -> RegistryManageResult
    func registryBuild(_ params: RegistryBuildParams) async throws -> RegistryBuildResult

    // Formations (docs/formations.md).
    func formationCreate(_ params: FormationCreateParams) async throws -> BuildSummary
    func formationList(_ params: NoParams) async throws -> FormationListResult
    func formationDescribe(_ params: FormationRef) async throws -> FormationDetail
    func formationUpdate(_ params: FormationUpdateParams) async throws -> FormationUpdateResult
    func formationDestroy(_ params: FormationActionParams) async throws -> BuildSummary
    func formationCancel(_ params: FormationActionParams) async throws -> BuildSummary
    func formationWatch(_ params: FormationWatchParams) async throws -> FormationWatchResult
    func formationLogs(_ params: FormationRef) async throws -> FormationLogsResult
}

/// A method of `NephoAPI` as it goes over the wire: its name, its typed params and
/// result, and how to call it on any implementation (used by the daemon's router).
public protocol NephoMethod: Sendable {
    associatedtype Params: Codable & Sendable
    associatedtype Result: Codable & Sendable
    static var name: String { get }
    static func invoke(_ api: any NephoAPI, _ params: Params) async throws -> Result
}

/// The wire names of every `NephoAPI` method.
public enum API {
    public enum CloudletList: NephoMethod {
        public static let name = "cloudlet.list"
        public static func invoke(_ api: any NephoAPI, _ p: NoParams) async throws -> CloudletListResult {
            try await api.cloudletList(p)
        }
    }
    public enum CloudletDescribe: NephoMethod {
        public static let name = "cloudlet.describe"
        public static func invoke(_ api: any NephoAPI, _ p: CloudletRef) async throws -> CloudletDetail {
            try await api.cloudletDescribe(p)
        }
    }
    public enum CloudletCreate: NephoMethod {
        public static let name = "cloudlet.create"
        public static func invoke(_ api: any NephoAPI, _ p: CloudletCreateParams) async throws
            -> CloudletCreateResult
        { try await api.cloudletCreate(p) }
    }
    public enum CloudletValidate: NephoMethod {
        public static let name = "cloudlet.validate"
        public static func invoke(_ api: any NephoAPI, _ p: CloudletValidateParams) async throws
            -> ValidationReport
        { try await api.cloudletValidate(p) }
    }
    public enum CloudletDirs: NephoMethod {
        public static let name = "cloudlet.dirs"
        public static func invoke(_ api: any NephoAPI, _ p: CloudletDirsParams) async throws
            -> CloudletDirsResult
        { try await api.cloudletDirs(p) }
    }
    public enum ScenarioList: NephoMethod {
        public static let name = "scenario.list"
        public static func invoke(_ api: any NephoAPI, _ p: CloudletRef) async throws -> ScenarioListResult {
            try await api.scenarioList(p)
        }
    }
    public enum ScenarioDescribe: NephoMethod {
        public static let name = "scenario.describe"
        public static func invoke(_ api: any NephoAPI, _ p: ScenarioDescribeParams) async throws
            -> ScenarioDetail
        { try await api.scenarioDescribe(p) }
    }
    public enum ParameterList: NephoMethod {
        public static let name = "parameter.list"
        public static func invoke(_ api: any NephoAPI, _ p: NoParams) async throws -> ParameterListResult {
            try await api.parameterList(p)
        }
    }
    public enum ParameterGet: NephoMethod {
        public static let name = "parameter.get"
        public static func invoke(_ api: any NephoAPI, _ p: ParameterKey) async throws -> UserParameter {
            try await api.parameterGet(p)
        }
    }
    public enum ParameterSet: NephoMethod {
        public static let name = "parameter.set"
        public static func invoke(_ api: any NephoAPI, _ p: UserParameter) async throws -> ParameterListResult
        {
            try await api.parameterSet(p)
        }
    }
    public enum ParameterUnset: NephoMethod {
        public static let name = "parameter.unset"
        public static func invoke(_ api: any NephoAPI, _ p: ParameterKey) async throws -> ParameterListResult
        {
            try await api.parameterUnset(p)
        }
    }
    public enum RegistrySearch: NephoMethod {
        public static let name = "registry.search"
        public static func invoke(_ api: any NephoAPI, _ p: RegistrySearchParams) async throws
            -> RegistrySearchResult
        { try await api.registrySearch(p) }
    }
    public enum CloudletInstall: NephoMethod {
        public static let name = "cloudlet.install"
        public static func invoke(_ api: any NephoAPI, _ p: CloudletInstallParams) async throws
            -> CloudletInstallResult
        { try await api.cloudletInstall(p) }
    }
    public enum CloudletUpdate: NephoMethod {
        public static let name = "cloudlet.update"
        public static func invoke(_ api: any NephoAPI, _ p: CloudletUpdateParams) async throws
            -> CloudletUpdateResult
        { try await api.cloudletUpdate(p) }
    }
    public enum CloudletUninstall: NephoMethod {
        public static let name = "cloudlet.uninstall"
        public static func invoke(_ api: any NephoAPI, _ p: CloudletUninstallParams) async throws
            -> CloudletUninstallResult
        { try await api.cloudletUninstall(p) }
    }
    public enum RegistryManage: NephoMethod {
        public static let name = "registry.manage"
        public static func invoke(_ api: any NephoAPI, _ p: RegistryManageParams) async throws
            -> RegistryManageResult
        { try await api.registryManage(p) }
    }
    public enum RegistryBuild: NephoMethod {
        public static let name = "registry.build"
        public static func invoke(_ api: any NephoAPI, _ p: RegistryBuildParams) async throws
            -> RegistryBuildResult
        { try await api.registryBuild(p) }
    }
    public enum FormationCreate: NephoMethod {
        public static let name = "formation.create"
        public static func invoke(_ api: any NephoAPI, _ p: FormationCreateParams) async throws
            -> BuildSummary
        {
            try await api.formationCreate(p)
        }
    }
    public enum FormationList: NephoMethod {
        public static let name = "formation.list"
        public static func invoke(_ api: any NephoAPI, _ p: NoParams) async throws -> FormationListResult {
            try await api.formationList(p)
        }
    }
    public enum FormationDescribe: NephoMethod {
        public static let name = "formation.describe"
        public static func invoke(_ api: any NephoAPI, _ p: FormationRef) async throws -> FormationDetail {
            try await api.formationDescribe(p)
        }
    }
    public enum FormationUpdate: NephoMethod {
        public static let name = "formation.update"
        public static func invoke(_ api: any NephoAPI, _ p: FormationUpdateParams) async throws
            -> FormationUpdateResult
        {
            try await api.formationUpdate(p)
        }
    }
    public enum FormationDestroy: NephoMethod {
        public static let name = "formation.destroy"
        public static func invoke(_ api: any NephoAPI, _ p: FormationActionParams) async throws
            -> BuildSummary
        {
            try await api.formationDestroy(p)
        }
    }
    public enum FormationCancel: NephoMethod {
        public static let name = "formation.cancel"
        public static func invoke(_ api: any NephoAPI, _ p: FormationActionParams) async throws
            -> BuildSummary
        {
            try await api.formationCancel(p)
        }
    }
    public enum FormationWatch: NephoMethod {
        public static let name = "formation.watch"
        public static func invoke(_ api: any NephoAPI, _ p: FormationWatchParams) async throws
            -> FormationWatchResult
        {
            try await api.formationWatch(p)
        }
    }
    public enum FormationLogs: NephoMethod {
        public static let name = "formation.logs"
        public static func invoke(_ api: any NephoAPI, _ p: FormationRef) async throws -> FormationLogsResult
        {
            try await api.formationLogs(p)
        }
    }

    /// Every method, for routers and documentation checks.
    public static let all: [any NephoMethod.Type] = [
        CloudletList.self, CloudletDescribe.self, CloudletCreate.self, CloudletValidate.self,
        CloudletDirs.self, ScenarioList.self, ScenarioDescribe.self, ParameterList.self,
        ParameterGet.self, ParameterSet.self, ParameterUnset.self,
        RegistrySearch.self, CloudletInstall.self, CloudletUpdate.self, CloudletUninstall.self,
        RegistryManage.self, RegistryBuild.self,
        FormationCreate.self, FormationList.self, FormationDescribe.self, FormationUpdate.self,
        FormationDestroy.self, FormationCancel.self, FormationWatch.self, FormationLogs.self,
    ]
}
