/// `cloudlet:search`: a query over every configured registry.
public struct RegistrySearchParams: Codable, Sendable, Equatable {
    /// Words that must all occur; empty lists everything.
    public var query: String
    /// Search only what the cache holds, asking no registry (shell completion).
    public var cachedOnly: Bool?
    public init(query: String, cachedOnly: Bool? = nil) {
        self.query = query
        self.cachedOnly = cachedOnly
    }
}

/// One cloudlet found in a registry.
public struct RegistrySearchHit: Codable, Sendable, Equatable {
    /// `owner/name`.
    public var name: String
    public var summary: String
    /// The latest version.
    public var version: String
    /// The registry's URL.
    public var registry: String
    /// The best field the query matched: `exact-name`, `name`, `summary` or `description`.
    public var matched: String

    public init(name: String, summary: String, version: String, registry: String, matched: String) {
        self.name = name
        self.summary = summary
        self.version = version
        self.registry = registry
        self.matched = matched
    }
}

public struct RegistrySearchResult: Codable, Sendable, Equatable {
    public var query: String
    public var hits: [RegistrySearchHit]
    /// Registries that were unreachable or served from an old cache.
    public var warnings: [String]

    public init(query: String, hits: [RegistrySearchHit], warnings: [String]) {
        self.query = query
        self.hits = hits
        self.warnings = warnings
    }
}

/// `cloudlet:install NAME[@VERSION] | GIT-URL | PATH`.
public struct CloudletInstallParams: Codable, Sendable, Equatable {
    /// A registry name with an optional `@VERSION` (a tag), a git URL, or an absolute path.
    public var source: String
    /// The folder name to install under (default: from the cloudlet's name, `owner-name`).
    public var folderName: String?
    /// The cloudlet directory to install into (default: `$NEPHO_HOME/cloudlets`).
    public var directory: String?
    /// Send git's progress and the notices as they come (`request.progress`).
    public var progress: Bool?

    public init(source: String, folderName: String? = nil, directory: String? = nil, progress: Bool? = nil) {
        self.source = source
        self.folderName = folderName
        self.directory = directory
        self.progress = progress
    }
}

public struct CloudletInstallResult: Codable, Sendable, Equatable {
    public var name: String
    /// The installed version (cloudlet.yaml's `version`, else the tag).
    public var version: String?
    /// The git tag checked out, if any.
    public var tag: String?
    /// The cloudlet's folder.
    public var path: String
    /// The cloudlet directory it went into.
    public var directory: String
    /// Where it was cloned from (credentials redacted).
    public var source: String
    /// Progress lines, in order (`Preparing to install into …`, `Cloning from …`).
    public var notices: [String]
    public var warnings: [String]

    public init(
        name: String, version: String?, tag: String?, path: String, directory: String, source: String,
        notices: [String], warnings: [String]
    ) {
        self.name = name
        self.version = version
        self.tag = tag
        self.path = path
        self.directory = directory
        self.source = source
        self.notices = notices
        self.warnings = warnings
    }
}

/// `cloudlet:update [NAME]`: one cloudlet, or every installed git cloudlet.
public struct CloudletUpdateParams: Codable, Sendable, Equatable {
    public var name: String?
    /// Overwrite local changes to tracked files.
    public var force: Bool
    /// Move a cloudlet installed at a pinned version (`owner/name@VERSION`) to the newest.
    public var latest: Bool?
    /// Send git's progress as it comes (`request.progress`).
    public var progress: Bool?

    public init(name: String? = nil, force: Bool = false, latest: Bool? = nil, progress: Bool? = nil) {
        self.name = name
        self.force = force
        self.latest = latest
        self.progress = progress
    }
}

/// What happened to one cloudlet during `cloudlet:update`.
public struct CloudletUpdateOutcome: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case updated, current, skipped, failed }
    public var name: String
    public var path: String
    public var status: Status
    public var oldVersion: String?
    public var newVersion: String?
    public var oldCommit: String?
    public var newCommit: String?
    /// Why it was skipped or failed.
    public var message: String?

    public init(
        name: String, path: String, status: Status, oldVersion: String? = nil, newVersion: String? = nil,
        oldCommit: String? = nil, newCommit: String? = nil, message: String? = nil
    ) {
        self.name = name
        self.path = path
        self.status = status
        self.oldVersion = oldVersion
        self.newVersion = newVersion
        self.oldCommit = oldCommit
        self.newCommit = newCommit
        self.message = message
    }
}

public struct CloudletUpdateResult: Codable, Sendable, Equatable {
    public var outcomes: [CloudletUpdateOutcome]
    public init(outcomes: [CloudletUpdateOutcome]) { self.outcomes = outcomes }
}

/// `cloudlet:uninstall NAME`. With `dryRun` nothing is removed: the result says what
/// would be (the CLI shows it and asks before calling again).
public struct CloudletUninstallParams: Codable, Sendable, Equatable {
    public var name: String
    public var dryRun: Bool

    public init(name: String, dryRun: Bool = false) {
        self.name = name
        self.dryRun = dryRun
    }
}

public struct CloudletUninstallResult: Codable, Sendable, Equatable {
    public var name: String
    public var path: String
    public var removed: Bool
    /// Uncommitted changes that removal loses (`git status --porcelain` lines).
    public var localChanges: [String]

    public init(name: String, path: String, removed: Bool, localChanges: [String]) {
        self.name = name
        self.path = path
        self.removed = removed
        self.localChanges = localChanges
    }
}

/// `cloudlet:registry list|add|remove|update`.
public struct RegistryManageParams: Codable, Sendable, Equatable {
    public enum Action: String, Codable, Sendable { case list, add, remove, update }
    public var action: Action
    /// The registry URL (add, remove; update: one registry, or all when nil).
    public var url: String?

    public init(action: Action, url: String? = nil) {
        self.action = action
        self.url = url
    }
}

/// One configured registry and the state of its cached index.
public struct RegistryInfo: Codable, Sendable, Equatable {
    public var url: String
    /// The first registry: its cloudlets win over same-named ones elsewhere.
    public var isDefault: Bool
    /// When the cached index was downloaded (ISO 8601), nil when not cached or local.
    public var fetchedAt: String?
    /// Cloudlets in the index, when it was read.
    public var cloudlets: Int?
    /// What the last action did (`downloaded`, `revalidated`, `cache`, `local`, `stale`).
    public var status: String?
    public var warning: String?

    public init(
        url: String, isDefault: Bool, fetchedAt: String? = nil, cloudlets: Int? = nil, status: String? = nil,
        warning: String? = nil
    ) {
        self.url = url
        self.isDefault = isDefault
        self.fetchedAt = fetchedAt
        self.cloudlets = cloudlets
        self.status = status
        self.warning = warning
    }
}

public struct RegistryManageResult: Codable, Sendable, Equatable {
    public var registries: [RegistryInfo]
    public init(registries: [RegistryInfo]) { self.registries = registries }
}

/// `registry:build SOURCES --out DIR`: an index and a browsable page from cloudlets.
public struct RegistryBuildParams: Codable, Sendable, Equatable {
    /// Cloudlet folders or repositories (absolute paths) and git URLs.
    public var sources: [String]
    /// The folder to write `index.json` and `index.html` into.
    public var output: String
    /// A title for the page.
    public var title: String?

    public init(sources: [String], output: String, title: String? = nil) {
        self.sources = sources
        self.output = output
        self.title = title
    }
}

public struct RegistryBuildResult: Codable, Sendable, Equatable {
    public var index: String
    public var page: String
    public var cloudlets: [String]
    public var warnings: [String]

    public init(index: String, page: String, cloudlets: [String], warnings: [String]) {
        self.index = index
        self.page = page
        self.cloudlets = cloudlets
        self.warnings = warnings
    }
}
