import Foundation
import NephoCore
import NephoSupport

/// Lays out a formation's Vagrant environment (see `VagrantEnvironment`) from a
/// cloudlet, a `provider: vagrant` scenario and its resolved parameters.
///
/// The Vagrantfile is the cloudlet's `patterns/<pattern>` when a `provider: vagrant`
/// scenario names one, else `patterns/vagrant/Vagrantfile` when the cloudlet has it
/// (also for another provider's scenario run with `--provider vagrant`), copied as it
/// is; otherwise, for a vagrant scenario, a `GeneratedVagrantfile`. The scenario's provisioner is embedded in
/// nepho's hand-off (`VagrantHandoff`) as `nepho/provision.sh`. Nothing secret is
/// written: secret parameters are recorded by name only.
public struct VagrantEnvironmentWriter: Sendable {
    public var paths: NephoPaths

    public init(paths: NephoPaths) { self.paths = paths }

    /// Writes the folder for `formation` and returns it. Refuses a folder that already
    /// holds a Vagrant machine (`.vagrant/machines`), which would be orphaned.
    public func write(
        formation: String, cloudlet: Cloudlet, scenario: Scenario, values given: [ResolvedValue]
    ) throws -> VagrantEnvironment {
        if let problem = FormationName.problem(formation) { throw VagrantEnvironmentError(problem) }
        let values = try Self.choosingSSHPort(given, taken: sshPorts())
        let folder = VagrantEnvironment.folder(paths: paths, formation: formation)
        let machines = folder.appendingPathComponent(".vagrant/machines")
        if FileManager.default.fileExists(atPath: machines.path) {
            throw VagrantEnvironmentError(
                "\(folder.path) already holds a Vagrant machine: destroy that formation first (`vagrant destroy -f` there)"
            )
        }
        let patterns = cloudlet.folder.appendingPathComponent("patterns")
        let cloudletVagrantfile = patterns.appendingPathComponent("vagrant/Vagrantfile")
        var source: URL?
        if scenario.provider == Providers.vagrant.provider, let pattern = scenario.pattern {
            source = patterns.appendingPathComponent(pattern)
        } else if FileManager.default.fileExists(atPath: cloudletVagrantfile.path) {
            source = cloudletVagrantfile
        } else if scenario.provider != Providers.vagrant.provider {
            // `--provider vagrant` on another provider's scenario needs the cloudlet's Vagrantfile.
            throw VagrantEnvironmentError(
                "scenario \(cloudlet.name)/\(scenario.name) is for \(scenario.provider), and \(cloudlet.name) has no patterns/vagrant/Vagrantfile to run it with vagrant"
            )
        }
        for value in values where !Self.isEnvironmentName(value.name) {
            throw VagrantEnvironmentError(
                "parameter \(value.name) of \(cloudlet.name)/\(scenario.name) cannot be an environment variable name (letters, digits and _ only)"
            )
        }
        let vagrantfile: String
        if let source {
            guard let text = try? String(contentsOf: source, encoding: .utf8) else {
                throw VagrantEnvironmentError(
                    "cannot read the Vagrantfile \(source.path) of \(cloudlet.name)/\(scenario.name)")
            }
            vagrantfile = Self.byHandPreamble(formation: formation, values: values) + text
        } else {
            let generated = GeneratedVagrantfile(
                formation: formation, cloudletFolder: cloudlet.folder,
                parameters: values.map { ($0.name, $0.secret ? nil : $0.value) })
            try generated.validate()
            vagrantfile = generated.text
        }
        guard let provisionerName = scenario.provisioner else {
            throw VagrantEnvironmentError(
                "scenario \(cloudlet.name)/\(scenario.name) names no provisioner script")
        }
        let provisionerFile = cloudlet.folder.appendingPathComponent("provisioners").appendingPathComponent(
            provisionerName)
        guard let bootstrap = try? String(contentsOf: provisionerFile, encoding: .utf8) else {
            throw VagrantEnvironmentError("cannot read the provisioner \(provisionerFile.path)")
        }
        let handoff = try VagrantHandoff.script(bootstrap: bootstrap, provisionerName: provisionerName)

        var parameters: [String: String] = [:]
        for value in values where !value.secret {
            if let text = value.value { parameters[value.name] = text }
        }
        let record = VagrantEnvironment.Record(
            formation: formation, cloudlet: cloudlet.name, cloudletFolder: cloudlet.folder.path,
            scenario: scenario.name,
            generatedVagrantfile: source == nil, parameters: parameters,
            secretParameters: values.filter(\.secret).map(\.name),
            url: scenario.url.map { VagrantEnvironment.substitute($0, parameters: parameters) })
        let environment = VagrantEnvironment(folder: folder, record: record)
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("nepho"), withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        try AtomicFile.write(Data(vagrantfile.utf8), to: environment.vagrantfile, mode: 0o644)
        try AtomicFile.write(Data(handoff.utf8), to: environment.provisionerScript, mode: 0o755)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(record), to: environment.recordFile, mode: 0o600)
        return environment
    }

    /// With the docker provider and no `SSHPort`, a free port on 127.0.0.1 as `SSHPort`:
    /// chosen once, at create, and kept in the formation's folder (its Vagrantfile and
    /// record), so two docker formations never share one. The fallback of the generated
    /// Vagrantfile, 2222 (Vagrant's own), is the same for every machine: a second docker
    /// formation would fail to start on it.
    static func choosingSSHPort(_ values: [ResolvedValue], taken: Set<String>) throws -> [ResolvedValue] {
        func value(_ name: String) -> String {
            values.first { $0.name == name }?.value?.trimmingCharacters(in: .whitespaces) ?? ""
        }
        guard value("VagrantProvider") == "docker", value("SSHPort").isEmpty else { return values }
        // Free now, and not another formation's (a halted machine's port is free too).
        // Below Linux's ephemeral range (32768 and up), where no outgoing connection takes it
        // while the machine is halted.
        let port = (0..<50).lazy.map { _ in UInt16.random(in: 20000...32000) }
            .first { !taken.contains(String($0)) && LoopbackPort.isFree($0) }
        guard let port else {
            throw VagrantEnvironmentError(
                "no free port on 127.0.0.1 for the machine's ssh: give one with -p SSHPort=PORT")
        }
        var chosen = values.filter { $0.name != "SSHPort" }
        chosen.append(
            ResolvedValue(
                name: "SSHPort", value: String(port),
                description: "the port on 127.0.0.1 that reaches the machine's sshd (chosen by nepho)"))
        return chosen
    }

    /// The `SSHPort`s of this home's Vagrant formations.
    func sshPorts() -> Set<String> {
        let formations = paths.home.appendingPathComponent("formations", isDirectory: true)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: formations.path)) ?? []
        return Set(
            names.compactMap { name in
                (try? VagrantEnvironment.open(formations.appendingPathComponent(name)))?.record.parameters[
                    "SSHPort"]
            })
    }

    /// Put before a cloudlet's Vagrantfile copied into a formation's folder, so that the
    /// folder stays a Vagrant project a person can work in (`vagrant status`, `vagrant
    /// ssh`, `vagrant provision` there): where the environment gives no value (as it does
    /// when nepho runs vagrant), the formation's own non-secret values and the hand-off
    /// beside the file are used, not the cloudlet's fallbacks (whose paths point outside).
    static func byHandPreamble(formation: String, values: [ResolvedValue]) -> String {
        func quoted(_ text: String) -> String {
            "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
                + "'"
        }
        var pairs = [#"  "NEPHO_PROVISIONER" => File.join(__dir__, "nepho", "provision.sh"),"#]
        for value in values where !value.secret {
            guard let text = value.value else { continue }
            pairs.append("  \(quoted(value.name)) => \(quoted(text)),")
        }
        return """
            # Written by nepho for formation \(formation): run by hand in this folder, vagrant uses
            # these values where the environment gives none (secret values are not written here).
            {
            \(pairs.joined(separator: "\n"))
            }.each { |name, value| ENV[name] = value if ENV.fetch(name, "").strip.empty? }

            """
    }

    static func isEnvironmentName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }
}
