import CSQLite
import Foundation

/// A failure reported by SQLite, with the statement and SQLite's own message.
public struct DatabaseError: Error, CustomStringConvertible, Sendable {
    public var code: Int32
    public var message: String
    public var path: String

    public var description: String { "\(path): \(message) (SQLite code \(code))" }
}

/// One value bound to a statement or read from a row.
public enum DatabaseValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    public var integer: Int64? { if case .integer(let v) = self { v } else { nil } }
    public var text: String? { if case .text(let v) = self { v } else { nil } }
}

/// One connection to an SQLite file, set up as docs/architecture.md's "State" says: WAL journal,
/// `synchronous=FULL`, foreign keys on, a busy timeout, and writes inside
/// `BEGIN IMMEDIATE` so two writers queue on the lock instead of failing midway.
///
/// Not thread-safe by itself: `StateStore` serialises access with a lock.
public final class Database {
    public let path: String
    private var handle: OpaquePointer?

    /// Opens (creating when missing) the database at `path`.
    public init(path: String, busyTimeoutMilliseconds: Int32 = 10_000) throws {
        self.path = path
        // NOFOLLOW: a link planted where the database belongs is refused, never written through.
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(handle)
            handle = nil
            throw DatabaseError(code: rc, message: message, path: path)
        }
        sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
        try execute("PRAGMA journal_mode=WAL")
        try execute("PRAGMA synchronous=FULL")
        try execute("PRAGMA foreign_keys=ON")
    }

    deinit { sqlite3_close_v2(handle) }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &error)
        if rc != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? "error"
            sqlite3_free(error)
            throw DatabaseError(code: rc, message: "\(message) in: \(sql.prefix(200))", path: path)
        }
    }

    /// Runs `sql` with `bindings` and returns every row.
    @discardableResult
    public func query(_ sql: String, _ bindings: [DatabaseValue] = []) throws -> [[DatabaseValue]] {
        var statement: OpaquePointer?
        try check(sqlite3_prepare_v2(handle, sql, -1, &statement, nil), sql)
        defer { sqlite3_finalize(statement) }
        for (index, value) in bindings.enumerated() {
            let position = Int32(index + 1)
            switch value {
            case .null: sqlite3_bind_null(statement, position)
            case .integer(let v): sqlite3_bind_int64(statement, position, v)
            case .real(let v): sqlite3_bind_double(statement, position, v)
            case .text(let v): sqlite3_bind_text(statement, position, v, -1, csqlite_transient())
            }
        }
        var rows: [[DatabaseValue]] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { try check(rc, sql); break }
            let count = sqlite3_column_count(statement)
            rows.append(
                (0..<count).map { column in
                    switch sqlite3_column_type(statement, column) {
                    case SQLITE_INTEGER: .integer(sqlite3_column_int64(statement, column))
                    case SQLITE_FLOAT: .real(sqlite3_column_double(statement, column))
                    case SQLITE_NULL: .null
                    default: .text(String(cString: sqlite3_column_text(statement, column)))
                    }
                })
        }
        return rows
    }

    /// The rowid of the last insert on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows changed by the last statement.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back when it throws; a commit
    /// that changed rows wakes this process's waiters on the database (`StoreChangeSignal`)
    /// at once.
    public func write<T>(_ body: () throws -> T) throws -> T {
        let before = sqlite3_total_changes(handle)
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try execute("COMMIT")
            // Only a transaction that changed rows (opening a store writes nothing).
            if sqlite3_total_changes(handle) != before { StoreChangeSignal.committed(databasePath: path) }
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// A single integer from the first column of the first row.
    public func scalar(_ sql: String, _ bindings: [DatabaseValue] = []) throws -> Int64 {
        try query(sql, bindings).first?.first?.integer ?? 0
    }

    private func check(_ rc: Int32, _ sql: String) throws {
        guard rc != SQLITE_OK else { return }
        let message = String(cString: sqlite3_errmsg(handle))
        throw DatabaseError(code: rc, message: "\(message) in: \(sql.prefix(200))", path: path)
    }
}
