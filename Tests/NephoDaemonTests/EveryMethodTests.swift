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
        func record<P, R>(_ method: APIMethod<P, R>, _ params: P, as label: String? = nil) async -> (
            String, String
        ) {
            let name = label.map { "\($0) \(method.name)" } ?? method.name
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            do {
                let value = try await api.call(method, params)
                return (name, String(decoding: try encoder.encode(value), as: UTF8.self))
            } catch let error as NephoError {
                return (name, "error \(error.code.rawValue): \(error.message) \(error.details)")
            } catch {
                return (name, "error \(error)")
            }
        }
        /// A stream's items and end, or its error, as text.
        func record<P, I>(_ stream: APIStream<P, I>, _ params: P) async -> (String, String) {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            var lines: [String] = []
            do {
                for try await item in try await api.follow(stream, params) {
                    lines.append(String(decoding: try encoder.encode(item), as: UTF8.self))
                }
                lines.append("end")
            } catch let error as NephoError {
                lines.append("error \(error.code.rawValue): \(error.message) \(error.details)")
            } catch {
                lines.append("error \(error)")
            }
            return (stream.name, lines.joined(separator: "\n"))
        }
        let extra = home.appendingPathComponent("more-cloudlets").path
        try? FileManager.default.createDirectory(atPath: extra, withIntermediateDirectories: true)
        var outcomes: [(String, String)] = []
        outcomes.append(await record(API.cloudletList, NoParams()))
        outcomes.append(await record(API.cloudletCreate, .init(name: "demo", directory: nil)))
        outcomes.append(await record(API.cloudletDescribe, .init(name: "demo")))
        outcomes.append(await record(API.cloudletDescribe, .init(name: "nope"), as: "missing"))
        outcomes.append(await record(API.cloudletValidate, .init(path: "demo")))
        outcomes.append(await record(API.cloudletDirs, .init(action: .add, path: extra)))
        outcomes.append(await record(API.cloudletDirs, .init(action: .list), as: "list"))
        outcomes.append(await record(API.scenarioList, .init(name: "demo")))
        outcomes.append(
            await record(API.scenarioDescribe, .init(cloudlet: "demo", scenario: nil, overrides: [:])))
        outcomes.append(await record(API.parameterSet, .init(key: "KeyName", value: "mine")))
        outcomes.append(await record(API.parameterGet, .init(key: "KeyName")))
        outcomes.append(await record(API.parameterList, NoParams()))
        outcomes.append(await record(API.parameterUnset, .init(key: "KeyName")))
        outcomes.append(await record(API.parameterGet, .init(key: "KeyName"), as: "missing"))
        // The registry and formation methods, with calls that need no network or AWS account.
        outcomes.append(await record(API.registrySearch, .init(query: "demo")))
        outcomes.append(await record(API.cloudletInstall, .init(source: "ftp://example.invalid/x")))
        outcomes.append(await record(API.cloudletUpdate, .init(name: "no-such-cloudlet")))
        outcomes.append(await record(API.cloudletUninstall, .init(name: "no-such-cloudlet", dryRun: true)))
        outcomes.append(await record(API.registryManage, .init(action: .list)))
        outcomes.append(
            await record(
                API.registryBuild, .init(sources: [], output: home.appendingPathComponent("site").path)))
        outcomes.append(await record(API.formationCreate, .init(cloudlet: "no-such-cloudlet")))
        outcomes.append(await record(API.formationList, FormationListParams()))
        outcomes.append(await record(API.formationDescribe, .init(name: "nope")))
        outcomes.append(await record(API.formationUpdate, .init(name: "nope")))
        outcomes.append(await record(API.formationDestroy, .init(name: "nope")))
        outcomes.append(await record(API.formationCancel, .init(name: "nope")))
        outcomes.append(await record(API.formationLogs, .init(name: "nope")))
        outcomes.append(await record(API.eventsStatus, NoParams()))
        outcomes.append(await record(API.eventsRemove, NoParams()))
        outcomes.append(await record(API.formationAccess, .init(name: "nope")))
        outcomes.append(await record(API.formationFollow, .init(name: "nope")))
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
            Set(viaDaemon.keys).isSuperset(of: API.all.map(\.name) + API.streams.map(\.name)),
            "the script covers every API method and stream")
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
        let status = try #require(await offPool { try? client.request(DaemonRPC.status, NoParams()) })
        #expect(status.pid == getpid())
        #expect(status.clients == 1)
        #expect(status.database == daemon.home.paths.database.path)
        #expect(status.socket == daemon.home.socket)
        #expect(status.protocolVersion == NephoVersion.protocolVersion)
        #expect(await offPool { (try? client.request(DaemonRPC.ping, NoParams())) != nil })
        let stopped = await offPool { try? client.request(DaemonRPC.stop, NoParams()) }
        #expect(stopped?.pid == getpid())
        #expect(await eventually { daemon.server.isStopped })
        #expect(
            Set(daemon.server.methodNames)
                == Set(API.all.map(\.name) + API.streams.map(\.name) + DaemonRPC.names),
            "docs/protocol.md lists these")
    }

    @Test func everyDeclaredMethodHasOneNameAndAnEngineBinding() {
        let declared = API.all.map(\.name) + API.streams.map(\.name)
        #expect(declared.count >= 25, "API.all finds the declarations (25 when this test was written)")
        #expect(Set(declared).count == declared.count, "no two methods share a wire name")
        #expect(Set(declared + DaemonRPC.names).count == declared.count + DaemonRPC.names.count)
        for name in declared {
            #expect(LocalAPI.boundMethodNames.contains(name), "LocalAPI+Methods.swift binds \(name)")
        }
        #expect(LocalAPI.boundMethodNames.isSubset(of: declared))
    }

    @Test func aMethodWithoutABindingIsAnErrorNotACrash() async throws {
        let home = TestHome()
        let unbound = APIMethod<NoParams, NoParams>("test.unbound")
        let error = await #expect(throws: NephoError.self) {
            try await LocalAPI(paths: home.paths).call(unbound, NoParams())
        }
        #expect(error?.code.rawValue == RPCErrorObject.methodNotFoundCode)
    }

    @Test func theProviderContextOfTheClientReachesTheEngine() async throws {
        let home = TestHome()
        let recorder = ContextRecorder()
        let server = try recorder.serve(home: home)
        defer { server.stop(reason: "test over") }
        var environment = home.environment
        environment["AWS_PROFILE"] = "staging"
        environment["AWS_SECRET_ACCESS_KEY"] = "not-for-logs"
        environment["EDITOR"] = "vi"
        let client = DaemonClient(environment: environment, autoStart: false)
        _ = await offPool { try? client.request(API.parameterList, NoParams()) }
        #expect(recorder.last?.method == API.parameterList.name)
        #expect(recorder.seen?.environment["AWS_PROFILE"] == "staging")
        #expect(recorder.seen?.environment["AWS_SECRET_ACCESS_KEY"] == "not-for-logs")
        #expect(recorder.seen?.environment["EDITOR"] == nil, "only provider variables travel")
        #expect(
            recorder.seen?.environment["HOME"] == environment["HOME"], "the client's HOME travels (issue 14)")
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
