import Foundation

/// The fields search needs, for every entry of one or more registries, in one flat
/// byte buffer: what `cloudlet:search` reads instead of decoding whole JSON indexes.
///
/// The cache writes one beside each index it accepts (`index.search`), so a search
/// over 10,000 cached cloudlets reads a few megabytes and decodes no JSON. Layout:
/// a first line `nepho-search-table 1`, then one record per entry, fields separated
/// by 0x1F and records ended by 0x1E: name, summary, latest version, and the ASCII-
/// lowered name, summary, and description plus keywords. Control characters in the
/// text are replaced by spaces so the separators never occur inside a field.
public struct RegistrySearchTable: Sendable {
    static let header = Array("nepho-search-table 1\n".utf8)
    static let fieldSeparator: UInt8 = 0x1f
    static let recordEnd: UInt8 = 0x1e
    static let fieldCount = 6

    /// The encoded table.
    public let bytes: [UInt8]

    /// Builds the table of `entries`.
    public init(entries: [RegistryEntry]) {
        var out = RegistrySearchTable.header
        out.reserveCapacity(entries.count * 512)
        func field(_ text: String, lower: Bool, last: Bool = false) {
            for var byte in text.utf8 {
                if byte < 0x20 || byte == 0x7f { byte = 0x20 }
                if lower && byte >= 0x41 && byte <= 0x5a { byte |= 0x20 }
                out.append(byte)
            }
            out.append(last ? RegistrySearchTable.recordEnd : RegistrySearchTable.fieldSeparator)
        }
        for entry in entries {
            field(entry.name, lower: false)
            field(entry.summary, lower: false)
            field(entry.version, lower: false)
            field(entry.name, lower: true)
            field(entry.summary, lower: true)
            field(
                ([entry.description ?? ""] + entry.keywords).joined(separator: " "), lower: true, last: true)
        }
        bytes = out
    }

    /// Reads a table written by `write(to:)`; nil when the file is missing or not a table.
    public init?(contentsOf url: URL) {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        let bytes = [UInt8](data)
        guard bytes.starts(with: RegistrySearchTable.header) else { return nil }
        self.bytes = bytes
    }

    /// The number of entries.
    public var count: Int {
        bytes.withUnsafeBufferPointer { buffer in
            buffer.reduce(0) { $1 == RegistrySearchTable.recordEnd ? $0 + 1 : $0 }
        }
    }

    /// Writes the table to `url` atomically.
    public func write(to url: URL) throws {
        try Data(bytes).write(to: url, options: .atomic)
    }

    /// One record's fields as ranges into `bytes`.
    struct Record {
        var fields: [Range<Int>]
    }

    /// Calls `body` with each record's field ranges (always `fieldCount` of them).
    func forEachRecord(_ body: (UnsafeBufferPointer<UInt8>, [Range<Int>]) -> Void) {
        bytes.withUnsafeBufferPointer { buffer in
            var start = RegistrySearchTable.header.count
            var fields: [Range<Int>] = []
            fields.reserveCapacity(RegistrySearchTable.fieldCount)
            var fieldStart = start
            while start < buffer.count {
                var i = fieldStart
                while i < buffer.count && buffer[i] != RegistrySearchTable.fieldSeparator
                    && buffer[i] != RegistrySearchTable.recordEnd
                {
                    i += 1
                }
                fields.append(fieldStart..<i)
                let ended = i >= buffer.count || buffer[i] == RegistrySearchTable.recordEnd
                fieldStart = i + 1
                if ended {
                    if fields.count == RegistrySearchTable.fieldCount { body(buffer, fields) }
                    fields.removeAll(keepingCapacity: true)
                    start = fieldStart
                }
            }
        }
    }
}
