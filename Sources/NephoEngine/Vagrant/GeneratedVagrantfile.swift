import Foundation

/// The Vagrantfile nepho writes for a `provider: vagrant` scenario that has no
/// `patterns/vagrant/Vagrantfile` of its own.
///
/// The machine is described by parameters of fixed names, each optional except `Box`
/// (unless the provider is docker): `VagrantProvider` (`virtualbox`, `libvirt` or
/// `docker`; empty = Vagrant's own choice among VirtualBox and libvirt), `Box` (the
/// Vagrant box), `DockerImage` (the docker provider's image, default
/// `nepho/vagrant-debian:bookworm`, built by scripts/vagrant-docker-image), `SSHPort`
/// (the docker provider's ssh port on 127.0.0.1, default 2222), `CPUs` (default 2), `Memory` (MiB, default 1024),
/// `ForwardedPorts` (`HOST:GUEST[,HOST:GUEST…]`, forwarded on 127.0.0.1 only) and
/// `SyncedFolder` (`PATH:GUEST_PATH`, PATH relative to the cloudlet; empty = none).
/// Like a cloudlet's own Vagrantfile it reads every parameter from the environment
/// variable of the same name; the values resolved when the formation was created are
/// its defaults, except secrets, which are never written (their default is empty) and
/// reach vagrant only in its environment. Every parameter goes to the provisioner in
/// the shell provisioner's `env:`.
public struct GeneratedVagrantfile: Sendable {
    public var formation: String
    public var cloudletFolder: URL
    /// Parameter names in order, with the value to bake in (nil for secrets or unset ones).
    public var parameters: [(name: String, value: String?)]

    public static let machineParameters = [
        "VagrantProvider", "Box", "DockerImage", "SSHPort", "CPUs", "Memory", "ForwardedPorts",
        "SyncedFolder",
    ]

    /// The providers a scenario can choose with `VagrantProvider`.
    public static let providers = ["virtualbox", "libvirt", "docker"]

    /// The docker provider's image when `DockerImage` is not set.
    public static let defaultDockerImage = "nepho/vagrant-debian:bookworm"

    public init(formation: String, cloudletFolder: URL, parameters: [(name: String, value: String?)]) {
        self.formation = formation
        self.cloudletFolder = cloudletFolder
        self.parameters = parameters
    }

    /// Checks the machine parameters' values; throws with what is wrong.
    public func validate() throws {
        let values = Dictionary(parameters.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
        let provider = (values["VagrantProvider"] ?? nil)?.trimmingCharacters(in: .whitespaces) ?? ""
        if !provider.isEmpty, !Self.providers.contains(provider) {
            throw VagrantEnvironmentError(
                "parameter VagrantProvider must be one of \(Self.providers.joined(separator: ", ")) (or empty for Vagrant's own choice), not \"\(provider)\""
            )
        }
        if provider != "docker" {
            guard let box = values["Box"] ?? nil, !box.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw VagrantEnvironmentError(
                    "a vagrant scenario without patterns/vagrant/Vagrantfile needs a Box parameter (the Vagrant box to start, e.g. debian/bookworm64), or VagrantProvider=docker"
                )
            }
        }
        if let text = values["SSHPort"] ?? nil, !text.isEmpty,
            !((Int(text) ?? 0) > 0 && (Int(text) ?? 0) < 65536)
        {
            throw VagrantEnvironmentError(
                "parameter SSHPort must be a port number (1-65535), not \"\(text)\"")
        }
        for name in ["CPUs", "Memory"] {
            if let text = values[name] ?? nil, !text.isEmpty, (Int(text) ?? 0) < 1 {
                throw VagrantEnvironmentError(
                    "parameter \(name) must be a positive whole number, not \"\(text)\"")
            }
        }
        if let text = values["ForwardedPorts"] ?? nil, !text.isEmpty {
            for pair in text.split(separator: ",") {
                let ports = pair.trimmingCharacters(in: .whitespaces).split(separator: ":")
                guard ports.count == 2, ports.allSatisfy({ (Int($0) ?? 0) > 0 && (Int($0) ?? 0) < 65536 })
                else {
                    throw VagrantEnvironmentError(
                        "parameter ForwardedPorts must be HOST:GUEST port pairs separated by commas (e.g. 8080:80,2200:22), not \"\(text)\""
                    )
                }
            }
        }
        if let text = values["SyncedFolder"] ?? nil, !text.isEmpty {
            let parts = text.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[1].hasPrefix("/"), !parts[0].split(separator: "/").contains("..")
            else {
                throw VagrantEnvironmentError(
                    "parameter SyncedFolder must be PATH:GUEST_PATH with PATH inside the cloudlet and an absolute GUEST_PATH (e.g. site:/srv/site), not \"\(text)\""
                )
            }
        }
    }

    /// The Vagrantfile's text.
    public var text: String {
        let table = parameters.map { "  \(ruby($0.name)) => \(ruby($0.value ?? "")),\n" }.joined()
        return """
            # -*- mode: ruby -*-
            # Generated by nepho for the formation \(comment(formation)); see docs/vagrant.md.
            # Parameters reach this file as environment variables of the same name; the values
            # below are those resolved when the formation was created (secrets are never written).

            def param(name, default)
              value = ENV.fetch(name, "").strip
              value.empty? ? default : value
            end

            PARAMETERS = {
            \(table)}.freeze
            CLOUDLET = \(ruby(cloudletFolder.path))

            def setting(name, fallback)
              param(name, PARAMETERS.fetch(name, "").to_s.empty? ? fallback : PARAMETERS[name])
            end

            provisioner = param("NEPHO_PROVISIONER", File.join(__dir__, "nepho", "provision.sh"))
            provider = setting("VagrantProvider", "")
            cpus = Integer(setting("CPUs", "2"))
            memory = Integer(setting("Memory", "1024"))
            ssh_port = Integer(setting("SSHPort", "2222"))

            Vagrant.configure("2") do |config|
              config.vm.box = setting("Box", "") unless provider == "docker"
              config.vm.hostname = \(ruby(hostname))
              setting("ForwardedPorts", "").split(",").each do |pair|
                host, guest = pair.strip.split(":", 2).map { |port| Integer(port) }
                config.vm.network "forwarded_port", guest: guest, host: host, host_ip: "127.0.0.1"
              end
              synced = setting("SyncedFolder", "")
              if synced.empty?
                config.vm.synced_folder ".", "/vagrant", disabled: true
              else
                source, target = synced.split(":", 2)
                config.vm.synced_folder File.expand_path(source, CLOUDLET), target
              end

              config.vm.provider "virtualbox" do |vb|
                vb.cpus = cpus
                vb.memory = memory
              end
              config.vm.provider "libvirt" do |lv|
                lv.cpus = cpus
                lv.memory = memory
              end
              # Declared only when chosen: it needs the image scripts/vagrant-docker-image
              # builds, so Vagrant must not pick it on its own. ssh stays on 127.0.0.1.
              if provider == "docker"
                config.vm.provider "docker" do |d|
                  d.image = setting("DockerImage", \(ruby(Self.defaultDockerImage)))
                  d.has_ssh = true
                  d.cmd = ["/usr/sbin/sshd", "-D"]
                  d.ports = ["127.0.0.1:#{ssh_port}:22"]
                end
                # Vagrant's own ssh forward (127.0.0.1:2222, the same for every machine) is not wanted.
                config.vm.network "forwarded_port", id: "ssh", guest: 22, host: ssh_port, disabled: true
                config.ssh.host = "127.0.0.1"
                config.ssh.port = ssh_port
              end

              config.vm.provision "nepho", type: "shell", path: provisioner,
                env: PARAMETERS.keys.to_h { |name| [name, param(name, PARAMETERS[name])] }
            end

            """
    }

    /// A host name from the formation's name: lowercase letters, digits and dashes.
    var hostname: String {
        let mapped = formation.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" }
        let trimmed = String(mapped).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        return trimmed.isEmpty ? "nepho" : String(trimmed.prefix(63))
    }

    /// A single-quoted Ruby string literal.
    func ruby(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
            + "'"
    }

    func comment(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
    }
}
