import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The fields search needs, for every entry of a registry, in one flat byte buffer:
/// what `cloudlet:search` reads instead of decoding a whole JSON index.
///
/// The cache writes one beside each index it accepts (`index.search`), so a search over
/// 10,000 cached cloudlets maps a few megabytes and decodes no JSON, and describing or
/// installing one decodes only that entry. Layout: a first line `nepho-search-table 2`,
/// then one record per entry, fields separated by 0x1F and records ended by 0x1E:
/// name, summary, latest version, the ASCII-lowered name, summary, and description plus
/// keywords, and the entry as compact JSON. Control characters in the text fields are
/// replaced by spaces (JSON escapes its own), so separators never occur inside a field.
public struct RegistrySearchTable: Sendable {
    static let header = Array("nepho-search-table 2\n".utf8)
    static let fieldSeparator: UInt8 = 0x1f
    static let recordEnd: UInt8 = 0x1e
    static let fieldCount = 7

    /// The encoded table.
    public let bytes: Data

    /// Builds the table of `entries`.
    public init(entries: [RegistryEntry]) {
        var out = RegistrySearchTable.header
        out.reserveCapacity(entries.count * 1024)
        func field(_ text: String, lower: Bool, last: Bool = false) {
            for var byte in text.utf8 {
                if byte < 0x20 || byte == 0x7f { byte = 0x20 }
                if lower && byte >= 0x41 && byte <= 0x5a { byte |= 0x20 }
                out.append(byte)
            }
            out.append(last ? RegistrySearchTable.recordEnd : RegistrySearchTable.fieldSeparator)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        for entry in entries {
            field(entry.name, lower: false)
            field(entry.summary, lower: false)
            field(entry.version, lower: false)
            field(entry.name, lower: true)
            field(entry.summary, lower: true)
            field(([entry.description ?? ""] + entry.keywords).joined(separator: " "), lower: true)
            let json = (try? encoder.encode(entry)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            field(json, lower: false, last: true)
        }
        bytes = Data(out)
    }

    /// Reads a table written by `write(to:)`; nil when the file is missing or not a table
    /// of this version (the cache then rebuilds it from the index).
    public init?(contentsOf url: URL) {
        guard let data = try? Data(contentsOf: url, options: .alwaysMapped),
            data.starts(with: RegistrySearchTable.header)
        else { return nil }
        bytes = data
    }

    /// The number of entries.
    public var count: Int {
        var total = 0
        forEachRecord { _, _ in total += 1 }
        return total
    }

    /// Writes the table to `url` atomically.
    public func write(to url: URL) throws {
        try bytes.write(to: url, options: .atomic)
    }

    /// The entry named `name` (case-insensitive), decoded from its JSON field.
    public func entry(named name: String) -> RegistryEntry? {
        let wanted = Array(name.utf8).map { $0 >= 0x41 && $0 <= 0x5a ? $0 | 0x20 : $0 }
        var found: Data?
        forEachRecord { buffer, fields in
            guard found == nil, fields[3].count == wanted.count,
                buffer[fields[3]].elementsEqual(wanted)
            else { return }
            found = Data(buffer[fields[6]])
        }
        return found.flatMap { try? JSONDecoder().decode(RegistryEntry.self, from: $0) }
    }

    /// Calls `body` with each record's field ranges (always `fieldCount` of them).
    func forEachRecord(_ body: (UnsafeBufferPointer<UInt8>, [Range<Int>]) -> Void) {
        bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Void in
            let buffer = raw.bindMemory(to: UInt8.self)
            guard let base = buffer.baseAddress else { return }
            var fields: [Range<Int>] = []
            fields.reserveCapacity(RegistrySearchTable.fieldCount)
            var start = RegistrySearchTable.header.count
            while start < buffer.count {
                guard
                    let endPointer = memchr(
                        base + start, Int32(RegistrySearchTable.recordEnd), buffer.count - start)
                else { return }
                let end = UnsafePointer(endPointer.assumingMemoryBound(to: UInt8.self)) - base
                fields.removeAll(keepingCapacity: true)
                var fieldStart = start
                while fieldStart <= end, fields.count < RegistrySearchTable.fieldCount - 1 {
                    guard
                        let separator = memchr(
                            base + fieldStart, Int32(RegistrySearchTable.fieldSeparator), end - fieldStart)
                    else { break }
                    let position = UnsafePointer(separator.assumingMemoryBound(to: UInt8.self)) - base
                    fields.append(fieldStart..<position)
                    fieldStart = position + 1
                }
                fields.append(fieldStart..<end)
                if fields.count == RegistrySearchTable.fieldCount { body(buffer, fields) }
                start = end + 1
            }
        }
    }
}
