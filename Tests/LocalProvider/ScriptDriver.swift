import Foundation
import NephoCore
import NephoEngine
import NephoProtocol
import NephoStore
import NephoSupport

/// A third provider that lives only in the tests (docs/providers.md walks through it):
/// `provider: local` runs the scenario's pattern, a shell script under
/// `patterns/local/`, as the build. The script gets the operation (`create`,
/// `destroy`) as its argument and the formation's non-secret values as
/// `NEPHO_PARAM_NAME`; each line it prints is one event of the build; its exit status is
/// the build's outcome. It plugs into nepho through `ProviderRegistry` alone.
struct ScriptDriver: FormationDriver {
    static let traits = ProviderTraits(provider: Provider("local"), summary: "a script run on this machine")
    var traits: ProviderTraits { Self.traits }
    var noun: String { "script's work" }

    /// Where a formation's runs live: `$NEPHO_HOME/local/NAME/`.
    static func folder(_ paths: NephoPaths, _ formation: String) -> URL {
        paths.home.appendingPathComponent("local").appendingPathComponent(formation)
    }

    static func script(_ plan: FormationPlan) -> URL {
        plan.cloudlet.folder.appendingPathComponent("patterns").appendingPathComponent(
            plan.scenario.pattern ?? "")
    }

    func check(_ plan: FormationPlan, context: DriverContext) async throws {
        guard plan.scenario.pattern != nil, FileManager.default.fileExists(atPath: Self.script(plan).path)
        else {
            throw NephoError(
                .invalidInput, "scenario \(plan.scenario.name) names no script under patterns/local/")
        }
    }

    func create(_ plan: FormationPlan, context: DriverContext) async throws -> Creation {
        let folder = Self.folder(context.paths, plan.name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let script = folder.appendingPathComponent("build.sh")
        try? FileManager.default.removeItem(at: script)
        try FileManager.default.copyItem(at: Self.script(plan), to: script)
        var environment = ["PATH": "/usr/bin:/bin"]
        for value in plan.values where !value.secret {
            environment["NEPHO_PARAM_\(value.name)"] = value.value
        }
        try JSONEncoder().encode(environment).write(to: folder.appendingPathComponent("environment.json"))
        return Creation(
            values: plan.values, outputs: ["Folder": folder.path], launch: Self.launch(folder, "create"))
    }

    /// Runs `build.sh OPERATION` detached; its output is the build's log, its status the outcome.
    static func launch(_ folder: URL, _ operation: String) -> Launch {
        Launch(start: { build, _ in
            let log = folder.appendingPathComponent("\(build.id).log").path
            let environment =
                (try? JSONDecoder().decode(
                    [String: String].self,
                    from: Data(contentsOf: folder.appendingPathComponent("environment.json"))))
                ?? [:]
            _ = try DetachedProcess.spawn(
                path: "/bin/sh",
                arguments: [
                    "-c", #"cd "$3" && /bin/sh ./build.sh "$1" > "$2" 2>&1; echo $? > "$2.exit""#, "sh",
                    operation,
                    log, folder.path,
                ],
                environment: environment, logFile: "/dev/null")
        })
    }

    func update(
        _ formation: FormationRecord, _ params: FormationUpdateParams, context: DriverContext,
        lifecycle: FormationLifecycle
    ) async throws -> FormationUpdateResult {
        throw NephoError(.conflict, "a local formation has no update: destroy it and create it again")
    }

    func destroy(_ formation: FormationRecord, builds: [BuildRecord], context: DriverContext) async throws
        -> Destruction
    {
        let folder = Self.folder(context.paths, formation.name)
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("build.sh").path) else {
            return .nothingLeft
        }
        return .launch(Self.launch(folder, "destroy"))
    }

    /// Stores each new line of the run's log as an event (id `local-BUILD-LINE`, so a
    /// monitor started again stores nothing twice), and finishes when the run has.
    func follow(_ monitor: BuildFollower) async throws -> Int32 {
        let folder = Self.folder(monitor.paths, monitor.formation.name)
        let log = folder.appendingPathComponent("\(monitor.buildID).log")
        let exit = URL(fileURLWithPath: log.path + ".exit")
        while try monitor.stillWanted() {
            let ended = try? String(contentsOf: exit, encoding: .utf8)
            let lines = ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n")
            for (index, line) in lines.enumerated() {
                _ = try monitor.store.appendEvent(
                    EventRecord(
                        buildID: monitor.buildID, providerEventID: "local-\(monitor.buildID)-\(index + 1)",
                        timestamp: Timestamp.now(), logicalID: "script", resourceType: "Local::Script",
                        reason: String(line)))
            }
            if let ended {
                let status = Int(ended.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
                let operation = monitor.build.operation
                if status == 0 && operation == .destroy { try? FileManager.default.removeItem(at: folder) }
                try monitor.finish(
                    status: statusWord(operation, status == 0 ? .complete : .failed),
                    error: status == 0 ? nil : "the script exited with status \(status)")
                return 0
            }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        return 0
    }
}
