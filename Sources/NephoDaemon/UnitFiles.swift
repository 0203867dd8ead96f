import Foundation

/// The systemd user units of nephod. `systemd/` in the repository holds the same text with
/// the default `ExecStart`; `nephod install-units` writes them with its own path.
public enum UnitFiles {
    /// Where the repository's units expect nephod.
    public static let defaultExecutable = "%h/.local/bin/nephod"

    public static let socket = """
        [Unit]
        Description=nepho nanny daemon (socket)
        # See docs/daemon.md in the nepho repository.

        [Socket]
        ListenStream=%t/nepho/nephod.sock
        SocketMode=0600
        DirectoryMode=0700

        [Install]
        WantedBy=sockets.target

        """

    /// The service; `executable` is the absolute path of `nephod`.
    public static func service(executable: String = defaultExecutable) -> String {
        """
        [Unit]
        Description=nepho nanny daemon
        # See docs/daemon.md in the nepho repository.
        Requires=nephod.socket
        After=nephod.socket

        [Service]
        Type=notify
        ExecStart=\(executable) serve
        # Build monitors are children of nephod and must outlive a restart of it: stop
        # only the main process, leave the monitors in the unit's cgroup (docs/daemon.md).
        KillMode=process
        Restart=on-failure
        TimeoutStopSec=30
        Environment=NEPHOD_LOG_LEVEL=info

        [Install]
        Also=nephod.socket

        """
    }

    /// Writes both units into `directory` and returns the paths written.
    public static func install(into directory: URL, executable: String) throws -> [String] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let files = [("nephod.socket", socket), ("nephod.service", service(executable: executable))]
        return try files.map { name, text in
            let url = directory.appendingPathComponent(name)
            try Data(text.utf8).write(to: url, options: .atomic)
            return url.path
        }
    }

    /// `$XDG_CONFIG_HOME/systemd/user`, or `~/.config/systemd/user`.
    public static func userUnitDirectory(environment: [String: String]) -> URL {
        if let config = environment["XDG_CONFIG_HOME"], !config.isEmpty {
            return URL(fileURLWithPath: config).appendingPathComponent("systemd/user", isDirectory: true)
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".config/systemd/user", isDirectory: true)
    }
}
