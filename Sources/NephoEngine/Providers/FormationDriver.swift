import Foundation
import NephoCore
import NephoProtocol
import NephoStore
import NephoSupport

/// What a provider implements to build formations (docs/providers.md). The lifecycle
/// around it — the name, the records in `state.db`, the monitor, superseding, cancel
/// rules, masking secrets, finishing a build — is `FormationLifecycle`'s, written once.
///
/// A driver is a value: it holds no state between calls. Everything a call needs comes
/// in its arguments; what a call hands the lifecycle goes out in its result.
public protocol FormationDriver: Sendable {
    /// The provider's identifier and what its scenarios may say.
    var traits: ProviderTraits { get }

    /// What one formation is at this provider, for messages ("stack", "machine").
    var noun: String { get }

    /// The provider's own word for a build of `operation` in `phase`, stored and shown
    /// as the build's (and the formation's) status: `CREATE_COMPLETE` for a stack,
    /// `running` for a machine. CloudFormation's words by default.
    func statusWord(_ operation: BuildRecord.Operation, _ phase: BuildStatus.Phase) -> String

    /// What a stored word of this provider means.
    func phase(of word: String) -> BuildStatus.Phase

    /// True when a build of `operation` that ended in `word` did what it was asked.
    func succeeded(_ operation: BuildRecord.Operation, _ word: String) -> Bool

    /// The parameters the pattern itself declares: the lowest layer of values.
    func declaredParameters(cloudlet: Cloudlet, scenario: Scenario) throws -> [ParameterSpec]

    /// Checks, before anything is written or asked of the provider, that this driver
    /// can build `plan` (a pattern it can read, its tool installed).
    func check(_ plan: FormationPlan, context: DriverContext) async throws

    /// Makes the formation at the provider (or lays out what the build runs in): called
    /// once the name is claimed, before the formation is recorded.
    func create(_ plan: FormationPlan, context: DriverContext) async throws -> Creation

    /// Plans or executes an update (the lifecycle has checked that no build runs);
    /// `startBuild` records and starts the update's build. A provider without updates
    /// throws the refusal, saying what to do instead.
    func update(
        _ formation: FormationRecord, _ params: FormationUpdateParams, context: DriverContext,
        lifecycle: FormationLifecycle
    ) async throws -> FormationUpdateResult

    /// Starts taking the formation down: the lifecycle then supersedes its unfinished
    /// builds and records the destroy's build.
    func destroy(_ formation: FormationRecord, builds: [BuildRecord], context: DriverContext) async throws
        -> Destruction

    /// Cancels an update in progress (a create is cancelled by destroying it, a destroy
    /// cannot be: the lifecycle says so).
    func cancelUpdate(_ formation: FormationRecord, build: BuildRecord, context: DriverContext) async throws

    /// The body of `nephod monitor BUILD` for this provider's builds: follows the build to
    /// its end, storing each event once (a monitor killed at any moment resumes), and
    /// finishes it through `monitor.finish`. Returns the monitor's exit status.
    func follow(_ monitor: BuildFollower) async throws -> Int32

    /// The formation's resources for `formation:describe` (none by default).
    func resources(_ formation: FormationRecord, builds: [BuildRecord], store: StateStore) throws
        -> [FormationResource]

    /// Before `formation:describe` answers: brings the stored formation up to date with the
    /// provider where nothing keeps it current, and says when it was last confirmed (nil by
    /// default: the provider cannot say, or a monitor keeps it current).
    func confirm(
        _ formation: FormationRecord, builds: [BuildRecord], store: StateStore, context: DriverContext
    )
        async -> String?

    /// Formations of this provider that `state.db` does not hold (stacks nepho tagged,
    /// made elsewhere), for `formation:list`; none by default.
    func unrecorded(known: Set<String>, context: DriverContext) async throws -> [FormationSummary]

    /// A formation of this provider that `state.db` does not hold, found by its name or
    /// its provider id (a nepho-tagged stack made on another machine): what to record so
    /// every command works on it. nil when the provider has none by that reference (the
    /// default: a provider whose formations live only in `state.db`).
    func adopt(_ reference: String, context: DriverContext) async throws -> Adoption?

    /// Where a call made with `context` acts (for CloudFormation a hash of the credentials'
    /// key id or profile, the region and the endpoint; nothing secret), recorded with a
    /// build before its call: a monitor resolving the intent after a crash concludes only
    /// with a context of the same scope. nil by default (no such distinction).
    func scope(context: DriverContext) -> String?

    /// How to reach the formation (`formation:open`, `formation:ssh`): by default the
    /// address and ssh endpoint its outputs give (`FormationAccess.fromOutputs`).
    func access(
        _ formation: FormationRecord, scenario: Scenario?, params: FormationAccessParams,
        context: DriverContext
    ) async throws -> FormationAccess
}

extension FormationDriver {
    public var provider: Provider { traits.provider }

    public func scope(context: DriverContext) -> String? { nil }

    public func statusWord(_ operation: BuildRecord.Operation, _ phase: BuildStatus.Phase) -> String {
        BuildStatus.word(operation, phase)
    }

    public func phase(of word: String) -> BuildStatus.Phase { BuildStatus(word).phase }

    public func succeeded(_ operation: BuildRecord.Operation, _ word: String) -> Bool {
        word == statusWord(operation, .complete)
    }

    public func declaredParameters(cloudlet: Cloudlet, scenario: Scenario) throws -> [ParameterSpec] { [] }

    public func cancelUpdate(_ formation: FormationRecord, build: BuildRecord, context: DriverContext)
        async throws
    {
        throw NephoError(.conflict, "formation \(formation.name) has no update of its own to cancel")
    }

    public func resources(_ formation: FormationRecord, builds: [BuildRecord], store: StateStore) throws
        -> [FormationResource]
    { [] }

    public func unrecorded(known: Set<String>, context: DriverContext) async throws -> [FormationSummary] {
        []
    }

    public func confirm(
        _ formation: FormationRecord, builds: [BuildRecord], store: StateStore, context: DriverContext
    ) async -> String? { nil }

    public func adopt(_ reference: String, context: DriverContext) async throws -> Adoption? { nil }

    public func access(
        _ formation: FormationRecord, scenario: Scenario?, params: FormationAccessParams,
        context: DriverContext
    ) async throws -> FormationAccess {
        FormationAccess.fromOutputs(formation, scenario: scenario)
    }
}

extension FormationAccess {
    /// The address to open and the ssh endpoint as the formation's outputs give them:
    /// the outputs the scenario's `outputs` names, else `URL` / `WebsiteURL`,
    /// `SSHEndpoint`, `SSHUser`, `SSHPort`.
    public static func fromOutputs(_ formation: FormationRecord, scenario: Scenario?) -> FormationAccess {
        let outputs = formation.outputs
        let names = scenario?.outputs ?? [:]
        let urlKeys = [names["url"], "URL", "WebsiteURL"].compactMap { $0 }
        let url = urlKeys.lazy.compactMap { outputs[$0] }.first
        let endpointKey = names["ssh_endpoint"] ?? "SSHEndpoint"
        let ssh = outputs[endpointKey].map { endpoint in
            let user = outputs[names["ssh_user"] ?? "SSHUser"]
            return SSHAccess(
                address: user.map { "\($0)@\(endpoint)" } ?? endpoint,
                port: outputs[names["ssh_port"] ?? "SSHPort"].flatMap { Int($0) }.flatMap {
                    (1...65535).contains($0) ? $0 : nil
                })
        }
        return FormationAccess(
            name: formation.name, url: url,
            urlProblem: url != nil
                ? nil
                : "formation \(formation.name) has no address output (\(urlKeys.joined(separator: ", "))); its outputs: \(outputs.keys.sorted().joined(separator: ", "))",
            ssh: ssh,
            sshProblem: ssh != nil
                ? nil : "formation \(formation.name) has no SSH endpoint (no \(endpointKey) output)")
    }
}

/// What every driver call gets: the home and the request's provider context.
public struct DriverContext: Sendable {
    public var paths: NephoPaths
    /// The provider variables the request runs with: the client's (`AWS_*`, `VAGRANT_*`,
    /// `PATH`, …) through the daemon, else this process's `AWS_*` ones.
    public var environment: [String: String]
    /// The client's own variables when the request came through the daemon; nil in-process.
    public var client: [String: String]?
    /// The idempotency token of the build being launched, recorded with the build before
    /// the provider call (CloudFormation's `ClientRequestToken`); nil outside a launch.
    public var requestToken: String?
    /// The build being launched (recorded before the provider call); nil outside a launch.
    public var buildID: Int64?

    public init(paths: NephoPaths, environment: [String: String], client: [String: String]?) {
        self.paths = paths
        self.environment = environment
        self.client = client
    }
}

/// A create as the lifecycle hands it to a driver: the formation's name (already
/// checked), the cloudlet, the scenario and its resolved values.
public struct FormationPlan: Sendable {
    public var name: String
    public var cloudlet: Cloudlet
    public var scenario: Scenario
    public var values: [ResolvedValue]

    public init(name: String, cloudlet: Cloudlet, scenario: Scenario, values: [ResolvedValue]) {
        self.name = name
        self.cloudlet = cloudlet
        self.scenario = scenario
        self.values = values
    }
}

/// What a driver's create gives the lifecycle to record, and how to start the build.
public struct Creation: Sendable {
    /// The provider's id of the formation (a stack id), when it has one yet.
    public var providerID: String?
    public var region: String?
    /// Values to keep in `state.db`; the lifecycle masks the secret ones.
    public var values: [ResolvedValue]
    /// Names of further values to keep masked (the provider's own secrets).
    public var maskedNames: Set<String> = []
    public var outputs: [String: String] = [:]
    public var launch: Launch

    public init(
        providerID: String? = nil, region: String? = nil, values: [ResolvedValue],
        maskedNames: Set<String> = [],
        outputs: [String: String] = [:], launch: Launch = Launch()
    ) {
        self.providerID = providerID
        self.region = region
        self.values = values
        self.maskedNames = maskedNames
        self.outputs = outputs
        self.launch = launch
    }
}

/// A formation made elsewhere, as its provider tells it, for the lifecycle to record:
/// the formation, its latest build's operation and status, and that build's events
/// (oldest first). An unfinished build gets a monitor like any other.
public struct Adoption: Sendable {
    public var name: String
    public var cloudlet: String
    public var scenario: String
    public var region: String?
    public var providerID: String
    /// The provider's status word, stored as the formation's and the build's.
    public var status: String
    public var operation: BuildRecord.Operation
    /// Values as the provider holds them; secrets already masked.
    public var parameters: [String: String]
    public var outputs: [String: String]
    /// Events without a build id (the lifecycle sets it).
    public var events: [EventRecord]

    public init(
        name: String, cloudlet: String, scenario: String, region: String?, providerID: String, status: String,
        operation: BuildRecord.Operation, parameters: [String: String], outputs: [String: String],
        events: [EventRecord]
    ) {
        self.name = name
        self.cloudlet = cloudlet
        self.scenario = scenario
        self.region = region
        self.providerID = providerID
        self.status = status
        self.operation = operation
        self.parameters = parameters
        self.outputs = outputs
        self.events = events
    }
}

/// A provider call carrying the build's request token that got no answer: the connection
/// broke or timed out after the request went out, or the provider answered 5xx, on every
/// try. It may have been taken. A driver throws this (not the plain error) from the call
/// it makes in `FormationLifecycle.launchBuild`, so that the build's intent is kept for
/// its monitor to resolve, as after a crash mid-call, instead of being dropped.
public struct ProviderCallUnanswered: Error, Sendable {
    /// What went wrong, as the user is told.
    public var error: NephoError
    /// Who may have taken the call, as the user knows it ("CloudFormation").
    public var service: String
    public init(_ error: NephoError, service: String) {
        self.error = error
        self.service = service
    }
}

/// How a build starts once it is recorded.
public struct Launch: Sendable {
    /// Starts the provider's work for the recorded build (nil: the provider call is
    /// already made). A throw fails the build at once with its message.
    public var start: (@Sendable (_ build: BuildRecord, _ store: StateStore) async throws -> Void)?
    /// What the build's monitor gets besides the request's context, in memory only
    /// (for example secrets it must redact).
    public var monitorContext: [String: String]

    public init(
        start: (@Sendable (_ build: BuildRecord, _ store: StateStore) async throws -> Void)? = nil,
        monitorContext: [String: String] = [:]
    ) {
        self.start = start
        self.monitorContext = monitorContext
    }
}

/// What a driver's destroy asks of the lifecycle.
public enum Destruction: Sendable {
    /// Record the destroy's build and start it.
    case launch(Launch)
    /// Nothing is left at the provider: the formation is destroyed at once.
    case nothingLeft
}
