import Foundation
import NephoCore
import NephoProtocol
import NephoStore
import NephoSupport

/// Formations on Vagrant (docs/vagrant.md): as for CloudFormation, the provider call
/// happens here, in the daemon — `vagrant up` or `vagrant destroy --force` is started
/// detached, in a session of its own, so that it outlives the daemon and any monitor —
/// and the build's monitor (`VagrantBuildMonitor`) follows its log.
extension LocalAPI {
    /// The environment vagrant starts from: this process's (without `AWS_*`), with the
    /// request's `PATH`, `VAGRANT_*` and `NEPHO_VAGRANT` in place of its own, so that a
    /// daemon started from another shell runs the client's vagrant with its settings.
    var vagrantBaseEnvironment: [String: String] {
        var base = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") }
        if let context = ProviderContext.current?.environment {
            base = base.filter { !ProviderContext.isVagrantVariable($0.key) || $0.key == "PATH" }
            for (key, value) in context where ProviderContext.isVagrantVariable(key) { base[key] = value }
        }
        return base
    }

    /// The provider a create uses: `--provider` (aws or vagrant), else the scenario's.
    static func provider(_ requested: String?, scenario: Scenario) throws -> String {
        guard let requested else { return scenario.provider }
        guard Scenario.providers.contains(requested) else {
            throw NephoError(
                .invalidInput,
                "unknown provider \"\(requested)\" (nepho knows: \(Scenario.providers.joined(separator: ", ")))"
            )
        }
        return requested
    }

    /// Throws the clear "not installed" error when there is no vagrant to run.
    func requireVagrant() throws {
        let base = vagrantBaseEnvironment
        guard ProcessRunner.resolve(base["NEPHO_VAGRANT"] ?? "vagrant", environment: base) != nil else {
            throw VagrantProblem.notInstalled.nephoError
        }
    }

    /// A runner for a formation's folder; `NEPHO_VAGRANT` names another vagrant program
    /// (the tests' stand-in); a missing vagrant is the clear error, before anything is recorded.
    func vagrantRunner(_ environment: VagrantEnvironment, secrets: [String: Secret] = [:]) throws
        -> VagrantRunner
    {
        let base = vagrantBaseEnvironment
        try requireVagrant()
        return VagrantRunner(
            environment: environment, baseEnvironment: base, secrets: secrets,
            executable: base["NEPHO_VAGRANT"] ?? "vagrant")
    }

    /// `formation.create` of a `provider: vagrant` scenario, or of any scenario with `--provider vagrant`.
    func formationCreateVagrant(_ params: FormationCreateParams, cloudlet: Cloudlet, scenario: Scenario)
        async throws -> BuildSummary
    {
        let name = params.name ?? "\(cloudlet.name)-\(scenario.name)"
        try vagrantErrors { try VagrantEnvironmentWriter.checkName(name) }
        let values = try translatingErrors {
            try resolver(cloudlet: cloudlet, scenario: scenario, overrides: params.overrides).resolve()
        }
        // Up front: no vagrant is one clear line, and nothing is written.
        try requireVagrant()
        let store = try store()
        try claimFormationName(name, in: store)
        let environment = try vagrantErrors {
            try VagrantEnvironmentWriter(paths: paths).write(
                formation: name, cloudlet: cloudlet, scenario: scenario, values: values)
        }
        var parameters: [String: String] = [:]
        var secrets: [String: Secret] = [:]
        for value in values {
            guard let text = value.value else { continue }
            parameters[value.name] = value.secret ? Self.mask : text
            if value.secret { secrets[value.name] = Secret(text) }
        }
        var outputs = ["Folder": environment.folder.path]
        outputs["URL"] = environment.record.url
        let formation = try store.insertFormation(
            FormationRecord(
                name: name, provider: "vagrant", cloudlet: cloudlet.name, scenario: scenario.name,
                status: "CREATE_IN_PROGRESS", parameters: Self.jsonText(parameters),
                outputs: Self.jsonText(outputs)))
        return try startVagrantBuild(
            store: store, formation: formation, runner: try vagrantRunner(environment, secrets: secrets),
            operation: .create, command: .up)
    }

    /// Records a build, starts vagrant detached (after `previous` has stopped, when
    /// given), saves the run where any monitor finds it, and has a monitor started.
    func startVagrantBuild(
        store: StateStore, formation: FormationRecord, runner: VagrantRunner,
        operation: BuildRecord.Operation,
        command: VagrantCommand, after previous: VagrantDetachedRun? = nil
    ) throws -> BuildSummary {
        let status = VagrantBuildStatus.inProgress(operation: operation.rawValue)
        let build = try store.insertBuild(
            BuildRecord(formationID: formation.id, operation: operation, status: status))
        try store.updateFormation(id: formation.id, status: status)
        do {
            let run = try runner.startDetached(command, build: "\(build.id)", after: previous)
            try VagrantBuildMonitor.save(run, folder: runner.environment.folder, build: build.id)
        } catch {
            let reason = (error as? VagrantProblem)?.message ?? SystemError.reason(error)
            let failed = VagrantBuildStatus.word(operation.rawValue) + "_FAILED"
            try store.updateBuild(
                id: build.id, status: failed, finished: true, error: "vagrant could not be started: \(reason)"
            )
            try store.updateFormation(id: formation.id, status: failed)
            throw NephoError(.toolFailed, "vagrant could not be started: \(reason)")
        }
        // The monitor gets the secrets in memory (on its standard input), to keep them
        // out of the stored events; other builds' monitors never do.
        var context = providerEnvironment
        for (name, secret) in runner.secrets {
            context[VagrantBuildMonitor.secretPrefix + name] = secret.reveal()
        }
        supervisor.remember(build: build.id, context: context)
        supervisor.remember(build: nil, context: providerEnvironment)
        supervisor.ensureMonitors()
        return Self.summary(build, formation: formation.name)
    }

    /// `formation.destroy` of a vagrant formation: `vagrant destroy --force`, detached;
    /// a build still running is interrupted (SIGINT, as Ctrl-C) and the destroy starts
    /// once it has stopped. On success the monitor removes the formation's folder.
    func formationDestroyVagrant(_ formation: FormationRecord, store: StateStore) throws -> BuildSummary {
        let builds = try store.builds(formationID: formation.id)
        if let running = builds.last, running.finishedAt == nil, running.operation == .destroy {
            return Self.summary(running, formation: formation.name)
        }
        let folder = VagrantEnvironment.folder(paths: paths, formation: formation.name)
        let running = builds.contains {
            $0.finishedAt == nil
                && VagrantBuildMonitor.load(folder: folder, build: $0.id).map {
                    $0.exitStatus() == nil && $0.isAlive
                }
                    ?? false
        }
        // The folder is gone (removed by hand), or vagrant never made a machine (no
        // provider, a missing box): nothing is left for `vagrant destroy`, which would
        // itself need a provider. The folder goes and the name is free again.
        guard let environment = try? VagrantEnvironment.open(folder),
            running || Self.machineExists(in: folder)
        else {
            try? FileManager.default.removeItem(at: folder)
            for build in builds where build.finishedAt == nil {
                try store.updateBuild(
                    id: build.id, status: build.status, finished: true, error: "superseded by destroy")
            }
            let build = try store.insertBuild(
                BuildRecord(formationID: formation.id, operation: .destroy, status: "DELETE_COMPLETE"))
            try store.updateBuild(id: build.id, status: "DELETE_COMPLETE", finished: true)
            try store.updateFormation(id: formation.id, status: "DELETE_COMPLETE")
            return Self.summary(try store.build(id: build.id) ?? build, formation: formation.name)
        }
        let runner = try vagrantRunner(environment)
        var previous: VagrantDetachedRun?
        for build in builds where build.finishedAt == nil {
            if let run = VagrantBuildMonitor.load(folder: folder, build: build.id), run.exitStatus() == nil,
                run.isAlive
            {
                run.interrupt()
                previous = run
            }
            try store.updateBuild(
                id: build.id, status: build.status, finished: true, error: "superseded by destroy")
        }
        return try startVagrantBuild(
            store: store, formation: formation, runner: runner, operation: .destroy, command: .destroy,
            after: previous)
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

    /// `formation.cancel` of a vagrant formation: a create in progress is interrupted
    /// and destroyed; a destroy cannot be cancelled.
    func formationCancelVagrant(_ formation: FormationRecord, store: StateStore) throws -> BuildSummary {
        guard let build = try store.builds(formationID: formation.id).last, build.finishedAt == nil else {
            throw NephoError(.conflict, "formation \(formation.name) has no build in progress to cancel")
        }
        guard build.operation != .destroy else {
            throw NephoError(.conflict, "a destroy cannot be cancelled; it goes on until the machine is gone")
        }
        return try formationDestroyVagrant(formation, store: store)
    }

    /// `formation.update` of a vagrant formation: refused with what to do instead.
    func vagrantUpdateRefusal(_ formation: FormationRecord) -> NephoError {
        let folder = VagrantEnvironment.folder(paths: paths, formation: formation.name).path
        return NephoError(
            .conflict,
            "formation \(formation.name) runs on vagrant, which has no update: destroy it and create it again with the new parameters (`nepho formation:destroy \(formation.name)`), or re-run its provisioner by hand with `vagrant provision` in \(folder)"
        )
    }

    /// Runs `body`, turning a folder that cannot be laid out into one line.
    func vagrantErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as VagrantEnvironmentError {
            throw NephoError(.invalidInput, error.description)
        } catch let problem as VagrantProblem {
            throw problem.nephoError
        }
    }
}
