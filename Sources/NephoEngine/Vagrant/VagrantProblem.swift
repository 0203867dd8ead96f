import Foundation
import NephoProtocol
import NephoSupport

/// A vagrant failure a user can act on: what went wrong, in one line, and what to do.
public struct VagrantProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// No `vagrant` on PATH.
        case notInstalled
        /// Neither VirtualBox nor libvirt (nor another provider) can run machines here.
        case noUsableProvider
        /// The scenario's box is not installed and could not be downloaded.
        case boxMissing
        /// The Vagrantfile does not load or its configuration is invalid.
        case invalidVagrantfile
        /// The provisioner (the scenario's bootstrap script) exited non-zero.
        case provisionerFailed
        /// Anything else vagrant reported.
        case failed
    }

    public var kind: Kind
    public var message: String
    /// What to do about it.
    public var remedy: String
    /// Vagrant's own message, when it gave one.
    public var vagrantMessage: String?

    public init(kind: Kind, message: String, remedy: String, vagrantMessage: String? = nil) {
        self.kind = kind
        self.message = message
        self.remedy = remedy
        self.vagrantMessage = vagrantMessage
    }

    public var description: String {
        var text = "\(message)\n\(remedy)"
        if let vagrantMessage, !vagrantMessage.isEmpty {
            text +=
                "\nvagrant said:\n"
                + vagrantMessage.split(separator: "\n", omittingEmptySubsequences: false)
                .map { "  \($0)" }.joined(separator: "\n")
        }
        return text
    }

    public static let notInstalled = VagrantProblem(
        kind: .notInstalled, message: "vagrant is not installed (no `vagrant` on PATH)",
        remedy:
            "Install it (Debian and Ubuntu: `sudo apt-get install --no-install-recommends vagrant`; elsewhere see vagrantup.com), then run the command again."
    )

    static let providerErrors: Set<String> = [
        "NoDefaultProvider", "ProviderNotUsable", "ProviderNotFound", "ProviderNotFoundSuggestion",
        "VirtualBoxNotDetected", "VirtualBoxKernelModuleNotLoaded", "VirtualBoxInstallIncomplete",
        "VBoxManageNotFoundError", "VirtualBoxInvalidVersion",
    ]
    static let boxErrors: Set<String> = [
        "BoxNotFound", "BoxAddShortNotFound", "BoxNotFoundWithProvider", "BoxNotFoundWithProviderAndVersion",
        "BoxAddNoMatchingProvider", "BoxAddNoMatchingVersion", "BoxUpdateNoMetadata",
        "BoxNotFoundWithVersion",
    ]
    static let vagrantfileErrors: Set<String> = [
        "VagrantfileSyntaxError", "VagrantfileLoadError", "VagrantfileNameError", "ConfigInvalid",
        "ConfigUpgradeErrors",
    ]

    /// Explains Vagrant's `error-exit`. `folder` is the formation's folder, for the advice.
    public static func explain(_ failure: VagrantFailure, folder: String? = nil) -> VagrantProblem {
        let name = failure.errorClass.split(separator: ":").last.map(String.init) ?? failure.errorClass
        let inFolder = folder.map { " (in \($0))" } ?? ""
        if providerErrors.contains(name) {
            return VagrantProblem(
                kind: .noUsableProvider,
                message: "vagrant found no usable provider to run the machine (\(name))",
                remedy:
                    "Install VirtualBox, or libvirt with the vagrant-libvirt plugin (Debian: `sudo apt-get install vagrant-libvirt libvirt-daemon-system` and add yourself to the libvirt group), then run the command again; `vagrant up --provider=NAME`\(inFolder) shows why a given provider is not usable.",
                vagrantMessage: failure.message)
        }
        if boxErrors.contains(name) {
            let box = quotedName(in: failure.message)
            let boxText = box.map { "box \($0)" } ?? "the box"
            return VagrantProblem(
                kind: .boxMissing,
                message: "\(boxText) is not installed and vagrant could not fetch it (\(name))",
                remedy:
                    "Add it with `vagrant box add \(box ?? "BOX")` (it needs the network, or a .box file: `vagrant box add --name \(box ?? "BOX") FILE.box`), or choose another box with `-p Box=NAME`; `vagrant box list` shows the boxes you have.",
                vagrantMessage: failure.message)
        }
        if vagrantfileErrors.contains(name) {
            return VagrantProblem(
                kind: .invalidVagrantfile, message: "the Vagrantfile\(inFolder) is not valid (\(name))",
                remedy:
                    "Fix the cloudlet's patterns/vagrant/Vagrantfile (check it with `vagrant validate -p`), then create the formation again.",
                vagrantMessage: failure.message)
        }
        if name == "VagrantError" && failure.message.contains("non-zero exit status") {
            return VagrantProblem(
                kind: .provisionerFailed, message: "the provisioner (the scenario's bootstrap script) failed",
                remedy:
                    "Read its output above (`nepho formation:logs`); fix the script or the parameters, then run `vagrant provision`\(inFolder) or recreate the formation.",
                vagrantMessage: failure.message)
        }
        return VagrantProblem(
            kind: .failed, message: "vagrant failed (\(name))",
            remedy: "Read vagrant's message below; `vagrant status`\(inFolder) shows the machine's state.",
            vagrantMessage: failure.message)
    }

    /// The first 'single-quoted' word of a message (Vagrant quotes box names so).
    static func quotedName(in message: String) -> String? {
        guard let open = message.firstIndex(of: "'") else { return nil }
        let rest = message[message.index(after: open)...]
        guard let close = rest.firstIndex(of: "'"), close > rest.startIndex else { return nil }
        return String(rest[..<close])
    }
}

extension VagrantProblem {
    /// A failed provisioner's problem with what the hand-off reported (the script's exit
    /// status and last lines) in its message, so that the build's error shows them.
    public func withProvisionerReport(_ summary: VagrantRunSummary) -> VagrantProblem {
        guard kind == .provisionerFailed, summary.provisionerSucceeded == false,
            let report = summary.provisionerReport, !report.isEmpty
        else { return self }
        var problem = self
        problem.message = "the provisioner (the scenario's bootstrap script) failed: \(report)"
        return problem
    }

    /// The problem with every occurrence of the secrets' values replaced by `<redacted>`:
    /// the provisioner's report is the script's own output, which may print a secret
    /// (it must not), and the problem becomes the build's stored error.
    public func redacting(_ secrets: [Secret]) -> VagrantProblem {
        func redact(_ text: String) -> String {
            var text = text
            for secret in secrets where !secret.isEmpty {
                text = text.replacingOccurrences(of: secret.reveal(), with: "<redacted>")
            }
            return text
        }
        var problem = self
        problem.message = redact(message)
        problem.remedy = redact(remedy)
        problem.vagrantMessage = vagrantMessage.map(redact)
        return problem
    }

    /// The problem as the error that crosses the wire (`toolFailed`): the message and
    /// what to do, with vagrant's own message as details.
    public var nephoError: NephoError {
        NephoError(
            .toolFailed, "\(message)\n\(remedy)",
            details: vagrantMessage.map {
                $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            } ?? [])
    }
}
