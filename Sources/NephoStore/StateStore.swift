import Foundation
import NephoSupport

/// The database of a newer nepho, which this one must not touch.
public struct NewerSchemaError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var found: Int
    public var known: Int

    public var description: String {
        "\(path) was written by a newer nepho (schema version \(found); this nepho knows up to \(known)). "
            + "Upgrade nepho, or point NEPHO_HOME at another folder; the file was left untouched."
    }
}

/// nepho's state: formations, builds and their event logs in one SQLite file
/// (`$NEPHO_HOME/state.db`). Opening it migrates an older schema and refuses a newer one.
/// Safe to share between threads and tasks; each call is one short transaction.
public final class StateStore: @unchecked Sendable {
    public let path: String
    private let database: Database
    private let lock = NSLock()

    /// Opens (creating when missing) the store at `path` and brings its schema up to date.
    /// Its folder (nepho's home) is made or checked private (`PrivateHome`), and the
    /// database and its `-wal` and `-shm` files are the user's alone (0600); SQLite gives
    /// the journal files the database file's mode, so it is made 0600 before SQLite opens it.
    public init(path: String) throws {
        self.path = path
        try PrivateHome.prepare(URL(fileURLWithPath: (path as NSString).deletingLastPathComponent))
        try Self.makePrivate(path)
        database = try Database(path: path)
        try migrate()
    }

    /// `PRAGMA user_version`: the number of migrations applied.
    public var schemaVersion: Int {
        lock.withLock { Int((try? database.scalar("PRAGMA user_version")) ?? 0) }
    }

    private func migrate() throws {
        try lock.withLock {
            try database.write {
                let found = Int(try database.scalar("PRAGMA user_version"))
                guard found <= Migrations.latest else {
                    throw NewerSchemaError(path: path, found: found, known: Migrations.latest)
                }
                for (index, sql) in Migrations.all.enumerated().dropFirst(found) {
                    try database.execute(sql)
                    try database.execute("PRAGMA user_version = \(index + 1)")
                }
            }
        }
    }

    /// SQLite's own check of the file: `ok` when sound.
    public func integrityCheck() throws -> String {
        try lock.withLock {
            try database.query("PRAGMA integrity_check").compactMap { $0.first?.text }.joined(separator: "\n")
        }
    }

    // MARK: formations

    /// Stores a new formation and returns it with its id and timestamps.
    public func insertFormation(_ formation: FormationRecord) throws -> FormationRecord {
        try lock.withLock { try database.write { try insertFormationRow(formation) } }
    }

    /// A formation and its first build, in one transaction: a kill between the two never
    /// leaves a formation without the build that would resolve it.
    public func insertFormation(_ formation: FormationRecord, firstBuild build: BuildRecord) throws
        -> (FormationRecord, BuildRecord)
    {
        try lock.withLock {
            try database.write {
                let stored = try insertFormationRow(formation)
                var first = build
                first.formationID = stored.id
                return (stored, try insertBuildRow(first))
            }
        }
    }

    private func insertFormationRow(_ formation: FormationRecord) throws -> FormationRecord {
        let now = Self.timestamp()
        try database.query(
            """
            INSERT INTO formations (name, provider, cloudlet, scenario, region, stack_id, status,
                parameters, outputs, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(formation.name), .text(formation.provider), .text(formation.cloudlet),
                .text(formation.scenario), Self.optional(formation.region),
                Self.optional(formation.stackID),
                .text(formation.status), .text(Self.json(formation.parameters)),
                .text(Self.json(formation.outputs)),
                .text(now), .text(now),
            ])
        var stored = formation
        stored.id = database.lastInsertRowID
        stored.createdAt = now
        stored.updatedAt = now
        return stored
    }

    /// Every formation, by name.
    public func formations() throws -> [FormationRecord] {
        try lock.withLock { try database.query(Self.formationColumns + " ORDER BY name").map(Self.formation) }
    }

    public func formation(named name: String) throws -> FormationRecord? {
        try lock.withLock {
            try database.query(Self.formationColumns + " WHERE name = ?", [.text(name)]).first.map(
                Self.formation)
        }
    }

    /// Sets a formation's status (and stack id and outputs when given).
    public func updateFormation(
        id: Int64, status: String, stackID: String? = nil, region: String? = nil,
        outputs: [String: String]? = nil
    )
        throws
    {
        try lock.withLock {
            _ = try database.write {
                try database.query(
                    """
                    UPDATE formations SET status = ?, stack_id = COALESCE(?, stack_id),
                        region = COALESCE(?, region), outputs = COALESCE(?, outputs), updated_at = ?
                    WHERE id = ?
                    """,
                    [
                        .text(status), Self.optional(stackID), Self.optional(region),
                        Self.optional(outputs.map(Self.json)), .text(Self.timestamp()), .integer(id),
                    ])
            }
        }
    }

    /// Replaces a formation's stored parameters (secret ones masked by the caller).
    public func updateFormationParameters(id: Int64, parameters: [String: String]) throws {
        try lock.withLock {
            _ = try database.write {
                try database.query(
                    "UPDATE formations SET parameters = ?, updated_at = ? WHERE id = ?",
                    [.text(Self.json(parameters)), .text(Self.timestamp()), .integer(id)])
            }
        }
    }

    public func deleteFormation(id: Int64) throws {
        try lock.withLock {
            _ = try database.write {
                try database.query("DELETE FROM formations WHERE id = ?", [.integer(id)])
            }
        }
    }

    // MARK: builds

    public func insertBuild(_ build: BuildRecord) throws -> BuildRecord {
        try lock.withLock { try database.write { try insertBuildRow(build) } }
    }

    private func insertBuildRow(_ build: BuildRecord) throws -> BuildRecord {
        let now = Self.timestamp()
        try database.query(
            """
            INSERT INTO builds (formation_id, operation, status, started_at, monitor_pid,
                request_token, launcher_pid, launched_at, scope) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .integer(build.formationID), .text(build.operation.rawValue), .text(build.status),
                .text(now),
                build.monitorPID.map { .integer(Int64($0)) } ?? .null,
                Self.optional(build.requestToken),
                build.launcherPID.map { .integer(Int64($0)) } ?? .null,
                build.launcherPID == nil ? .text(now) : .null,
                Self.optional(build.scope),
            ])
        var stored = build
        stored.id = database.lastInsertRowID
        stored.startedAt = now
        if build.launcherPID == nil { stored.launchedAt = now }
        return stored
    }

    public func build(id: Int64) throws -> BuildRecord? {
        try lock.withLock {
            try database.query(Self.buildColumns + " WHERE id = ?", [.integer(id)]).first.map(Self.build)
        }
    }

    /// Builds of a formation, oldest first.
    public func builds(formationID: Int64) throws -> [BuildRecord] {
        try lock.withLock {
            try database.query(
                Self.buildColumns + " WHERE formation_id = ? ORDER BY id", [.integer(formationID)]
            )
            .map(Self.build)
        }
    }

    /// Builds with no finish time: those a restarted daemon must adopt or resume.
    public func unfinishedBuilds() throws -> [BuildRecord] {
        try lock.withLock {
            try database.query(Self.buildColumns + " WHERE finished_at IS NULL ORDER BY id").map(Self.build)
        }
    }

    /// Records a build's status; `finished` stamps its end.
    /// Sets an unfinished build's status (and, with `finished`, ends it). A finished build
    /// is never written again: a monitor that looked before a destroy superseded its build
    /// must not overwrite what the destroy recorded. Returns whether the build was changed.
    @discardableResult
    public func updateBuild(id: Int64, status: String, finished: Bool, error: String? = nil) throws -> Bool {
        try lock.withLock {
            try database.write {
                try Self.updateOpenBuild(database, id: id, status: status, finished: finished, error: error)
            }
        }
    }

    /// The build's status and, in the same transaction and only when the build was still
    /// unfinished, its formation's status (and outputs, when given). Returns whether it applied.
    @discardableResult
    public func updateBuild(
        id: Int64, formationID: Int64, status: String, finished: Bool, error: String? = nil,
        outputs: [String: String]? = nil
    ) throws -> Bool {
        try lock.withLock {
            try database.write {
                guard
                    try Self.updateOpenBuild(
                        database, id: id, status: status, finished: finished, error: error)
                else { return false }
                try database.query(
                    """
                    UPDATE formations SET status = ?, outputs = COALESCE(?, outputs), updated_at = ?
                    WHERE id = ?
                    """,
                    [
                        .text(status), Self.optional(outputs.map(Self.json)), .text(Self.timestamp()),
                        .integer(formationID),
                    ])
                return true
            }
        }
    }

    private static func updateOpenBuild(
        _ database: Database, id: Int64, status: String, finished: Bool, error: String?
    ) throws -> Bool {
        try database.query(
            """
            UPDATE builds SET status = ?, finished_at = CASE WHEN ? THEN ? ELSE NULL END,
                error = COALESCE(?, error) WHERE id = ? AND finished_at IS NULL
            """,
            [
                .text(status), .integer(finished ? 1 : 0), .text(timestamp()), optional(error), .integer(id),
            ])
        return database.changes > 0
    }

    /// The build's provider call has returned: it is launched (no longer an intent).
    /// With `formation`, what the call made is recorded in the same transaction (a create's
    /// stack id, region, outputs and parameters). False, and nothing written, when the build
    /// has ended meanwhile (its monitor resolved the intent, or a destroy superseded it).
    @discardableResult
    public func launched(build id: Int64, formation: LaunchedFormation? = nil) throws -> Bool {
        try lock.withLock {
            try database.write {
                try database.query(
                    """
                    UPDATE builds SET launcher_pid = NULL, launched_at = ?
                    WHERE id = ? AND finished_at IS NULL
                    """,
                    [.text(Self.timestamp()), .integer(id)])
                guard database.changes > 0 else { return false }
                if let formation {
                    try database.query(
                        """
                        UPDATE formations SET stack_id = COALESCE(?, stack_id), region = COALESCE(?, region),
                            outputs = COALESCE(?, outputs), parameters = COALESCE(?, parameters), updated_at = ?
                        WHERE id = ?
                        """,
                        [
                            Self.optional(formation.stackID), Self.optional(formation.region),
                            Self.optional(formation.outputs.map(Self.json)),
                            Self.optional(formation.parameters.map(Self.json)), .text(Self.timestamp()),
                            .integer(formation.id),
                        ])
                }
                return true
            }
        }
    }

    /// Removes a build whose provider call was refused (nothing was started), with its
    /// formation when `formation` is given (a create refused: the name stays free).
    public func dropIntent(build id: Int64, formation: Int64? = nil) throws {
        try lock.withLock {
            _ = try database.write {
                try database.query("DELETE FROM events WHERE build_id = ?", [.integer(id)])
                try database.query("DELETE FROM builds WHERE id = ?", [.integer(id)])
                if let formation {
                    try database.query("DELETE FROM formations WHERE id = ?", [.integer(formation)])
                }
            }
        }
    }

    /// The build's provider call got no answer and its launcher gave it up: the intent
    /// stays (launcher 0, which no process is) for the build's monitor to resolve at once.
    public func launchUnanswered(build id: Int64) throws {
        try lock.withLock {
            _ = try database.write {
                try database.query(
                    "UPDATE builds SET launcher_pid = 0 WHERE id = ? AND finished_at IS NULL AND launched_at IS NULL",
                    [.integer(id)])
            }
        }
    }

    /// Names the process monitoring an unfinished build.
    public func setMonitor(build id: Int64, pid: Int32) throws {
        try lock.withLock {
            _ = try database.write {
                try database.query(
                    "UPDATE builds SET monitor_pid = ? WHERE id = ? AND finished_at IS NULL",
                    [.integer(Int64(pid)), .integer(id)])
            }
        }
    }

    /// Records what an open build plans to change (an update's change set, as JSON).
    public func setPlanned(build id: Int64, json: String) throws {
        try lock.withLock {
            _ = try database.write {
                try database.query(
                    "UPDATE builds SET planned = ? WHERE id = ? AND finished_at IS NULL",
                    [.text(json), .integer(id)])
            }
        }
    }

    /// What a build planned to change (`setPlanned`); nil when nothing was recorded.
    public func planned(build id: Int64) throws -> String? {
        try lock.withLock {
            try database.query("SELECT planned FROM builds WHERE id = ?", [.integer(id)]).first?[0].text
        }
    }

    // MARK: events

    /// The prefix of the provider event id of a stack event that came through EventBridge,
    /// which carries no CloudFormation EventId (`StackEventNotification.eventBridgePrefix`).
    public static let eventBridgePrefix = "eventbridge:"

    /// Appends `event` to its build's log with the next sequence number. Returns the stored
    /// event, or nil when it is already stored: an event with this provider event id, or
    /// the same stack event under the other kind of id. An event that came through
    /// EventBridge (`eventbridge:ID`) and one with CloudFormation's EventId (SNS,
    /// DescribeStackEvents) are the same when the build, logical id and status are the
    /// same, their times are at most 2 s apart (EventBridge's `time` has whole seconds) and
    /// their reasons agree (equal, or one missing); the nearest is taken. The EventBridge
    /// row then takes CloudFormation's EventId and exact time, and no row is added. Two
    /// EventBridge events that match so are one change too.
    @discardableResult
    public func appendEvent(_ event: EventRecord) throws -> EventRecord? {
        try lock.withLock {
            try database.write {
                if try database.scalar(
                    "SELECT COUNT(*) FROM events WHERE provider_event_id = ?", [.text(event.providerEventID)])
                    != 0
                {
                    return nil
                }
                if let twin = try sameEvent(event) {
                    if !event.providerEventID.hasPrefix(Self.eventBridgePrefix) {
                        try database.query(
                            "UPDATE events SET provider_event_id = ?, timestamp = ? WHERE build_id = ? AND seq = ?",
                            [
                                .text(event.providerEventID), .text(event.timestamp), .integer(event.buildID),
                                .integer(twin),
                            ])
                    }
                    return nil
                }
                let next = try database.scalar(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE build_id = ?",
                    [.integer(event.buildID)])
                try database.query(
                    """
                    INSERT INTO events (build_id, seq, provider_event_id, timestamp, logical_id, resource_type,
                        status, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (provider_event_id) DO NOTHING
                    """,
                    [
                        .integer(event.buildID), .integer(next), .text(event.providerEventID),
                        .text(event.timestamp),
                        Self.optional(event.logicalID), Self.optional(event.resourceType),
                        Self.optional(event.status),
                        Self.optional(event.reason),
                    ])
                guard database.changes == 1 else { return nil }
                var stored = event
                stored.sequence = next
                return stored
            }
        }
    }

    /// The sequence number of the stored event `event` is a copy of under the other kind of
    /// id (see `appendEvent`); the caller holds the lock.
    private func sameEvent(_ event: EventRecord) throws -> Int64? {
        guard let logical = event.logicalID, let status = event.status,
            let when = Timestamp.date(event.timestamp)
        else { return nil }
        let bridged = event.providerEventID.hasPrefix(Self.eventBridgePrefix)
        func reason(_ text: String?) -> String? { text?.isEmpty == false ? text : nil }
        let rows = try database.query(
            """
            SELECT seq, provider_event_id, timestamp, reason FROM events
            WHERE build_id = ? AND logical_id = ? AND status = ?
            """, [.integer(event.buildID), .text(logical), .text(status)])
        var best: (seq: Int64, gap: Double)?
        for row in rows {
            // A CloudFormation id matches only EventBridge rows (two EventIds are two events);
            // an EventBridge event matches any row (a second EventBridge copy of one change too).
            guard let id = row[1].text, bridged || id.hasPrefix(Self.eventBridgePrefix),
                let time = row[2].text.flatMap(Timestamp.date)
            else { continue }
            let gap = abs(time.timeIntervalSince(when))
            let (mine, theirs) = (reason(event.reason), reason(row[3].text))
            guard gap <= 2, mine == nil || theirs == nil || mine == theirs else { continue }
            if best == nil || gap < best!.gap { best = (row[0].integer ?? 0, gap) }
        }
        return best?.seq
    }

    /// A build's events with a sequence number above `after`, in order (at most `limit`).
    public func events(buildID: Int64, after: Int64 = 0, limit: Int = 100_000) throws -> [EventRecord] {
        try lock.withLock {
            try database.query(
                """
                SELECT build_id, seq, provider_event_id, timestamp, logical_id, resource_type, status, reason
                FROM events WHERE build_id = ? AND seq > ? ORDER BY seq LIMIT ?
                """, [.integer(buildID), .integer(after), .integer(Int64(limit))]
            ).map { row in
                EventRecord(
                    buildID: row[0].integer ?? 0, sequence: row[1].integer ?? 0,
                    providerEventID: row[2].text ?? "",
                    timestamp: row[3].text ?? "", logicalID: row[4].text, resourceType: row[5].text,
                    status: row[6].text, reason: row[7].text)
            }
        }
    }

    /// The provider event id of the root stack stored last for any build of a formation:
    /// where a monitor's next DescribeStackEvents may stop paging back. A nested stack's
    /// events (their logical ids under the nested stack's path, `Child/Bucket`) are not
    /// the root's.
    public func lastEventID(formationID: Int64) throws -> String? {
        try lock.withLock {
            try database.query(
                """
                SELECT e.provider_event_id FROM events e JOIN builds b ON b.id = e.build_id
                WHERE b.formation_id = ? AND instr(COALESCE(e.logical_id, ''), '/') = 0
                ORDER BY b.id DESC, e.seq DESC LIMIT 1
                """, [.integer(formationID)]
            ).first?.first?.text
        }
    }

    /// The highest sequence number of a build's log (0 when empty).
    public func lastSequence(buildID: Int64) throws -> Int64 {
        try lock.withLock {
            try database.scalar(
                "SELECT COALESCE(MAX(seq), 0) FROM events WHERE build_id = ?", [.integer(buildID)])
        }
    }

    /// Every formation with its id, as stored (for lookups by id).
    public func formation(id: Int64) throws -> FormationRecord? {
        try lock.withLock {
            try database.query(Self.formationColumns + " WHERE id = ?", [.integer(id)]).first.map(
                Self.formation)
        }
    }

    /// Runs `body` on the connection under the store's lock (for extensions in this module).
    func withDatabase<T>(_ body: (Database) throws -> T) throws -> T {
        try lock.withLock { try body(database) }
    }

    /// Counts of rows per table, for `daemon:status`.
    public func counts() throws -> (formations: Int, builds: Int, events: Int) {
        try lock.withLock {
            (
                Int(try database.scalar("SELECT COUNT(*) FROM formations")),
                Int(try database.scalar("SELECT COUNT(*) FROM builds")),
                Int(try database.scalar("SELECT COUNT(*) FROM events"))
            )
        }
    }

    // MARK: rows

    private static let formationColumns = """
        SELECT id, name, provider, cloudlet, scenario, region, stack_id, status, parameters, outputs,
            created_at, updated_at FROM formations
        """
    private static let buildColumns = """
        SELECT id, formation_id, operation, status, started_at, finished_at, monitor_pid, error,
            request_token, launcher_pid, launched_at, scope FROM builds
        """

    private static func formation(_ row: [DatabaseValue]) -> FormationRecord {
        FormationRecord(
            id: row[0].integer ?? 0, name: row[1].text ?? "", provider: row[2].text ?? "",
            cloudlet: row[3].text ?? "",
            scenario: row[4].text ?? "", region: row[5].text, stackID: row[6].text, status: row[7].text ?? "",
            parameters: dictionary(row[8].text), outputs: dictionary(row[9].text),
            createdAt: row[10].text ?? "",
            updatedAt: row[11].text ?? "")
    }

    private static func build(_ row: [DatabaseValue]) -> BuildRecord {
        BuildRecord(
            id: row[0].integer ?? 0, formationID: row[1].integer ?? 0,
            operation: BuildRecord.Operation(rawValue: row[2].text ?? "") ?? .create,
            status: row[3].text ?? "",
            startedAt: row[4].text ?? "", finishedAt: row[5].text,
            monitorPID: row[6].integer.map { Int32($0) },
            error: row[7].text, requestToken: row[8].text, launcherPID: row[9].integer.map { Int32($0) },
            launchedAt: row[10].text, scope: row[11].text)
    }

    private static func optional(_ text: String?) -> DatabaseValue { text.map { .text($0) } ?? .null }

    static func timestamp() -> String { Timestamp.now() }

    /// Makes the database file 0600 before SQLite first opens it, and closes an existing
    /// one and its journal files to others, without opening them: closing any descriptor
    /// of a file drops every POSIX lock this process holds on it, SQLite's included.
    private static func makePrivate(_ path: String) throws {
        var info = stat()
        if lstat(path, &info) != 0 {
            guard errno == ENOENT else { return }
            let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd >= 0 { close(fd) }
            return
        }
        for file in [path, path + "-wal", path + "-shm"] where lstat(file, &info) == 0 {
            guard (info.st_mode & S_IFMT) != S_IFLNK else {
                throw UnsafeHomeError(
                    description:
                        "\(file) is a symbolic link; nepho does not write through links in its home. Remove it and try again."
                )
            }
            if info.st_mode & 0o077 != 0 { chmod(file, 0o600) }
        }
    }

    /// Parameters and outputs are JSON objects of text in their columns, encoded and
    /// decoded here only.
    static func json(_ values: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(values)) ?? Data("{}".utf8), as: UTF8.self)
    }

    static func dictionary(_ text: String?) -> [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data((text ?? "{}").utf8))) ?? [:]
    }
}
