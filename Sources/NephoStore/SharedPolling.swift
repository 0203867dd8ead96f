import Foundation

/// What the build monitors of one account and region (a scope) share through the state
/// database: a request budget, a token bucket refilled at `rate` calls per second up to
/// `burst`, and one listing of every stack's status that one monitor at a time refreshes.
extension StateStore {
    static func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Takes one call from the scope's budget. Returns 0 when granted, else the seconds to
    /// wait before asking again. A call that can wait (`reserve` > 0) is granted only while
    /// more than `reserve` calls are left, which keeps them for calls that cannot.
    public func takeRequestToken(scope: String, rate: Double, burst: Double, reserve: Double = 0) throws
        -> Double
    {
        try withDatabase { database in
            try database.write {
                let now = Self.nowMilliseconds()
                let row = try database.query(
                    "SELECT tokens_milli, updated_ms FROM request_budget WHERE scope = ?", [.text(scope)]
                ).first
                var tokens = Double(row?[0].integer ?? Int64(burst * 1000)) / 1000
                let updated = row?[1].integer ?? now
                tokens = min(burst, tokens + Double(max(0, now - updated)) / 1000 * rate)
                var wait = 0.0
                if tokens >= 1 + reserve { tokens -= 1 } else { wait = (1 + reserve - tokens) / rate }
                try database.query(
                    """
                    INSERT INTO request_budget (scope, tokens_milli, updated_ms) VALUES (?, ?, ?)
                    ON CONFLICT (scope) DO UPDATE SET tokens_milli = excluded.tokens_milli, updated_ms = excluded.updated_ms
                    """, [.text(scope), .integer(Int64(tokens * 1000)), .integer(now)])
                return wait
            }
        }
    }

    /// True for the one caller that should refresh the scope's listing now (the last one is
    /// older than `age` seconds); the others read what it stores.
    public func claimListing(scope: String, age: Double) throws -> Bool {
        try withDatabase { database in
            // Most callers find the listing fresh: a read tells them without the write lock.
            let listed = try database.scalar(
                "SELECT listed_ms FROM request_budget WHERE scope = ?", [.text(scope)])
            if listed > 0 && Self.nowMilliseconds() - listed < Int64(age * 1000) { return false }
            return try database.write {
                let now = Self.nowMilliseconds()
                try database.query(
                    "INSERT INTO request_budget (scope, tokens_milli, updated_ms, listed_ms) VALUES (?, 0, ?, 0) ON CONFLICT (scope) DO NOTHING",
                    [.text(scope), .integer(now)])
                try database.query(
                    "UPDATE request_budget SET listed_ms = ? WHERE scope = ? AND listed_ms <= ?",
                    [.integer(now), .text(scope), .integer(now - Int64(age * 1000))])
                return database.changes == 1
            }
        }
    }

    /// Replaces the scope's listing: stack id → a signature of its status.
    public func storeListing(scope: String, stacks: [String: String]) throws {
        try withDatabase { database in
            _ = try database.write {
                let now = Self.nowMilliseconds()
                try database.query("DELETE FROM stack_listing WHERE scope = ?", [.text(scope)])
                for (stack, signature) in stacks {
                    try database.query(
                        "INSERT INTO stack_listing (scope, stack_id, signature, listed_ms) VALUES (?, ?, ?, ?)",
                        [.text(scope), .text(stack), .text(signature), .integer(now)])
                }
            }
        }
    }

    /// A stack's signature in the scope's listing; `absent` when the listing lacks it,
    /// nil when there is no listing yet.
    public func listedSignature(scope: String, stackID: String) throws -> String? {
        try withDatabase { database in
            let listed = try database.scalar(
                "SELECT listed_ms FROM request_budget WHERE scope = ?", [.text(scope)])
            guard listed > 0 else { return nil }
            return try database.query(
                "SELECT signature FROM stack_listing WHERE scope = ? AND stack_id = ?",
                [.text(scope), .text(stackID)]
            ).first?.first?.text ?? "absent"
        }
    }
}
