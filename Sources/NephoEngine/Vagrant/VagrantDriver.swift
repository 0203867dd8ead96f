import Foundation
import NephoCore
import NephoProtocol
import NephoStore
import NephoSupport

/// Formations on Vagrant (docs/vagrant.md): the formation's folder
/// (`$NEPHO_HOME/formations/NAME/`) is a Vagrant project; `vagrant up` or `vagrant
/// destroy --force` is started detached, in a session of its own, so that it outlives
/// the daemon and any monitor, and the build's monitor (`VagrantMonitor`) follows its log.
public struct VagrantDriver: FormationDriver {
    public init() {}

    public var traits: ProviderTraits { Providers.vagrant }
    public var noun: String { "machine" }

    /// A machine's words: `running` once up, `not_created` once destroyed (vagrant's
    /// own states), `creating` / `destroying` while vagrant works, `create_failed` /
    /// `destroy_failed` when it could not.
    static func word(_ operation: BuildRecord.Operation, _ phase: BuildStatus.Phase) -> String {
        switch (operation, phase) {
        case (.destroy, .inProgress): return "destroying"
        case (.destroy, .complete): return "not_created"
        case (.destroy, _): return "destroy_failed"
        case (_, .inProgress): return "creating"
        case (_, .complete): return "running"
        case (_, _): return "create_failed"
        }
    }

    public func statusWord(_ operation: BuildRecord.Operation, _ phase: BuildStatus.Phase) -> String {
        Self.word(operation, phase)
    }

    public func phase(of word: String) -> BuildStatus.Phase {
        switch word {
        case "creating", "destroying": return .inProgress
        case "running", "not_created": return .complete
        case "create_failed", "destroy_failed": return .failed
        default: return BuildStatus(word).phase  // recorded before machines had words of their own
        }
    }

    public func succeeded(_ operation: BuildRecord.Operation, _ word: String) -> Bool {
        word == Self.word(operation, .complete) || word == BuildStatus.word(operation, .complete)
    }

    /// The environment vagrant starts from: this process's (without `AWS_*`), with the
    /// request's `PATH`, `VAGRANT_*` and `NEPHO_VAGRANT` in place of its own, so that a
    /// daemon started from another shell runs the client's vagrant with its settings.
    static func baseEnvironment(_ context: DriverContext) -> [String: String] {
        var base = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") }
        if let client = context.client {
            base = base.filter { !ProviderContext.isVagrantVariable($0.key) || $0.key == "PATH" }
            for (key, value) in client where ProviderContext.isVagrantVariable(key) { base[key] = value }
        }
        return base
    }

    /// A runner for a formation's folder; `NEPHO_VAGRANT` names another vagrant program
    /// (the tests' stand-in); a missing vagrant is the clear error, before anything is recorded.
    static func runner(
        _ environment: VagrantEnvironment, context: DriverContext, secrets: [String: Secret] = [:]
    ) throws -> VagrantRunner {
        let base = baseEnvironment(context)
        guard ProcessRunner.resolve(base["NEPHO_VAGRANT"] ?? "vagrant", environment: base) != nil else {
            throw VagrantProblem.notInstalled.nephoError
        }
        return VagrantRunner(
            environment: environment, baseEnvironment: base, secrets: secrets,
            executable: base["NEPHO_VAGRANT"] ?? "vagrant")
    }

    /// Up front: no vagrant is one clear line, and nothing is written.
    public func check(_ plan: FormationPlan, context: DriverContext) async throws {
        let base = Self.baseEnvironment(context)
        guard ProcessRunner.resolve(base["NEPHO_VAGRANT"] ?? "vagrant", environment: base) != nil else {
            throw VagrantProblem.notInstalled.nephoError
        }
    }

    /// Lays out the formation's folder; `vagrant up` starts once the build is recorded.
    public func create(_ plan: FormationPlan, context: DriverContext) async throws -> Creation {
        let environment = try Self.errors {
            try VagrantEnvironmentWriter(paths: context.paths).write(
                formation: plan.name, cloudlet: plan.cloudlet, scenario: plan.scenario, values: plan.values)
        }
        var secrets: [String: Secret] = [:]
        for value in plan.values where value.secret {
            if let text = value.value { secrets[value.name] = Secret(text) }
        }
        var outputs = ["Folder": environment.folder.path]
        outputs["URL"] = environment.record.url
        let runner = try Self.runner(environment, context: context, secrets: secrets)
        return Creation(
            values: plan.values, outputs: outputs, launch: Self.launch(runner, command: .up))
    }

    /// Starts vagrant detached for the recorded build (after `previous` has stopped, when
    /// given) and saves the run where any monitor finds it. The monitor gets the secrets in
    /// memory (on its standard input), to keep them out of the stored events.
    static func launch(
        _ runner: VagrantRunner, command: VagrantCommand, after previous: VagrantDetachedRun? = nil
    )
        -> Launch
    {
        var monitorContext: [String: String] = [:]
        for (name, secret) in runner.secrets {
            monitorContext[VagrantMonitor.secretPrefix + name] = secret.reveal()
        }
        return Launch(
            start: { build, _ in
                do {
                    let run = try runner.startDetached(command, build: "\(build.id)", after: previous)
                    try VagrantMonitor.save(run, folder: runner.environment.folder, build: build.id)
                } catch {
                    let reason = (error as? VagrantProblem)?.message ?? SystemError.reason(error)
                    throw NephoError(.toolFailed, "vagrant could not be started: \(reason)")
                }
            }, monitorContext: monitorContext)
    }

    /// vagrant has no update: refused with what to do instead.
    public func update(
        _ formation: FormationRecord, _ params: FormationUpdateParams, context: DriverContext,
        lifecycle: FormationLifecycle
    ) async throws -> FormationUpdateResult {
        let folder = VagrantEnvironment.folder(paths: context.paths, formation: formation.name).path
        throw NephoError(
            .conflict,
            "formation \(formation.name) runs on vagrant, which has no update: destroy it and create it again with the new parameters (`nepho formation:destroy \(formation.name)`), or re-run its provisioner by hand with `vagrant provision` in \(folder)"
        )
    }

    /// `vagrant destroy --force`, detached; a build still running is interrupted (SIGINT,
    /// as Ctrl-C) and the destroy starts once it has stopped. On success the monitor
    /// removes the formation's folder.
    public func destroy(_ formation: FormationRecord, builds: [BuildRecord], context: DriverContext)
        async throws -> Destruction
    {
        let folder = VagrantEnvironment.folder(paths: context.paths, formation: formation.name)
        let running = builds.filter { $0.finishedAt == nil }.compactMap {
            VagrantMonitor.load(folder: folder, build: $0.id)
        }.filter { $0.exitStatus() == nil && $0.isAlive }
        // The folder is gone (removed by hand), or vagrant never made a machine (no
        // provider, a missing box): nothing is left for `vagrant destroy`, which would
        // itself need a provider. The folder goes and the name is free again.
        guard let environment = try? VagrantEnvironment.open(folder),
            !running.isEmpty || Self.machineExists(in: folder)
        else {
            try? FileManager.default.removeItem(at: folder)
            return .nothingLeft
        }
        let runner = try Self.runner(environment, context: context)
        for run in running { run.interrupt() }
        return .launch(Self.launch(runner, command: .destroy, after: running.last))
    }

    /// True when vagrant recorded a machine in `folder` (`.vagrant/machines/NAME/PROVIDER/id`).
    static func machineExists(in folder: URL) -> Bool {
        let machines = folder.appendingPathComponent(".vagrant/machines")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: machines.path)) ?? []
        for name in names {
            let providers = machines.appendingPathComponent(name)
            for provider in (try? FileManager.default.contentsOfDirectory(atPath: providers.path)) ?? []
            where FileManager.default.fileExists(
                atPath: providers.appendingPathComponent(provider).appendingPathComponent("id").path)
            {
                return true
            }
        }
        return false
    }

    /// The address from the `URL` output; ssh is `vagrant ssh [-- COMMAND]` in the
    /// formation's folder, run by the client in its terminal, or with `addressOnly` the
    /// address `vagrant ssh-config` gives (the machine must be running).
    public func access(
        _ formation: FormationRecord, scenario: Scenario?, params: FormationAccessParams,
        context: DriverContext
    ) async throws -> FormationAccess {
        var access = FormationAccess.fromOutputs(formation, scenario: scenario)
        let folder = VagrantEnvironment.folder(paths: context.paths, formation: formation.name)
        let environment: VagrantEnvironment
        do {
            environment = try VagrantEnvironment.open(folder)
        } catch {
            throw NephoError(.notFound, "formation \(formation.name) has no Vagrant folder: \(error)")
        }
        let base = Self.baseEnvironment(context)
        do {
            if params.addressOnly {
                let runner = try Self.runner(environment, context: context)
                guard let config = try await runner.sshConfig().first else {
                    throw NephoError(
                        .notFound,
                        "vagrant gives no SSH address for \(formation.name): is its machine running?")
                }
                // ssh's own arguments without the port and the address, which have their fields.
                var options = Array(config.sshArguments.dropLast())
                if let index = options.firstIndex(of: "-p") { options.removeSubrange(index...index + 1) }
                access.ssh = SSHAccess(
                    address: (config.user.map { "\($0)@" } ?? "") + config.hostName, port: config.port,
                    options: options)
            } else {
                let invocation = try environment.sshInvocation(command: params.command, base: base)
                // The client runs it with its own environment (its terminal's settings),
                // these variables over it, and without VAGRANT_LOG.
                let own = environment.commandEnvironment(base: [:])
                access.ssh = SSHAccess(
                    address: formation.name,
                    tool: SSHTool(
                        path: invocation.path, arguments: invocation.arguments, environment: own,
                        unset: ["VAGRANT_LOG"], directory: folder.path))
            }
            access.sshProblem = nil
        } catch let problem as VagrantProblem {
            throw problem.nephoError
        }
        return access
    }

    public func follow(_ monitor: BuildFollower) async throws -> Int32 {
        try await VagrantMonitor(monitor).run()
    }

    /// Runs `body`, turning a folder that cannot be laid out into one line.
    static func errors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as VagrantEnvironmentError {
            throw NephoError(.invalidInput, error.description)
        } catch let problem as VagrantProblem {
            throw problem.nephoError
        }
    }
}
