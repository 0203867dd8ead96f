import Foundation

/// nepho's hand-off script for Vagrant: the scenario's bootstrap script embedded in a
/// wrapper that Vagrant's shell provisioner uploads and runs as root in the machine.
///
/// The wrapper writes the bootstrap script to `/etc/nepho/bootstrap.sh`, runs it with
/// the provisioner's environment (the parameters), copies its output (standard error
/// merged into standard output, so the order is kept) to `/var/log/nepho-bootstrap.log`
/// and to Vagrant, which prints each line as a `ui,detail` line of the machine; the
/// script's own `NEPHO_PHASE n/total text` lines are the phases. At the end it prints
/// one `NEPHO_RESULT SUCCESS|FAILURE <reason>` line, the same reason the AWS hand-off
/// signals (the last phase, or the exit status and the log's last five lines), and exits
/// with the script's status, so a failure also fails `vagrant up`.
public enum VagrantHandoff {
    /// The wrapper around `bootstrap` (the provisioner file's text).
    public static func script(bootstrap: String, provisionerName: String) throws -> String {
        let marker = "NEPHO_BOOTSTRAP_END"
        if bootstrap.split(separator: "\n").contains(where: { $0 == marker }) {
            throw VagrantEnvironmentError(
                "provisioner \(provisionerName) contains a line \"\(marker)\", which nepho's hand-off uses to embed it"
            )
        }
        let body = bootstrap.hasSuffix("\n") ? bootstrap : bootstrap + "\n"
        return """
            #!/usr/bin/env bash
            # nepho's Vagrant hand-off (generated; do not edit): runs the scenario's
            # provisioner \(provisionerName) with the parameters as its environment and reports
            # how it ended on a NEPHO_RESULT line. See docs/vagrant.md.
            set -u
            umask 022
            mkdir -p /etc/nepho
            chmod 700 /etc/nepho
            cat > /etc/nepho/bootstrap.sh <<'\(marker)'
            \(body)\(marker)
            chmod 700 /etc/nepho/bootstrap.sh
            log=/var/log/nepho-bootstrap.log
            : > "$log"
            chmod 600 "$log"
            bash /etc/nepho/bootstrap.sh < /dev/null 2>&1 | tee -a "$log"
            status=${PIPESTATUS[0]}
            if [ "$status" -eq 0 ]; then
                echo "NEPHO_RESULT SUCCESS bootstrap finished: $(grep '^NEPHO_PHASE ' "$log" | tail -n 1)"
            else
                echo "NEPHO_RESULT FAILURE bootstrap exited with status $status: $(tail -n 5 "$log" | tr '\\n' ' ')"
            fi
            exit "$status"

            """
    }
}

/// A formation folder that cannot be laid out.
public struct VagrantEnvironmentError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
