import Foundation
import NephoClient
import NephoEngine
import NephoProtocol
import Testing

/// Every `API` method through `DaemonClient` → socket → router → `LocalAPI` gives what
/// `LocalAPI` gives in-process; the daemon's own methods answer too.
@Suite struct EveryMethodTests {
    /// Runs the same calls against `api`; returns each outcome as JSON text (result or error).
    static func script(_ api: any NephoAPI, home: URL) async -> [String: String] {
        func record<T: Encodable>(_ name: String, _ body: () async throws -> T) async -> (String, String) {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            do {
                let value = try await body()
                return (name, String(decoding: try encoder.encode(value), as: UTF8.self))
            } catch let error as NephoError {
                return (name, "error \(error.code.rawValue): \(error.message) \(error.details)")
            } catch {
                return (name, "error \(error)")
            }
        }
        let extra = home.appendingPathComponent("more-cloudlets").path
        try? FileManager.default.createDirectory(atPath: extra, withIntermediateDirectories: true)
        var outcomes: [(String, String)] = []
        outcomes.append(await record(API.CloudletList.name) { try await api.cloudletList(NoParams()) })
        outcomes.append(
            await record(API.CloudletCreate.name) {
                try await api.cloudletCreate(.init(name: "demo", directory: nil))
            })
        outcomes.append(
            await record(API.CloudletDescribe.name) { try await api.cloudletDescribe(.init(name: "demo")) })
        outcomes.append(
            await record("missing " + API.CloudletDescribe.name) {
                try await api.cloudletDescribe(.init(name: "nope"))
            })
        outcomes.append(
            await record(API.CloudletValidate.name) { try await api.cloudletValidate(.init(path: "demo")) })
        outcomes.append(
            await record(API.CloudletDirs.name) {
                try await api.cloudletDirs(.init(action: .add, path: extra))
            })
        outcomes.append(
            await record("list " + API.CloudletDirs.name) { try await api.cloudletDirs(.init(action: .list)) }
        )
        outcomes.append(
            await record(API.ScenarioList.name) { try await api.scenarioList(.init(name: "demo")) })
        outcomes.append(
            await record(API.ScenarioDescribe.name) {
                try await api.scenarioDescribe(.init(cloudlet: "demo", scenario: nil, overrides: [:]))
            })
        outcomes.append(
            await record(API.ParameterSet.name) {
                try await api.parameterSet(.init(key: "KeyName", value: "mine"))
            })
        outcomes.append(
            await record(API.ParameterGet.name) { try await api.parameterGet(.init(key: "KeyName")) })
        outcomes.append(await record(API.ParameterList.name) { try await api.parameterList(NoParams()) })
        outcomes.append(
            await record(API.ParameterUnset.name) { try await api.parameterUnset(.init(key: "KeyName")) })
        outcomes.append(
            await record("missing " + API.ParameterGet.name) {
                try await api.parameterGet(.init(key: "KeyName"))
            })
        // The registry and formation methods, with calls that need no network or AWS account.
        outcomes.append(
            await record(API.RegistrySearch.name) { try await api.registrySearch(.init(query: "demo")) })
        outcomes.append(
            await record(API.CloudletInstall.name) {
                try await api.cloudletInstall(.init(source: "ftp://example.invalid/x"))
            })
        outcomes.append(
            await record(API.CloudletUpdate.name) {
                try await api.cloudletUpdate(.init(name: "no-such-cloudlet"))
            })
        outcomes.append(
            await record(API.CloudletUninstall.name) {
                try await api.cloudletUninstall(.init(name: "no-such-cloudlet", dryRun: true))
            })
        outcomes.append(
            await record(API.RegistryManage.name) { try await api.registryManage(.init(action: .list)) })
        outcomes.append(
            await record(API.RegistryBuild.name) {
                try await api.registryBuild(
                    .init(sources: [], output: home.appendingPathComponent("site").path))
            })
        outcomes.append(
            await record(API.FormationCreate.name) {
                try await api.formationCreate(.init(cloudlet: "no-such-cloudlet"))
            })
        outcomes.append(await record(API.FormationList.name) { try await api.formationList(NoParams()) })
        outcomes.append(
            await record(API.FormationDescribe.name) { try await api.formationDescribe(.init(name: "nope")) })
        outcomes.append(
            await record(API.FormationUpdate.name) { try await api.formationUpdate(.init(name: "nope")) })
        outcomes.append(
            await record(API.FormationDestroy.name) { try await api.formationDestroy(.init(name: "nope")) })
        outcomes.append(
            await record(API.FormationCancel.name) { try await api.formationCancel(.init(name: "nope")) })
        outcomes.append(
            await record(API.FormationWatch.name) { try await api.formationWatch(.init(name: "nope")) })
        outcomes.append(
            await record(API.FormationLogs.name) { try await api.formationLogs(.init(name: "nope")) })
        return Dictionary(outcomes.map { ($0.0, $0.1.replacingOccurrences(of: home.path, with: "$HOME")) }) {
            a, _ in a
        }
    }

    @Test func everyAPIMethodAnswersOverTheSocketAsInProcess() async throws {
        let daemon = try InProcessDaemon()
        let client = DaemonClient(environment: daemon.home.environment, autoStart: false)
        let viaDaemon = await offPoolAsync { await Self.script(client, home: daemon.home.home) }

        let local = TestHome()
        let inProcess = await Self.script(LocalAPI(paths: local.paths), home: local.home)

        #expect(
            Set(viaDaemon.keys).isSuperset(of: API.all.map { $0.name }), "the script covers every API method")
        for (name, outcome) in inProcess.sorted(by: { $0.key < $1.key }) {
            #expect(viaDaemon[name] == outcome, "\(name)")
        }
        #expect(
            viaDaemon["missing cloudlet.describe"]?.hasPrefix("error \(NephoError.Code.notFound.rawValue)")
                == true)
    }

    @Test func theDaemonsOwnMethodsAnswer() async throws {
        let daemon = try InProcessDaemon()
        let client = DaemonClient(environment: daemon.home.environment, autoStart: false)
        let status = try #require(await offPool { try? client.call(DaemonRPC.Status.self, NoParams()) })
        #expect(status.pid == getpid())
        #expect(status.clients == 1)
        #expect(status.database == daemon.home.paths.database.path)
        #expect(status.socket == daemon.home.socket)
        #expect(status.protocolVersion == NephoVersion.protocolVersion)
        #expect(await offPool { (try? client.call(DaemonRPC.Ping.self, NoParams())) != nil })
        let stopped = await offPool { try? client.call(DaemonRPC.Stop.self, NoParams()) }
        #expect(stopped?.pid == getpid())
        #expect(await eventually { daemon.server.isStopped })
        #expect(
            Set(daemon.server.methodNames) == Set(API.all.map { $0.name } + DaemonRPC.names),
            "docs/protocol.md lists these")
    }

    @Test func theProviderContextOfTheClientReachesTheEngine() async throws {
        let home = TestHome()
        let recorder = ContextRecorder()
        let server = try recorder.serve(home: home)
        defer { server.stop(reason: "test over") }
        var environment = home.environment
        environment["AWS_PROFILE"] = "staging"
        environment["AWS_SECRET_ACCESS_KEY"] = "not-for-logs"
        let client = DaemonClient(environment: environment, autoStart: false)
        _ = await offPool { try? client.call(API.ParameterList.self, NoParams()) }
        #expect(recorder.seen?.environment["AWS_PROFILE"] == "staging")
        #expect(recorder.seen?.environment["AWS_SECRET_ACCESS_KEY"] == "not-for-logs")
        #expect(recorder.seen?.environment["HOME"] == nil, "only provider variables travel")
    }
}

/// Runs async work whose blocking socket calls must not hold a concurrency thread.
func offPoolAsync<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            let semaphore = DispatchSemaphore(value: 0)
            let box = ResultBox<T>()
            Task.detached {
                box.value = await body()
                semaphore.signal()
            }
            semaphore.wait()
            continuation.resume(returning: box.value!)
        }
    }
}

final class ResultBox<T>: @unchecked Sendable { var value: T? }
