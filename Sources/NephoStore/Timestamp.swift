import Foundation

/// The one way nepho writes and reads times in `state.db`, events and the wire: UTC,
/// ISO 8601 with milliseconds (`2026-12-04T11:24:03.123Z`). One formatter for the process.
public enum Timestamp {
    private static let lock = NSLock()
    nonisolated(unsafe) private static let formatter: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()

    public static func string(_ date: Date) -> String { lock.withLock { formatter.string(from: date) } }

    public static func date(_ text: String) -> Date? { lock.withLock { formatter.date(from: text) } }

    public static func now() -> String { string(Date()) }
}
