import Foundation
import NephoSupport

/// A formation's Vagrant environment: the folder `$NEPHO_HOME/formations/NAME/` with its
/// `Vagrantfile`, nepho's hand-off `nepho/provision.sh` and `nepho/formation.json`
/// (cloudlet, scenario, the non-secret parameter values and the names of the secret
/// ones), beside Vagrant's own `.vagrant/`.
public struct VagrantEnvironment: Sendable, Equatable {
    public var folder: URL
    public var record: Record

    /// What `nepho/formation.json` holds. Secret values are never in it.
    public struct Record: Codable, Sendable, Equatable {
        public var formation: String
        public var cloudlet: String
        public var cloudletFolder: String
        public var scenario: String
        /// True when nepho wrote the Vagrantfile (the scenario has no pattern).
        public var generatedVagrantfile: Bool
        /// Non-secret parameter values, by name.
        public var parameters: [String: String]
        /// Names of secret parameters: their values are given to each vagrant run in memory.
        public var secretParameters: [String]
        /// The scenario's `url` with `${Name}` replaced by the parameter values (what
        /// `formation:open` opens); nil when the scenario names none.
        public var url: String?
    }

    public var vagrantfile: URL { folder.appendingPathComponent("Vagrantfile") }
    public var provisionerScript: URL { folder.appendingPathComponent("nepho/provision.sh") }
    public var recordFile: URL { Self.recordFile(in: folder) }

    static func recordFile(in folder: URL) -> URL { folder.appendingPathComponent("nepho/formation.json") }

    /// `$NEPHO_HOME/formations/NAME`.
    public static func folder(paths: NephoPaths, formation: String) -> URL {
        paths.home.appendingPathComponent("formations", isDirectory: true).appendingPathComponent(
            formation, isDirectory: true)
    }

    /// Opens a folder laid out by `VagrantEnvironmentWriter`.
    public static func open(_ folder: URL) throws -> VagrantEnvironment {
        let file = recordFile(in: folder)
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw VagrantEnvironmentError(
                "\(folder.path) is not a nepho Vagrant formation (no \(file.lastPathComponent))")
        }
        do {
            return VagrantEnvironment(
                folder: folder, record: try JSONDecoder().decode(Record.self, from: data))
        } catch {
            throw VagrantEnvironmentError("\(file.path) cannot be read: \(error)")
        }
    }

    /// The environment of a vagrant command for this formation: `base` (the caller's,
    /// without `VAGRANT_LOG`, whose debug output would show the provisioner's
    /// environment), the stored parameters, the given secrets, `NEPHO_PROVISIONER`,
    /// and `VAGRANT_CWD` so that vagrant reads this folder's Vagrantfile; the parameter
    /// `VagrantProvider`, when set, as `VAGRANT_DEFAULT_PROVIDER`.
    /// Secrets live only in this dictionary, i.e. in vagrant's process environment.
    public func commandEnvironment(base: [String: String], secrets: [String: Secret] = [:]) -> [String:
        String]
    {
        var environment = base
        environment["VAGRANT_LOG"] = nil
        environment["VAGRANT_CWD"] = folder.path
        environment["VAGRANT_NO_COLOR"] = "1"
        for (name, value) in record.parameters { environment[name] = value }
        for name in record.secretParameters {
            environment[name] = secrets[name]?.reveal()
        }
        // The scenario's provider choice (`virtualbox`, `libvirt`, `docker`) is Vagrant's
        // default provider for this folder, over the caller's VAGRANT_DEFAULT_PROVIDER.
        if let provider = record.parameters["VagrantProvider"]?.trimmingCharacters(in: .whitespaces),
            !provider.isEmpty
        {
            environment["VAGRANT_DEFAULT_PROVIDER"] = provider
        }
        environment["NEPHO_PROVISIONER"] = provisionerScript.path
        return environment
    }

    /// `vagrant ssh [-- COMMAND…]` in this folder: the program, its arguments and its
    /// environment, for a command that hands the terminal over (exec) to it. Secrets
    /// are not needed and not given. `NEPHO_VAGRANT` in `base` names another vagrant
    /// program (a test hook, docs/vagrant.md).
    public func sshInvocation(
        command: [String] = [], base: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> (path: String, arguments: [String], environment: [String: String]) {
        guard let path = ProcessRunner.resolve(base["NEPHO_VAGRANT"] ?? "vagrant", environment: base) else {
            throw VagrantProblem.notInstalled
        }
        return (path, ["ssh"] + (command.isEmpty ? [] : ["--"] + command), commandEnvironment(base: base))
    }

    /// Replaces each `${Name}` in `template` with the parameter's value; a secret or
    /// unknown name is left as it is.
    public static func substitute(_ template: String, parameters: [String: String]) -> String {
        var text = template
        for (name, value) in parameters { text = text.replacingOccurrences(of: "${\(name)}", with: value) }
        return text
    }
}
