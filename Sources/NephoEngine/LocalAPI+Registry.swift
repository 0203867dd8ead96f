import Foundation
import NephoCore
import NephoProtocol
import NephoSupport

/// The registry methods of `LocalAPI`, each forwarded to `RegistryService`.
extension LocalAPI {
    /// The registry service with nepho's safe git (using the requesting client's ssh agent
    /// and proxies, see `ProviderContext.overlaying`), the libcurl transport, and the
    /// builds table (uninstall refuses while a formation of the cloudlet is being built).
    func registryService(_ context: ProviderContext?) -> RegistryService {
        let api = self
        return RegistryService(
            paths: paths, git: clientGit(context), activeBuild: { name in api.activeBuild(cloudlet: name) })
    }

    /// git with this process's environment, or in the daemon with the requesting client's
    /// ssh agent and proxies in place of the daemon's (`ProviderContext.overlaying`).
    func clientGit(_ context: ProviderContext?) -> SafeGit {
        let own = ProcessInfo.processInfo.environment
        return SafeGit(environment: context?.overlaying(own) ?? own)
    }

    public func registrySearch(_ params: RegistrySearchParams, context: ProviderContext?) async throws
        -> RegistrySearchResult
    {
        try await translatingRegistryErrors { try await registryService(context).search(params) }
    }

    public func cloudletInstall(_ params: CloudletInstallParams, context: ProviderContext?) async throws
        -> CloudletInstallResult
    {
        try await translatingRegistryErrors { try await registryService(context).install(params) }
    }

    public func cloudletUpdate(_ params: CloudletUpdateParams, context: ProviderContext?) async throws
        -> CloudletUpdateResult
    {
        try await translatingRegistryErrors { try await registryService(context).update(params) }
    }

    public func cloudletUninstall(_ params: CloudletUninstallParams, context: ProviderContext?) async throws
        -> CloudletUninstallResult
    {
        try await translatingRegistryErrors { try await registryService(context).uninstall(params) }
    }

    public func registryManage(_ params: RegistryManageParams, context: ProviderContext?) async throws
        -> RegistryManageResult
    {
        try await translatingRegistryErrors { try await registryService(context).manage(params) }
    }

    public func registryBuild(_ params: RegistryBuildParams, context: ProviderContext?) async throws
        -> RegistryBuildResult
    {
        try await translatingRegistryErrors {
            try await RegistryBuilder(git: clientGit(context)).build(params)
        }
    }

    /// Registry, index and git errors as `NephoError`s; the rest as `translatingErrors` does.
    func translatingRegistryErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as RegistryIndexError {
            throw NephoError(
                .invalidInput, "registry \(error.origin): \(error.message)", details: error.details)
        } catch let error as RegistryFetchError {
            throw NephoError(.toolFailed, error.description)
        } catch let error as GitSourceError {
            throw NephoError(.invalidInput, error.description)
        } catch let error as GitError {
            throw NephoError(.toolFailed, error.reason.summary, details: error.lines)
        } catch {
            let captured = error
            return try translatingErrors { throw captured }
        }
    }
}
