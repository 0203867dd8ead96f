import Foundation

/// A provisioner phase read from the reason of a stack event (docs/provisioners.md).
///
/// Two forms reach `formation:watch`:
/// - `Received SUCCESS signal with UniqueId phase-2-of-6`: how CloudFormation words a
///   signal it records as an event (the hand-off's per-phase signals have UniqueId
///   `phase-N-of-T`); the event carries no phase text.
/// - `NEPHO_PHASE 2/6 Installing packages` inside a reason, notably the hand-off's
///   FAILURE signal, which CloudFormation quotes in the wait condition's failure:
///   `WaitCondition received failed message: 'bootstrap failed with status 1 during
///   NEPHO_PHASE 3/6 Preparing the database` + newline + the log's last lines +
///   `' for uniqueId: i-0abc'`. The text ends at the end of its line (or at the quote
///   that closes the message), and such a phase is marked failed.
struct ProvisionerPhase: Equatable {
    var number: Int
    var total: Int
    var text: String
    var failed = false

    /// CloudFormation's prefix for a wait condition that received a FAILURE signal.
    static let failurePrefix = "WaitCondition received failed message: '"

    init(number: Int, total: Int, text: String, failed: Bool = false) {
        self.number = number
        self.total = total
        self.text = text
        self.failed = failed
    }

    init?(reason: String?) {
        guard let reason else { return nil }
        if let range = reason.range(of: "NEPHO_PHASE ") {
            var line = String(reason[range.upperBound...].prefix { !$0.isNewline })
            if let quote = line.range(of: "' for uniqueId: ") { line = String(line[..<quote.lowerBound]) }
            let parts = line.split(separator: " ", maxSplits: 1)
            guard let fraction = parts.first, let phase = Self.fraction(fraction, separator: "/") else {
                return nil
            }
            self.init(
                number: phase.number, total: phase.total,
                text: parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "",
                failed: reason.hasPrefix(Self.failurePrefix))
            return
        }
        if let range = reason.range(of: "signal with UniqueId phase-") {
            let id = reason[range.upperBound...].prefix { !$0.isWhitespace }
            guard let phase = Self.fraction(id, separator: "-of-") else { return nil }
            self.init(
                number: phase.number, total: phase.total, text: "phase \(phase.number) of \(phase.total)")
            return
        }
        return nil
    }

    /// `2/6 Installing packages`, with ` (failed)` after a FAILURE signal.
    var summary: String { "\(number)/\(total) \(text)" + (failed ? " (failed)" : "") }

    /// `N<separator>T` with 1 ≤ N ≤ T.
    private static func fraction(_ text: Substring, separator: String) -> (number: Int, total: Int)? {
        guard let range = text.range(of: separator), let number = Int(text[..<range.lowerBound]),
            let total = Int(text[range.upperBound...]), number >= 1, number <= total
        else { return nil }
        return (number, total)
    }
}
