/// The numbered schema changes of `state.db`. Migration `n` (1-based) moves the
/// database from `PRAGMA user_version = n-1` to `n`; append new ones, never edit old ones.
public enum Migrations {
    public static let all: [String] = [
        // 1: formations, their builds, and each build's ordered event log.
        """
        CREATE TABLE formations (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            provider TEXT NOT NULL,
            cloudlet TEXT NOT NULL,
            scenario TEXT NOT NULL,
            region TEXT,
            stack_id TEXT,
            status TEXT NOT NULL,
            parameters TEXT NOT NULL DEFAULT '{}',
            outputs TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE builds (
            id INTEGER PRIMARY KEY,
            formation_id INTEGER NOT NULL REFERENCES formations(id) ON DELETE CASCADE,
            operation TEXT NOT NULL CHECK (operation IN ('create', 'update', 'destroy')),
            status TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            monitor_pid INTEGER,
            error TEXT
        );
        CREATE INDEX builds_by_formation ON builds(formation_id, id);
        CREATE TABLE events (
            build_id INTEGER NOT NULL REFERENCES builds(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            provider_event_id TEXT NOT NULL UNIQUE,
            timestamp TEXT NOT NULL,
            logical_id TEXT,
            resource_type TEXT,
            status TEXT,
            reason TEXT,
            PRIMARY KEY (build_id, seq)
        ) WITHOUT ROWID;
        """,
        // 2: what build monitors share per account and region (a "scope"): a request budget
        // (token bucket) and the last listing of every stack's status.
        """
        CREATE TABLE request_budget (
            scope TEXT PRIMARY KEY,
            tokens_milli INTEGER NOT NULL,
            updated_ms INTEGER NOT NULL,
            listed_ms INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE stack_listing (
            scope TEXT NOT NULL,
            stack_id TEXT NOT NULL,
            signature TEXT NOT NULL,
            listed_ms INTEGER NOT NULL,
            PRIMARY KEY (scope, stack_id)
        ) WITHOUT ROWID;
        """,
        // 3: where a build's provisioner writes its phase record (an S3 object nepho
        // presigned a PUT for; docs/provisioners.md), and the ETag last read of it.
        """
        CREATE TABLE phase_objects (
            build_id INTEGER PRIMARY KEY REFERENCES builds(id) ON DELETE CASCADE,
            bucket TEXT NOT NULL,
            object_key TEXT NOT NULL,
            etag TEXT
        );
        """,
        // 4: a formation's stack resources as ListStackResources gave them when its last
        // build ended (a JSON array), for `formation:describe`.
        """
        CREATE TABLE formation_resources (
            formation_id INTEGER PRIMARY KEY REFERENCES formations(id) ON DELETE CASCADE,
            resources TEXT NOT NULL,
            listed_at TEXT NOT NULL
        );
        """,
        // 5: pushed stack events (docs/aws.md, "Stack events"): per account and region (a
        // scope) how events arrive, the SNS topic and SQS queue nepho set up, and when the
        // daemon last long-polled the queue; and which stacks notify which topic.
        """
        CREATE TABLE event_channels (
            scope TEXT PRIMARY KEY,
            mode TEXT NOT NULL,
            region TEXT,
            topic_arn TEXT,
            queue_url TEXT,
            queue_arn TEXT,
            subscription_arn TEXT,
            reason TEXT,
            checked_at TEXT NOT NULL,
            polled_ms INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE stack_topics (
            stack_id TEXT PRIMARY KEY,
            topic_arn TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
        // 6: a build is recorded before its provider call (the intent): the request token the
        // call carries, the process making it until the call has returned, when it returned,
        // and where the call acts (a hash: account credentials' id, region, endpoint).
        """
        ALTER TABLE builds ADD COLUMN request_token TEXT;
        ALTER TABLE builds ADD COLUMN launcher_pid INTEGER;
        ALTER TABLE builds ADD COLUMN launched_at TEXT;
        ALTER TABLE builds ADD COLUMN scope TEXT;
        """,
        // 7: the EventBridge rule that also sends CloudFormation's events to the nanny's
        // queue (`NEPHO_EVENTS=eventbridge`; docs/aws.md, "Stack events").
        """
        ALTER TABLE event_channels ADD COLUMN rule_arn TEXT;
        """,
        // 8: what an update's change set plans to change (a JSON list of `PlannedChange`),
        // recorded when the build starts: its progress counts these resources.
        """
        ALTER TABLE builds ADD COLUMN planned TEXT;
        """,
        // 9: the nested stacks of each build (docs/formations.md, "Nested stacks"): the
        // nested stack's id (ARN) as its parent's events named it, its path of logical ids
        // from the root (`Child/Grandchild`, the prefix its events are stored under), its
        // last status seen, and the last event stored of it (where its next
        // DescribeStackEvents may stop paging back).
        """
        CREATE TABLE nested_stacks (
            build_id INTEGER NOT NULL REFERENCES builds(id) ON DELETE CASCADE,
            stack_id TEXT NOT NULL,
            path TEXT NOT NULL,
            status TEXT,
            last_event_id TEXT,
            PRIMARY KEY (build_id, stack_id)
        ) WITHOUT ROWID;
        CREATE INDEX nested_stacks_by_stack ON nested_stacks(stack_id, build_id);
        """,
    ]

    /// The schema version this nepho writes.
    public static var latest: Int { all.count }
}
