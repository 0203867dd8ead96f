/// Where a build's provisioner writes its phase record: an S3 object (docs/provisioners.md).
/// The presigned URL that lets the machine write it is never stored; only the bucket
/// and key, which the monitor reads with the caller's own credentials.
public struct PhaseObjectRecord: Sendable, Equatable {
    public var buildID: Int64
    public var bucket: String
    public var key: String
    /// The ETag of the last version read, for a conditional read (`If-None-Match`).
    public var etag: String?

    public init(buildID: Int64, bucket: String, key: String, etag: String? = nil) {
        self.buildID = buildID
        self.bucket = bucket
        self.key = key
        self.etag = etag
    }
}

extension StateStore {
    /// Records (or replaces) the phase object of a build.
    public func setPhaseObject(_ object: PhaseObjectRecord) throws {
        try withDatabase { database in
            _ = try database.write {
                try database.query(
                    """
                    INSERT INTO phase_objects (build_id, bucket, object_key, etag) VALUES (?, ?, ?, ?)
                    ON CONFLICT (build_id) DO UPDATE SET bucket = excluded.bucket,
                        object_key = excluded.object_key, etag = excluded.etag
                    """,
                    [
                        .integer(object.buildID), .text(object.bucket), .text(object.key),
                        object.etag.map { .text($0) } ?? .null,
                    ])
            }
        }
    }

    /// The phase object of a build, if its pattern declared one.
    public func phaseObject(buildID: Int64) throws -> PhaseObjectRecord? {
        try withDatabase { database in
            try database.query(
                "SELECT bucket, object_key, etag FROM phase_objects WHERE build_id = ?", [.integer(buildID)]
            ).first.map {
                PhaseObjectRecord(
                    buildID: buildID, bucket: $0[0].text ?? "", key: $0[1].text ?? "", etag: $0[2].text)
            }
        }
    }

    /// Remembers the ETag of the version of a build's phase object last read.
    public func updatePhaseObjectETag(buildID: Int64, etag: String?) throws {
        try withDatabase { database in
            _ = try database.write {
                try database.query(
                    "UPDATE phase_objects SET etag = ? WHERE build_id = ?",
                    [etag.map { .text($0) } ?? .null, .integer(buildID)])
            }
        }
    }
}
