/// A formation's stack resources as the provider listed them when its last build ended
/// (a JSON array text, written and read by the engine).
extension StateStore {
    /// Replaces the formation's listed resources.
    public func setResources(formationID: Int64, json: String) throws {
        try withDatabase { database in
            _ = try database.write {
                try database.query(
                    """
                    INSERT INTO formation_resources (formation_id, resources, listed_at) VALUES (?, ?, ?)
                    ON CONFLICT (formation_id) DO UPDATE SET resources = excluded.resources,
                        listed_at = excluded.listed_at
                    """, [.integer(formationID), .text(json), .text(Self.timestamp())])
            }
        }
    }

    /// The formation's listed resources, or nil when none were listed.
    public func resources(formationID: Int64) throws -> String? {
        try withDatabase { database in
            try database.query(
                "SELECT resources FROM formation_resources WHERE formation_id = ?", [.integer(formationID)]
            ).first?.first?.text
        }
    }
}
