import Foundation

/// A nested stack of a build (`nested_stacks`, docs/formations.md "Nested stacks").
public struct NestedStackRecord: Sendable, Equatable {
    public var buildID: Int64
    /// The nested stack's id (ARN), or its name when its parent's event named it so.
    public var stackID: String
    /// Logical ids from the root to this nested stack, joined by `/`: its events are
    /// stored with their logical ids under this prefix (`Child/Bucket`).
    public var path: String
    /// The last status of the nested stack itself that its events told (nil: none yet).
    public var status: String?
    /// The last of its events stored: where its next DescribeStackEvents may stop paging.
    public var lastEventID: String?

    public init(
        buildID: Int64, stackID: String, path: String, status: String? = nil, lastEventID: String? = nil
    ) {
        self.buildID = buildID
        self.stackID = stackID
        self.path = path
        self.status = status
        self.lastEventID = lastEventID
    }

    /// True until its own events told a status that ends an operation.
    public var inProgress: Bool { status.map { $0.hasSuffix("_IN_PROGRESS") } ?? true }
}

extension StateStore {
    /// Records that `stackID` is the nested stack at `path` of `buildID` (once; a path
    /// already known keeps its status and last event).
    @discardableResult
    public func addNestedStack(buildID: Int64, stackID: String, path: String) throws -> Bool {
        try withDatabase { database in
            try database.query(
                """
                INSERT INTO nested_stacks (build_id, stack_id, path) VALUES (?, ?, ?)
                ON CONFLICT (build_id, stack_id) DO NOTHING
                """, [.integer(buildID), .text(stackID), .text(path)])
            return database.changes == 1
        }
    }

    /// The nested stacks of a build, outermost first.
    public func nestedStacks(buildID: Int64) throws -> [NestedStackRecord] {
        try withDatabase { database in
            try database.query(
                """
                SELECT build_id, stack_id, path, status, last_event_id FROM nested_stacks
                WHERE build_id = ? ORDER BY length(path), path
                """, [.integer(buildID)]
            ).map(Self.nested)
        }
    }

    /// The latest build's record of the nested stack `stackID` (nil: no build knows it).
    public func nestedStack(stackID: String) throws -> NestedStackRecord? {
        try withDatabase { database in
            try database.query(
                """
                SELECT build_id, stack_id, path, status, last_event_id FROM nested_stacks
                WHERE stack_id = ? ORDER BY build_id DESC LIMIT 1
                """, [.text(stackID)]
            ).first.map(Self.nested)
        }
    }

    /// The last event stored of nested stack `stackID` by a build of the same formation
    /// before `buildID`: where that build's reconciling pass may stop paging back.
    public func lastNestedEventID(stackID: String, before buildID: Int64) throws -> String? {
        try withDatabase { database in
            try database.query(
                """
                SELECT last_event_id FROM nested_stacks
                WHERE stack_id = ? AND build_id < ? AND last_event_id IS NOT NULL
                ORDER BY build_id DESC LIMIT 1
                """, [.text(stackID), .integer(buildID)]
            ).first?.first?.text
        }
    }

    /// Notes what the events just read of a nested stack told: its status (when they
    /// carried one) and the newest event stored.
    public func updateNestedStack(buildID: Int64, stackID: String, status: String?, lastEventID: String?)
        throws
    {
        try withDatabase { database in
            try database.query(
                """
                UPDATE nested_stacks SET status = COALESCE(?, status),
                    last_event_id = COALESCE(?, last_event_id)
                WHERE build_id = ? AND stack_id = ?
                """,
                [
                    status.map { .text($0) } ?? .null, lastEventID.map { .text($0) } ?? .null,
                    .integer(buildID), .text(stackID),
                ])
        }
    }

    /// The time of the newest event of a build stored under nested stack `path`
    /// (`PATH/…`), as stored; nil when none is.
    public func latestEventTimestamp(buildID: Int64, under path: String) throws -> String? {
        let prefix = path + "/"
        return try withDatabase { database in
            try database.query(
                """
                SELECT MAX(timestamp) FROM events
                WHERE build_id = ? AND substr(logical_id, 1, ?) = ?
                """, [.integer(buildID), .integer(Int64(prefix.count)), .text(prefix)]
            ).first?.first?.text
        }
    }

    private static func nested(_ row: [DatabaseValue]) -> NestedStackRecord {
        NestedStackRecord(
            buildID: row[0].integer ?? 0, stackID: row[1].text ?? "", path: row[2].text ?? "",
            status: row[3].text, lastEventID: row[4].text)
    }
}
