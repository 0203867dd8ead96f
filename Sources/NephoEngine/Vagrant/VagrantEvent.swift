import Foundation

/// What one line of `vagrant --machine-readable` output means to nepho.
public struct VagrantEvent: Sendable, Equatable {
    /// Seconds since 1970 (UTC), from the line.
    public var timestamp: Int
    /// The machine's name, or empty for the environment as a whole.
    public var machine: String
    public var kind: Kind

    public init(timestamp: Int, machine: String, kind: Kind) {
        self.timestamp = timestamp
        self.machine = machine
        self.kind = kind
    }

    public enum Kind: Sendable, Equatable {
        /// `action,NAME,start|end`: Vagrant began or finished an action (up, provision, halt, destroy…).
        case action(name: String, phase: ActionPhase)
        /// A message for people, without Vagrant's `==> default: ` prefix.
        case message(level: MessageLevel, text: String)
        /// `state,ID` (from `vagrant status`), or inferred from a finished action.
        case state(VagrantMachineState)
        /// `metadata,KEY,VALUE`, `provider-name,…` and other key/value lines.
        case metadata(key: String, value: String)
        /// One line the provisioner script printed (standard output or error).
        case provisionerOutput(String)
        /// A `NEPHO_PHASE n/total text` line of the provisioner.
        case phase(ProvisionerPhase)
        /// nepho's hand-off finished the script: `NEPHO_RESULT SUCCESS|FAILURE text`.
        case provisionerResult(succeeded: Bool, text: String)
        /// `error-exit,CLASS,MESSAGE`: Vagrant stopped with an error.
        case error(VagrantFailure)
        /// A line of a type nepho does not interpret, kept whole.
        case other(type: String, data: [String])
    }

    public enum ActionPhase: String, Sendable, Equatable { case start, end }

    /// The level of a `ui` line (Vagrant's UI methods).
    public enum MessageLevel: String, Sendable, Equatable, CaseIterable {
        case info, output, detail, success, warn, error
    }
}

/// A machine's state as Vagrant names it (`running`, `poweroff`, `not_created`, …).
public struct VagrantMachineState: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let notCreated = VagrantMachineState(rawValue: "not_created")
    public static let running = VagrantMachineState(rawValue: "running")
    public static let poweroff = VagrantMachineState(rawValue: "poweroff")
    public static let saved = VagrantMachineState(rawValue: "saved")
    public static let aborted = VagrantMachineState(rawValue: "aborted")
    public static let unknown = VagrantMachineState(rawValue: "unknown")

    public var description: String { rawValue }

    /// The state a machine is in after `action` ends well; nil when the action does not change it.
    public static func after(action: String) -> VagrantMachineState? {
        switch action {
        case "up", "reload", "resume": return .running
        case "halt": return .poweroff
        case "suspend": return .saved
        case "destroy": return .notCreated
        default: return nil
        }
    }
}

/// A `NEPHO_PHASE <n>/<total> <text>` line (docs/cloudlets.md, "Provisioners").
public struct ProvisionerPhase: Sendable, Equatable {
    public var number: Int
    public var total: Int
    public var text: String

    public init(number: Int, total: Int, text: String) {
        self.number = number
        self.total = total
        self.text = text
    }

    /// Reads a line of the provisioner's output; nil unless it is a well-formed phase line.
    public init?<S: StringProtocol>(line: S) {
        let prefix = "NEPHO_PHASE "
        guard line.hasPrefix(prefix) else { return nil }
        let rest = Substring(line).dropFirst(prefix.count)
        guard let space = rest.firstIndex(of: " ") else { return nil }
        let counts = rest[..<space].split(separator: "/", omittingEmptySubsequences: false)
        let text = rest[rest.index(after: space)...]
        guard counts.count == 2, let number = Self.positive(counts[0]), let total = Self.positive(counts[1]),
            number <= total, !text.isEmpty
        else { return nil }
        self.init(number: number, total: total, text: String(text))
    }

    private static func positive(_ digits: Substring) -> Int? {
        guard let first = digits.first, first != "0", digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return nil
        }
        return Int(digits)
    }
}

/// Vagrant's `error-exit`: the error's Ruby class and its message.
public struct VagrantFailure: Sendable, Equatable {
    /// For example `Vagrant::Errors::NoDefaultProvider`.
    public var errorClass: String
    public var message: String

    public init(errorClass: String, message: String) {
        self.errorClass = errorClass
        self.message = message
    }
}
