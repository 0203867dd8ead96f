import Foundation
import NephoSupport

/// Registry indexes kept under `$NEPHO_HOME/cache/registries/<key>/`: `index.json` as
/// downloaded, `index.search` (the `RegistrySearchTable`) and `meta.json` (URL, ETag,
/// Last-Modified, when it was fetched and last confirmed current).
///
/// A copy younger than `maxAge` is used as is; an older one is revalidated with the
/// saved ETag / Last-Modified (a 304 only refreshes the time). When the registry cannot
/// be reached the cache is used with a warning naming its age. A download is written
/// to temporary files, checked in full, and only then renamed over the cached copy, so
/// a truncated, oversized or malformed index never damages it. `file:` registries are
/// read directly (their search table is kept while the file is unchanged).
public struct RegistryCache: Sendable {
    public let root: URL
    public let transport: any RegistryTransport
    /// Seconds a cached index is used without asking the server.
    public let maxAge: TimeInterval
    let now: @Sendable () -> Date

    public init(
        root: URL, transport: any RegistryTransport, maxAge: TimeInterval = 3600,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.root = root
        self.transport = transport
        self.maxAge = maxAge
        self.now = now
    }

    /// How a registry's index was obtained this time.
    public struct Status: Sendable, Equatable {
        public enum Origin: String, Sendable, Equatable {
            /// Read from a `file:` registry.
            case local
            /// Cached copy younger than the maximum age.
            case cache
            /// Downloaded now (200).
            case downloaded
            /// The server confirmed the cached copy (304).
            case revalidated
            /// The server could not be reached or sent a bad index: the cache was used.
            case stale
        }
        public var location: RegistryLocation
        public var origin: Origin
        /// When the index in use was downloaded.
        public var fetchedAt: Date?
        /// For people: why an old copy is in use, and how old it is.
        public var warning: String?
    }

    struct Meta: Codable {
        var url: String
        var validators: RegistryValidators
        var fetchedAt: Date
        var checkedAt: Date
        enum CodingKeys: String, CodingKey {
            case url, validators
            case fetchedAt = "fetched_at"
            case checkedAt = "checked_at"
        }
    }

    /// The folder caching `location`.
    public func folder(for location: RegistryLocation) -> URL {
        let text = location.url.absoluteString
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let readable = ((location.url.host ?? "") + location.url.path).map { ch -> Character in
            ch.isASCII && (ch.isLetter || ch.isNumber || ch == "." || ch == "-") ? ch : "_"
        }
        return root.appendingPathComponent(
            String(String(readable).prefix(60)) + "-" + String(hash, radix: 16))
    }

    /// The search table of `location`, revalidating or downloading as needed.
    public func table(for location: RegistryLocation, force: Bool = false) async throws -> (
        RegistrySearchTable, Status
    ) {
        if location.isLocal {
            return (try localTable(location), Status(location: location, origin: .local))
        }
        let status = try await refresh(location, force: force)
        let file = folder(for: location).appendingPathComponent("index.search")
        if let table = RegistrySearchTable(contentsOf: file) { return (table, status) }
        // The table is missing or from another nepho: rebuild it from the index.
        let index = try readCachedIndex(location)
        let table = RegistrySearchTable(entries: index.cloudlets)
        try? table.write(to: file)
        return (table, status)
    }

    /// The search table of `location` as the cache holds it, without asking its server;
    /// nil when nothing is cached yet.
    public func cachedTable(for location: RegistryLocation) -> RegistrySearchTable? {
        if location.isLocal { return try? localTable(location) }
        let file = folder(for: location).appendingPathComponent("index.search")
        if let table = RegistrySearchTable(contentsOf: file) { return table }
        return (try? readCachedIndex(location)).map { RegistrySearchTable(entries: $0.cloudlets) }
    }

    /// The full index of `location`, revalidating or downloading as needed.
    public func index(for location: RegistryLocation, force: Bool = false) async throws -> (
        RegistryIndex, Status
    ) {
        if location.isLocal {
            return (try readLocal(location), Status(location: location, origin: .local))
        }
        let status = try await refresh(location, force: force)
        return (try readCachedIndex(location), status)
    }

    /// Brings the cached copy up to date. With `force`, asks the server whatever the
    /// age and fails (leaving the cache alone) when that does not work.
    @discardableResult
    public func refresh(_ location: RegistryLocation, force: Bool) async throws -> Status {
        if location.isLocal {
            _ = try readLocal(location)
            return Status(location: location, origin: .local)
        }
        let dir = folder(for: location)
        let meta = readMeta(dir)
        let haveCopy =
            meta != nil
            && FileManager.default.fileExists(atPath: dir.appendingPathComponent("index.json").path)
        if let meta, haveCopy, !force, now().timeIntervalSince(meta.checkedAt) < maxAge {
            return Status(location: location, origin: .cache, fetchedAt: meta.fetchedAt)
        }
        do {
            let response = try await transport.get(
                location.url, validators: haveCopy ? meta!.validators : RegistryValidators(),
                maxBytes: RegistryLimits.indexBytes)
            switch response {
            case .notModified(let validators):
                guard var meta, haveCopy else {
                    throw RegistryFetchError(
                        location: location, reason: "the server answered 304 but nothing is cached")
                }
                meta.checkedAt = now()
                if validators.etag != nil || validators.lastModified != nil { meta.validators = validators }
                try writeMeta(meta, dir)
                return Status(location: location, origin: .revalidated, fetchedAt: meta.fetchedAt)
            case .body(let data, let validators):
                let index = try RegistryIndex.decode(
                    data, origin: location.description, allowLocalSources: location.allowsLocalSources)
                try store(data: data, index: index, validators: validators, location: location, in: dir)
                return Status(location: location, origin: .downloaded, fetchedAt: now())
            }
        } catch {
            guard !force, let meta, haveCopy else { throw error }
            let age = RegistryCache.describeAge(now().timeIntervalSince(meta.fetchedAt))
            let reason =
                (error as? RegistryIndexError).map { "it sent an unusable index: \($0.message)" }
                ?? "\(error)"
            return Status(
                location: location, origin: .stale, fetchedAt: meta.fetchedAt,
                warning:
                    "registry \(location) could not be updated (\(reason)); using the cached index from \(age)"
            )
        }
    }

    /// When `location` was last downloaded and checked, if it is cached.
    public func cachedDates(_ location: RegistryLocation) -> (fetched: Date, checked: Date)? {
        readMeta(folder(for: location)).map { ($0.fetchedAt, $0.checkedAt) }
    }

    /// Forgets the cached copy of `location`.
    public func remove(_ location: RegistryLocation) {
        try? FileManager.default.removeItem(at: folder(for: location))
    }

    // MARK: Files

    private func store(
        data: Data, index: RegistryIndex, validators: RegistryValidators, location: RegistryLocation,
        in dir: URL
    ) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // Each file is replaced by rename; the index goes first, the metadata last.
        try AtomicFile.write(data, to: dir.appendingPathComponent("index.json"), mode: 0o644)
        try AtomicFile.write(
            Data(RegistrySearchTable(entries: index.cloudlets).bytes),
            to: dir.appendingPathComponent("index.search"),
            mode: 0o644)
        let date = now()
        try writeMeta(
            Meta(url: location.url.absoluteString, validators: validators, fetchedAt: date, checkedAt: date),
            dir)
    }

    private func readMeta(_ dir: URL) -> Meta? {
        guard let data = FileManager.default.contents(atPath: dir.appendingPathComponent("meta.json").path)
        else {
            return nil
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try? decoder.decode(Meta.self, from: data)
    }

    private func writeMeta(_ meta: Meta, _ dir: URL) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(
            try encoder.encode(meta), to: dir.appendingPathComponent("meta.json"), mode: 0o644)
    }

    private func readCachedIndex(_ location: RegistryLocation) throws -> RegistryIndex {
        let file = folder(for: location).appendingPathComponent("index.json")
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw RegistryFetchError(
                location: location, reason: "its cached index \(file.path) cannot be read")
        }
        return try RegistryIndex.decode(
            data, origin: location.description, allowLocalSources: location.allowsLocalSources)
    }

    /// A `file:` registry's table, kept in the cache while the file's size and
    /// modification time stay the same (the index is read and checked again otherwise).
    private func localTable(_ location: RegistryLocation) throws -> RegistrySearchTable {
        let attributes = try? FileManager.default.attributesOfItem(atPath: location.url.path)
        let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
        let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
        let stamp = Data("\(size) \(modified)\n".utf8)
        let dir = folder(for: location)
        let stampFile = dir.appendingPathComponent("local.stamp")
        let tableFile = dir.appendingPathComponent("index.search")
        if FileManager.default.contents(atPath: stampFile.path) == stamp,
            let table = RegistrySearchTable(contentsOf: tableFile)
        {
            return table
        }
        let table = RegistrySearchTable(entries: try readLocal(location).cloudlets)
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try? AtomicFile.write(table.bytes, to: tableFile, mode: 0o644)
        try? AtomicFile.write(stamp, to: stampFile, mode: 0o644)
        return table
    }

    private func readLocal(_ location: RegistryLocation) throws -> RegistryIndex {
        let path = location.url.path
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let size = (attributes?[.size] as? NSNumber)?.intValue else {
            throw RegistryFetchError(location: location, reason: "no such file \(path)")
        }
        if size > RegistryLimits.indexBytes {
            throw RegistryIndexError(
                origin: location.description,
                message: "the index is \(size) bytes, more than the limit of \(RegistryLimits.indexBytes)",
                details: [])
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RegistryFetchError(location: location, reason: "\(path) cannot be read")
        }
        return try RegistryIndex.decode(data, origin: location.description, allowLocalSources: true)
    }

    /// "5 minutes ago", "3 hours ago", "2 days ago".
    public static func describeAge(_ seconds: TimeInterval) -> String {
        let s = max(0, Int(seconds))
        func plural(_ n: Int, _ unit: String) -> String { "\(n) \(unit)\(n == 1 ? "" : "s") ago" }
        if s < 60 { return plural(s, "second") }
        if s < 3600 { return plural(s / 60, "minute") }
        if s < 86400 { return plural(s / 3600, "hour") }
        return plural(s / 86400, "day")
    }
}

/// A registry that could not be read, with no usable cached copy.
public struct RegistryFetchError: Error, Sendable, CustomStringConvertible {
    public var location: RegistryLocation
    public var reason: String
    public init(location: RegistryLocation, reason: String) {
        self.location = location
        self.reason = reason
    }
    public var description: String { "registry \(location): \(reason)" }
}
