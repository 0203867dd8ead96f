import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Searches registries and ranks the matches (docs/registry.md, "Search").
///
/// Every word of the query must occur (case-insensitively for ASCII letters, as a
/// substring) in the entry's name, summary, description or keywords. Each word scores
/// by the best field it occurs in — name 3, summary 2, description or keyword 1 — and
/// an entry whose name or short name equals the whole query comes first. Ties keep a
/// stable order: by name, then by registry order. An empty query lists everything by
/// name. A name listed by two registries is taken from the first (the default).
public struct RegistrySearch: Sendable {
    /// Which field a result matched best.
    public enum Field: String, Sendable, Codable, Comparable {
        case description, summary, name, exactName = "exact-name"
        var rank: Int {
            switch self {
            case .description: 1
            case .summary: 2
            case .name: 3
            case .exactName: 4
            }
        }
        public static func < (lhs: Field, rhs: Field) -> Bool { lhs.rank < rhs.rank }
    }

    /// One match: the entry's name, summary and latest version, which registry
    /// (position in the list) gave it, the best field it matched and its score.
    public struct Hit: Sendable, Equatable {
        public var name: String
        public var summary: String
        public var version: String
        public var registry: Int
        public var field: Field
        public var score: Int
    }

    private let tables: [RegistrySearchTable]

    /// One table per registry, the default first.
    public init(tables: [RegistrySearchTable]) {
        self.tables = tables
    }

    /// Convenience for entries in memory: one list per registry.
    public init(registries: [[RegistryEntry]]) {
        tables = registries.map { RegistrySearchTable(entries: $0) }
    }

    /// Entries matching every word of `query`, best first.
    public func search(_ query: String) -> [Hit] {
        let words = query.split(whereSeparator: { $0.isWhitespace }).map {
            RegistrySearch.lowered(String($0))
        }
        let whole = RegistrySearch.lowered(query.trimmingCharacters(in: .whitespaces))
        struct Candidate {
            var lowerName: [UInt8]
            var hit: Hit
        }
        var found: [Candidate] = []
        var seen = Set<[UInt8]>()
        for (position, table) in tables.enumerated() {
            table.forEachRecord { buffer, fields in
                let name = fields[3]
                // Fields 3…5 are adjacent and no word holds a separator, so one scan of
                // the span rules most records out.
                let span = fields[3].lowerBound..<fields[5].upperBound
                for word in words where !RegistrySearch.contains(buffer, span, word) { return }
                var score = 0
                var best = Field.description
                for word in words {
                    let field: Field
                    if RegistrySearch.contains(buffer, fields[3], word) {
                        field = .name
                    } else if RegistrySearch.contains(buffer, fields[4], word) {
                        field = .summary
                    } else {
                        field = .description
                    }
                    score += field.rank
                    best = max(best, field)
                }
                let lowerName = Array(buffer[name])
                guard seen.insert(lowerName).inserted else { return }
                if !words.isEmpty {
                    let slash = lowerName.firstIndex(of: 0x2f).map { $0 + 1 } ?? 0
                    if lowerName == whole || lowerName[slash...].elementsEqual(whole) {
                        best = .exactName
                        score += 1000
                    }
                }
                func text(_ range: Range<Int>) -> String { String(decoding: buffer[range], as: UTF8.self) }
                found.append(
                    Candidate(
                        lowerName: lowerName,
                        hit: Hit(
                            name: text(fields[0]), summary: text(fields[1]), version: text(fields[2]),
                            registry: position, field: best, score: score)))
            }
        }
        found.sort { a, b in
            if a.hit.score != b.hit.score { return a.hit.score > b.hit.score }
            if a.lowerName != b.lowerName { return a.lowerName.lexicographicallyPrecedes(b.lowerName) }
            return a.hit.registry < b.hit.registry
        }
        return found.map(\.hit)
    }

    /// ASCII letters lowered; other bytes kept (non-ASCII letters match case-sensitively).
    static func lowered(_ text: String) -> [UInt8] {
        var bytes = Array(text.utf8)
        for i in bytes.indices where bytes[i] >= 0x41 && bytes[i] <= 0x5a { bytes[i] |= 0x20 }
        return bytes
    }

    /// Whether `needle` occurs in `buffer[range]`.
    static func contains(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ needle: [UInt8]) -> Bool
    {
        if needle.isEmpty { return true }
        if needle.count > range.count { return false }
        return needle.withUnsafeBufferPointer { n in
            Memmem.find(buffer.baseAddress! + range.lowerBound, range.count, n.baseAddress!, n.count)
        }
    }
}

/// glibc's `memmem` (hidden from Swift behind `_GNU_SOURCE`), looked up once; a plain
/// loop over `memchr` when it is missing.
enum Memmem {
    typealias Function =
        @convention(c) (UnsafeRawPointer?, Int, UnsafeRawPointer?, Int) -> UnsafeMutableRawPointer?
    static let function: Function? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "memmem").map {
        unsafeBitCast($0, to: Function.self)
    }

    static func find(
        _ haystack: UnsafePointer<UInt8>, _ length: Int, _ needle: UnsafePointer<UInt8>, _ count: Int
    )
        -> Bool
    {
        if let function { return function(haystack, length, needle, count) != nil }
        var start = haystack
        let end = haystack + length
        while end - start >= count {
            guard let hit = memchr(start, Int32(needle[0]), end - start - count + 1) else { return false }
            let candidate = hit.assumingMemoryBound(to: UInt8.self)
            if memcmp(candidate, needle, count) == 0 { return true }
            start = UnsafePointer(candidate) + 1
        }
        return false
    }
}
