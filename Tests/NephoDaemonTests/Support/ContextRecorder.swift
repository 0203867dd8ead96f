import Foundation
import Logging
import NephoDaemon
import NephoEngine
import NephoProtocol
import NephoStore

/// A test double of the engine for the one thing no real peer shows: which provider
/// context a request ran with. It records `ProviderContext.current` and answers like `LocalAPI`.
final class ContextRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: ProviderContext?
    var seen: ProviderContext? { lock.withLock { recorded } }

    func serve(home: TestHome) throws -> DaemonServer {
        let server = DaemonServer(
            configuration: DaemonConfiguration(paths: home.paths),
            engine: Engine(recorder: self, local: LocalAPI(paths: home.paths)),
            store: try StateStore(path: home.paths.database.path), logger: Logger(label: "test"))
        try server.start()
        return server
    }

    struct Engine: NephoAPI {
        let recorder: ContextRecorder
        let local: LocalAPI

        func cloudletList(_ p: NoParams) async throws -> CloudletListResult {
            try await local.cloudletList(p)
        }
        func cloudletDescribe(_ p: CloudletRef) async throws -> CloudletDetail {
            try await local.cloudletDescribe(p)
        }
        func cloudletCreate(_ p: CloudletCreateParams) async throws -> CloudletCreateResult {
            try await local.cloudletCreate(p)
        }
        func cloudletValidate(_ p: CloudletValidateParams) async throws -> ValidationReport {
            try await local.cloudletValidate(p)
        }
        func cloudletDirs(_ p: CloudletDirsParams) async throws -> CloudletDirsResult {
            try await local.cloudletDirs(p)
        }
        func scenarioList(_ p: CloudletRef) async throws -> ScenarioListResult {
            try await local.scenarioList(p)
        }
        func scenarioDescribe(_ p: ScenarioDescribeParams) async throws -> ScenarioDetail {
            try await local.scenarioDescribe(p)
        }
        func parameterList(_ p: NoParams) async throws -> ParameterListResult {
            recorder.lock.withLock { recorder.recorded = ProviderContext.current }
            return try await local.parameterList(p)
        }
        func parameterGet(_ p: ParameterKey) async throws -> UserParameter { try await local.parameterGet(p) }
        func parameterSet(_ p: UserParameter) async throws -> ParameterListResult {
            try await local.parameterSet(p)
        }
        func parameterUnset(_ p: ParameterKey) async throws -> ParameterListResult {
            try await local.parameterUnset(p)
        }
        func registrySearch(_ p: RegistrySearchParams) async throws -> RegistrySearchResult {
            try await local.registrySearch(p)
        }
        func cloudletInstall(_ p: CloudletInstallParams) async throws -> CloudletInstallResult {
            try await local.cloudletInstall(p)
        }
        func cloudletUpdate(_ p: CloudletUpdateParams) async throws -> CloudletUpdateResult {
            try await local.cloudletUpdate(p)
        }
        func cloudletUninstall(_ p: CloudletUninstallParams) async throws -> CloudletUninstallResult {
            try await local.cloudletUninstall(p)
        }
        func registryManage(_ p: RegistryManageParams) async throws -> RegistryManageResult {
            try await local.registryManage(p)
        }
        func registryBuild(_ p: RegistryBuildParams) async throws -> RegistryBuildResult {
            try await local.registryBuild(p)
        }
        func formationCreate(_ p: FormationCreateParams) async throws -> BuildSummary {
            try await local.formationCreate(p)
        }
        func formationList(_ p: NoParams) async throws -> FormationListResult {
            try await local.formationList(p)
        }
        func formationDescribe(_ p: FormationRef) async throws -> FormationDetail {
            try await local.formationDescribe(p)
        }
        func formationUpdate(_ p: FormationUpdateParams) async throws -> FormationUpdateResult {
            try await local.formationUpdate(p)
        }
        func formationDestroy(_ p: FormationActionParams) async throws -> BuildSummary {
            try await local.formationDestroy(p)
        }
        func formationCancel(_ p: FormationActionParams) async throws -> BuildSummary {
            try await local.formationCancel(p)
        }
        func formationWatch(_ p: FormationWatchParams) async throws -> FormationWatchResult {
            try await local.formationWatch(p)
        }
        func formationLogs(_ p: FormationRef) async throws -> FormationLogsResult {
            try await local.formationLogs(p)
        }
    }
}
