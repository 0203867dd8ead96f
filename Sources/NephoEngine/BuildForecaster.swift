import Foundation
import NephoCore
import NephoProtocol
import NephoStore
import NephoSupport

/// Progress and ETA of builds from `state.db` (docs/formations.md, "Progress and ETA"):
/// the durations of this nanny's finished builds in the same account and region, the
/// formation's template (its cloudlet's pattern) and the build's own events so far.
struct BuildForecaster {
    var store: StateStore
    var catalog: CloudletCatalog?
    /// Tables already learned in this request, by scope, cloudlet and scenario (a listing
    /// with many builds in flight reads the history once per kind of formation).
    final class Cache: @unchecked Sendable {
        var tables: [String: DurationTable] = [:]
    }
    var cache = Cache()
    /// How many of the latest finished builds the durations are learned from.
    static let historyLimit = 200

    /// The account and region of a formation: its stack ARN's (`arn:aws:cloudformation:REGION:ACCOUNT:…`),
    /// else its provider and region.
    static func scope(_ formation: FormationRecord) -> String {
        if let arn = formation.stackID {
            let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
            if parts.count > 4 { return "\(formation.provider):\(parts[3]):\(parts[4])" }
        }
        return "\(formation.provider):\(formation.region ?? "")"
    }

    /// Resource and provisioner types whose duration depends on the cloudlet: learned only
    /// from builds of the same cloudlet and scenario.
    static func isProvisioner(_ type: String) -> Bool {
        type == "AWS::CloudFormation::WaitCondition" || type.hasPrefix("Vagrant::")
            || type.hasPrefix("Nepho::")
    }

    /// The durations learned from the finished builds in `formation`'s scope.
    func table(for formation: FormationRecord) throws -> DurationTable {
        let scope = Self.scope(formation)
        let key = "\(scope)\u{0}\(formation.cloudlet)\u{0}\(formation.scenario)"
        if let known = cache.tables[key] { return known }
        var finished: [(BuildRecord, FormationRecord)] = []
        for other in try store.formations() where Self.scope(other) == scope {
            for build in try store.builds(formationID: other.id) where build.finishedAt != nil {
                finished.append((build, other))
            }
        }
        finished.sort { $0.0.id > $1.0.id }
        var table = DurationTable()
        for (build, other) in finished.prefix(Self.historyLimit) {
            let events = try store.events(buildID: build.id).compactMap(Self.observed)
            let sameScenario = other.cloudlet == formation.cloudlet && other.scenario == formation.scenario
            table.add(
                build: sameScenario ? events : events.filter { !Self.isProvisioner($0.resourceType) },
                stack: other.name)
            if sameScenario {
                table.add(phases: events)
                if build.error == nil, let start = Timestamp.date(build.startedAt),
                    let end = build.finishedAt.flatMap(Timestamp.date)
                {
                    table.add(milestones: events, operation: Self.operation(build), start: start, end: end)
                }
            }
        }
        cache.tables[key] = table
        return table
    }

    static func observed(_ event: EventRecord) -> ObservedEvent? {
        ObservedEvent(
            timestamp: event.timestamp, logicalID: event.logicalID, resourceType: event.resourceType,
            status: event.status, reason: event.reason)
    }

    static func operation(_ build: BuildRecord) -> ResourceOperation {
        switch build.operation {
        case .create: return .create
        case .update: return .update
        case .destroy: return .delete
        }
    }

    /// The formation's template graph and its provisioner's phase total, from its cloudlet
    /// as installed now (an empty graph when the cloudlet or its pattern is gone).
    func plan(for formation: FormationRecord) -> (ResourceGraph, Int) {
        guard let catalog, let cloudlet = try? catalog.find(formation.cloudlet),
            let scenario = try? cloudlet.scenario(formation.scenario)
        else { return (ResourceGraph(nodes: []), 0) }
        var phases = 0
        if let name = scenario.provisioner, RelativePath.problem(name) == nil,
            let script = try? String(
                contentsOf: cloudlet.folder.appendingPathComponent("provisioners").appendingPathComponent(
                    name),
                encoding: .utf8)
        {
            phases = ProvisionerPhases.total(in: script) ?? 0
        }
        guard let pattern = scenario.pattern, RelativePath.problem(pattern) == nil,
            Providers.traits(scenario.provider)?.readsTemplateParameters == true
        else { return (ResourceGraph(nodes: []), phases) }
        let patterns = cloudlet.folder.appendingPathComponent("patterns").standardizedFileURL
        return (Self.graph(template: patterns.appendingPathComponent(pattern), patterns: patterns), phases)
    }

    /// The graph of the template `file`, with its nested stacks' graphs where their
    /// templates are files of the cloudlet under `patterns` (as nepho uploads them:
    /// `NestedTemplateFiles`, each relative to the file naming it).
    static func graph(template file: URL, patterns: URL) -> ResourceGraph {
        guard let root = try? YAMLParser().parseFile(file) else { return ResourceGraph(nodes: []) }
        // Each file read once; at most `maximumReferences` nested stacks loaded in all (a
        // cloudlet naming one file many times over, at every level, must not take for ever).
        var parsed: [URL: YAMLNode?] = [:]
        var budget = NestedTemplateFiles.maximumReferences
        return ResourceGraph.from(template: root) { url, parents in
            var from = file
            for step in parents + [url] {
                guard !step.contains("://"),
                    case .file(let child) = NestedTemplateFiles.resolve(step, from: from, patterns: patterns)
                else { return nil }
                from = child
            }
            budget -= 1
            guard budget >= 0 else { return nil }
            if let known = parsed[from] { return known }
            let document = try? YAMLParser().parseFile(from)
            parsed[from] = document
            return document
        }
    }

    func estimator(for formation: FormationRecord, build: BuildRecord) throws -> BuildEstimator {
        let (graph, phases) = plan(for: formation)
        return BuildEstimator(
            graph: graph, table: try table(for: formation),
            operation: Self.operation(build),
            stack: formation.name, phaseTotal: phases,
            planned: build.operation == .update
                ? PlannedChange.list(json: try store.planned(build: build.id)) : nil)
    }

    /// The estimate of `build` given its events so far.
    static func estimate(
        _ estimator: BuildEstimator, build: BuildRecord, events: [ObservedEvent], vagrant: Bool,
        now: Date = Date()
    ) -> BuildEstimate {
        let started = Timestamp.date(build.startedAt) ?? now
        let finished = build.finishedAt.flatMap(Timestamp.date)
        // A vagrant build has no template: vagrant's steps and the provisioner's phases are its plan.
        let forecast =
            vagrant
            ? estimator.forecastVagrant(events, start: started, now: now, finished: finished != nil)
            : estimator.forecast(events, now: now)
        return BuildEstimate(
            done: forecast.done, total: forecast.total, rollingBack: forecast.rollingBack,
            elapsedSeconds: max(0, (finished ?? now).timeIntervalSince(started)),
            remainingSeconds: finished != nil ? 0 : forecast.remaining.map { ($0 * 10).rounded() / 10 },
            basis: forecast.basis.rawValue,
            overdue: forecast.overdue.map {
                OverdueResource(
                    logicalID: $0.logicalID, resourceType: $0.resourceType,
                    elapsedSeconds: $0.elapsed.rounded(), usualSeconds: $0.median.rounded(),
                    p90Seconds: $0.p90.rounded())
            })
    }

    /// What each resource of the formation's template waits for.
    func dependencies(for formation: FormationRecord) -> [String: [String]]? {
        let (graph, _) = plan(for: formation)
        guard !graph.nodes.isEmpty else { return nil }
        return Self.dependencies(of: graph)
    }

    /// What each resource waits for, nested stacks' resources included under their path
    /// (`Network/Queue`): a nested stack waits for its own resources (it completes after
    /// them), and those of its resources that wait for nothing inside it wait for what the
    /// nested stack waits for (they start when it starts). The chart's critical path
    /// then runs through a nested stack to the resource that held it up.
    static func dependencies(of graph: ResourceGraph, prefix: String = "", outer: [String] = [])
        -> [String: [String]]
    {
        var result: [String: [String]] = [:]
        for node in graph.nodes {
            let id = prefix + node.id
            var waits = node.dependsOn.sorted().map { prefix + $0 }
            if waits.isEmpty { waits = outer }
            if let nested = node.nested {
                let inner = dependencies(of: nested, prefix: id + "/", outer: waits)
                result.merge(inner) { first, _ in first }
                waits += nested.nodes.map { id + "/" + $0.id }
            }
            result[id] = waits
        }
        return result
    }
}
