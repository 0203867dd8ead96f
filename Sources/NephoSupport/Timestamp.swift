import Foundation

/// The one way nepho writes and reads times — in `state.db`, events, the wire, the
/// registry cache and its output: UTC, ISO 8601 (`2026-12-04T11:24:03.123Z`, or to the
/// second where a format wants that). One pair of formatters for the process.
public enum Timestamp {
    private static let lock = NSLock()
    nonisolated(unsafe) private static let fractional: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
    nonisolated(unsafe) private static let seconds = ISO8601DateFormatter()

    /// `date` with milliseconds (`fractionalSeconds`, the default) or to the second.
    public static func string(_ date: Date, fractionalSeconds: Bool = true) -> String {
        lock.withLock { (fractionalSeconds ? fractional : seconds).string(from: date) }
    }

    /// A time written either way; nil when `text` is not one.
    public static func date(_ text: String) -> Date? {
        lock.withLock { fractional.date(from: text) ?? seconds.date(from: text) }
    }

    public static func now() -> String { string(Date()) }
}
