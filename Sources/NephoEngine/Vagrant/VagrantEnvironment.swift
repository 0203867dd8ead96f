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
    /// and `VAGRANT_CWD` so that vagrant reads this folder's Vagrantfile.
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
        environment["NEPHO_PROVISIONER"] = provisionerScript.path
        return environment
    }
}
