/// Splits a byte stream into `\n`-terminated lines (one JSON-RPC message each) and
/// refuses any line longer than `maximumLineLength` without holding it in memory.
///
/// Feed it whatever `read` returned, in any pieces (a byte at a time works); each call
/// returns the complete lines and the lines that were too long, in arrival order.
public struct LineFramer: Sendable {
    /// The largest message nepho accepts or sends: 4 MiB, newline excluded.
    public static let defaultMaximumLineLength = 4 << 20

    public enum Item: Sendable, Equatable {
        /// A whole line without its `\n` (a trailing `\r` is also removed).
        case line([UInt8])
        /// A line longer than the maximum; its bytes were dropped up to the next `\n`.
        case tooLong(length: Int)
    }

    public let maximumLineLength: Int
    private var pending: [UInt8] = []
    private var discarding = false
    private var discarded = 0

    public init(maximumLineLength: Int = LineFramer.defaultMaximumLineLength) {
        self.maximumLineLength = maximumLineLength
    }

    /// Bytes of an unfinished line held so far (0 while discarding an oversize line).
    public var bufferedCount: Int { pending.count }

    /// True when the stream ended in the middle of a line.
    public var hasPartialLine: Bool { !pending.isEmpty || discarding }

    public mutating func append<Bytes: Collection>(_ bytes: Bytes) -> [Item] where Bytes.Element == UInt8 {
        Array(bytes).withUnsafeBytes { append($0) }
    }

    /// The same for raw bytes (what `read` fills), without generic overhead.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) -> [Item] {
        var items: [Item] = []
        var start = 0
        let count = bytes.count
        while start < count {
            var newline = start
            while newline < count && bytes[newline] != 10 { newline += 1 }
            let pieceLength = newline - start
            if newline < count {
                if discarding {
                    items.append(.tooLong(length: discarded + pieceLength))
                    discarding = false
                    discarded = 0
                } else if pending.count + pieceLength > maximumLineLength {
                    items.append(.tooLong(length: pending.count + pieceLength))
                    pending.removeAll(keepingCapacity: false)
                } else {
                    var line = pending
                    line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<newline]))
                    pending.removeAll(keepingCapacity: true)
                    if line.last == 13 { line.removeLast() }
                    items.append(.line(line))
                }
                start = newline + 1
            } else {
                if discarding {
                    discarded += pieceLength
                } else if pending.count + pieceLength > maximumLineLength {
                    discarding = true
                    discarded = pending.count + pieceLength
                    pending.removeAll(keepingCapacity: false)
                } else {
                    pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<count]))
                }
                start = count
            }
        }
        return items
    }
}
