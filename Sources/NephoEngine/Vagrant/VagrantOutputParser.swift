import Foundation

/// Turns the lines of a `vagrant … --machine-readable` run into `VagrantEvent`s, one
/// line at a time as they arrive, and sums the run up at the end.
///
/// The provisioner's own output reaches machine-readable mode as `ui,detail` lines of
/// the machine (`    default: <line>`) after Vagrant's `Running provisioner: NAME…`
/// message and its `Running: SCRIPT` detail; the parser reports those lines as
/// `.provisionerOutput`, and the `NEPHO_PHASE` and `NEPHO_RESULT` lines among them as
/// `.phase` and `.provisionerResult`.
public struct VagrantOutputParser: Sendable {
    /// Every event so far, in order.
    public private(set) var events: [VagrantEvent] = []
    /// The last state seen or inferred for each machine.
    public private(set) var states: [String: VagrantMachineState] = [:]
    /// The last phase line of the provisioner.
    public private(set) var lastPhase: ProvisionerPhase?
    /// Vagrant's `error-exit`, when it printed one.
    public private(set) var failure: VagrantFailure?
    /// nepho's hand-off result line, when the provisioner ran to its end.
    public private(set) var provisionerResult: (succeeded: Bool, text: String)?
    /// Lines that were not machine-readable (plugins writing directly), kept for the log.
    public private(set) var unparsedLines: [String] = []

    /// Machines whose provisioner is running: true until Vagrant's `Running: …` line was seen.
    private var provisioning: [String: Bool] = [:]

    public init() {}

    /// Reads one line (without its newline) and returns the events it makes.
    @discardableResult
    public mutating func feed<S: StringProtocol>(_ text: S) -> [VagrantEvent] {
        guard let line = VagrantMachineReadableLine.parse(text) else {
            if !text.isEmpty { unparsedLines.append(String(text)) }
            return []
        }
        let made = interpret(line)
        events += made
        return made
    }

    /// Reads many lines at once (a whole transcript).
    public mutating func feed(transcript: String) {
        for line in transcript.split(separator: "\n", omittingEmptySubsequences: true) { feed(line) }
    }

    /// The run's outcome, given the exit status of vagrant.
    public func summary(exitStatus: Int32) -> VagrantRunSummary {
        VagrantRunSummary(
            exitStatus: exitStatus, states: states, failure: failure, lastPhase: lastPhase,
            provisionerSucceeded: provisionerResult?.succeeded, eventCount: events.count,
            provisionerReport: provisionerResult?.text)
    }

    private mutating func interpret(_ line: VagrantMachineReadableLine) -> [VagrantEvent] {
        let machine = line.target
        func event(_ kind: VagrantEvent.Kind) -> VagrantEvent {
            VagrantEvent(timestamp: line.timestamp, machine: machine, kind: kind)
        }
        switch line.type {
        case "action" where line.data.count >= 2:
            provisioning[machine] = nil
            guard let phase = VagrantEvent.ActionPhase(rawValue: line.data[1]) else {
                return [event(.other(type: line.type, data: line.data))]
            }
            var made = [event(.action(name: line.data[0], phase: phase))]
            if phase == .end, let state = VagrantMachineState.after(action: line.data[0]) {
                states[machine] = state
                made.append(event(.state(state)))
            }
            return made
        case "ui" where line.data.count >= 2:
            guard let level = VagrantEvent.MessageLevel(rawValue: line.data[0]) else {
                return [event(.other(type: line.type, data: line.data))]
            }
            return interpretMessage(
                level: level, text: line.data[1...].joined(separator: ","), machine: machine, event: event)
        case "state" where !line.data.isEmpty:
            let state = VagrantMachineState(rawValue: line.data[0])
            states[machine] = state
            return [event(.state(state))]
        case "error-exit" where line.data.count >= 2:
            let found = VagrantFailure(
                errorClass: line.data[0], message: line.data[1...].joined(separator: ","))
            failure = found
            provisioning[machine] = nil
            return [event(.error(found))]
        case "metadata" where line.data.count >= 2:
            return [event(.metadata(key: line.data[0], value: line.data[1...].joined(separator: ",")))]
        case "provider-name", "state-human-short", "state-human-long", "box-name", "box-provider",
            "box-version":
            return [event(.metadata(key: line.type, value: line.data.joined(separator: ",")))]
        default:
            return [event(.other(type: line.type, data: line.data))]
        }
    }

    private mutating func interpretMessage(
        level: VagrantEvent.MessageLevel, text raw: String, machine: String,
        event: (VagrantEvent.Kind) -> VagrantEvent
    ) -> [VagrantEvent] {
        let text = Self.strippingPrefix(raw, machine: machine)
        if level == .detail, let seenRunning = provisioning[machine] {
            if !seenRunning && text.hasPrefix("Running: ") {
                provisioning[machine] = true
                return [event(.message(level: level, text: text))]
            }
            var made = [event(.provisionerOutput(text))]
            if let phase = ProvisionerPhase(line: text) {
                lastPhase = phase
                made.append(event(.phase(phase)))
            } else if let result = Self.result(text) {
                provisionerResult = result
                made.append(event(.provisionerResult(succeeded: result.succeeded, text: result.text)))
            }
            return made
        }
        provisioning[machine] = nil
        if !machine.isEmpty && text.hasPrefix("Running provisioner: ") {
            provisioning[machine] = false
        }
        return [event(.message(level: level, text: text))]
    }

    /// Removes Vagrant's `==> NAME: ` (or `    NAME: ` for details) from each line of a message.
    static func strippingPrefix(_ text: String, machine: String) -> String {
        guard !machine.isEmpty else { return text }
        let prefixes = ["==> \(machine): ", "    \(machine): ", "==> \(machine):", "    \(machine):"]
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            for prefix in prefixes where line.hasPrefix(prefix) { return line.dropFirst(prefix.count) }
            return line
        }.joined(separator: "\n")
    }

    static func result(_ text: String) -> (succeeded: Bool, text: String)? {
        for (word, succeeded) in [("NEPHO_RESULT SUCCESS", true), ("NEPHO_RESULT FAILURE", false)]
        where text == word || text.hasPrefix(word + " ") {
            return (succeeded, String(text.dropFirst(word.count)).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}

/// How a vagrant run ended.
public struct VagrantRunSummary: Sendable, Equatable {
    public var exitStatus: Int32
    /// The last state seen or inferred for each machine.
    public var states: [String: VagrantMachineState]
    public var failure: VagrantFailure?
    public var lastPhase: ProvisionerPhase?
    /// nil when the hand-off did not report (the provisioner did not run, or not to its end).
    public var provisionerSucceeded: Bool?
    public var eventCount: Int
    /// The hand-off's `NEPHO_RESULT` text: for a failure, the exit status and the
    /// script's last lines.
    public var provisionerReport: String? = nil

    public var succeeded: Bool { exitStatus == 0 && failure == nil && provisionerSucceeded != false }

    /// The state of the only machine, or of `default`.
    public var state: VagrantMachineState? {
        states.count == 1 ? states.first?.value : states["default"]
    }
}
