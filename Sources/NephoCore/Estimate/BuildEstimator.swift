import Foundation

/// Where a build stands and how long it has left (docs/formations.md, "Progress and ETA").
public struct BuildForecast: Sendable, Equatable {
    /// Resources (nested stacks' included) and provisioner phases done; never above `total`.
    public var done: Int
    public var total: Int
    /// True once the stack rolls back: `done`/`total` then count the rollback's work.
    public var rollingBack: Bool
    /// Seconds left: the longest remaining path through the template's dependencies;
    /// nil when nothing is known to be left (an update before its first event).
    public var remaining: Double?
    /// Resources at work past their p90.
    public var overdue: [Overdue]
    /// Where most of the expected durations came from (`learned`, `prior`, `guess`).
    public var basis: DurationSource

    public struct Overdue: Sendable, Equatable {
        public var logicalID: String
        public var resourceType: String
        public var elapsed: Double
        public var median: Double
        public var p90: Double
    }
}

/// One resource an update's change set plans to change, as recorded when the build starts.
public struct PlannedChange: Sendable, Equatable, Codable {
    /// `Add`, `Modify`, `Remove` (CloudFormation's words).
    public var action: String
    public var logicalID: String
    public var resourceType: String
    /// True when a `Modify` replaces the resource (the old one is deleted at cleanup).
    public var replacement: Bool
    /// The nested stacks the change is in, outermost first; empty for the stack itself.
    public var nestedStack: [String]

    public init(
        action: String, logicalID: String, resourceType: String, replacement: Bool = false,
        nestedStack: [String] = []
    ) {
        self.action = action
        self.logicalID = logicalID
        self.resourceType = resourceType
        self.replacement = replacement
        self.nestedStack = nestedStack
    }

    /// What the update does to the resource.
    public var operation: ResourceOperation {
        switch action {
        case "Add", "Import": return .create
        case "Remove": return .delete
        default: return .update
        }
    }

    /// The changes of a recorded plan; nil when `json` is nil or not a plan.
    public static func list(json: String?) -> [PlannedChange]? {
        guard let json else { return nil }
        return try? JSONDecoder().decode([PlannedChange].self, from: Data(json.utf8))
    }

    public static func json(_ changes: [PlannedChange]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(changes)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }
}

/// Counts a build's progress and forecasts its end from its template's graph, the
/// durations learned so far and the build's own events so far.
public struct BuildEstimator: Sendable {
    public var graph: ResourceGraph
    public var table: DurationTable
    /// The build's operation (`delete` for a destroy).
    public var operation: ResourceOperation
    /// The stack's name (its own events are not a resource's).
    public var stack: String?
    /// The provisioner's phases, when its script announces them (`ProvisionerPhases.total`).
    public var phaseTotal: Int
    /// An update's change set: what it will add, modify and remove (nil: not known, and an
    /// update counts the resources its events name).
    public var planned: [PlannedChange]?

    public init(
        graph: ResourceGraph, table: DurationTable, operation: ResourceOperation, stack: String?,
        phaseTotal: Int = 0, planned: [PlannedChange]? = nil
    ) {
        self.graph = graph
        self.table = table
        self.operation = operation
        self.stack = stack
        self.phaseTotal = phaseTotal
        self.planned = planned
    }

    /// The stack's own planned changes (not those inside its nested stacks), by logical id.
    var rootPlan: [String: PlannedChange] {
        guard operation == .update, let planned else { return [:] }
        return Dictionary(
            planned.filter(\.nestedStack.isEmpty).map { ($0.logicalID, $0) },
            uniquingKeysWith: { first, _ in first })
    }

    /// What the build does to resource `id`: its planned change's operation, else the build's.
    func operation(of id: String, plan: [String: PlannedChange]) -> ResourceOperation {
        plan[id]?.operation ?? operation
    }

    /// A vagrant build: its milestones (vagrant's steps, the provisioner's phases) counted,
    /// and the time from the last one reached to the end as learned from earlier builds.
    public func forecastVagrant(_ events: [ObservedEvent], start: Date, now: Date, finished: Bool)
        -> BuildForecast
    {
        let reached = VagrantMilestones.reached(events)
        let phases = phaseProgress(events.sorted { $0.date < $1.date })
        let steps = reached.filter { !$0.0.hasPrefix("PHASE ") }.count
        let learnedSteps = (table.milestoneLists[operation] ?? []).filter { !$0.hasPrefix("PHASE ") }.count
        let phaseCount = max(phaseTotal, events.compactMap { PhaseClock.phase($0)?.total }.max() ?? 0)
        let total = max(learnedSteps, steps) + phaseCount
        let done = finished ? total : min(steps + min(phases.done, phaseCount), total)
        var remaining: Double?
        var basis = DurationSource.guess
        let last = ([("start", start)] + reached).last!
        if finished {
            remaining = 0
        } else if let stats = table.milestoneStats(last.0, operation) {
            remaining = stats.remaining(after: now.timeIntervalSince(last.1))
            basis = .learned
        }
        return BuildForecast(
            done: done, total: total, rollingBack: false, remaining: remaining, overdue: [], basis: basis)
    }

    public func forecast(_ events: [ObservedEvent], now: Date) -> BuildForecast {
        let sorted = events.sorted { $0.date < $1.date }
        let spans = ResourceSpan.spans(sorted, stack: stack)
        let stackEvents = sorted.filter { $0.logicalID == stack }
        // A nested stack rolls back before its parent does (its failure fails the parent's
        // resource): the build's rollback starts with the first stack that rolls back.
        let rollbackAt = sorted.first {
            ($0.logicalID == stack || NestedPath.isStackRow($0.logicalID))
                && $0.status.contains("ROLLBACK_IN_PROGRESS")
        }?.date
        let phases = phaseProgress(sorted)
        if let rollbackAt {
            return rollback(spans, since: rollbackAt, stackEvents: stackEvents, now: now)
        }
        let latest = Dictionary(spans.map { ($0.logicalID, $0) }, uniquingKeysWith: { _, last in last })
        let finishedIDs = Set(spans.filter { isDone($0, plan: qualifiedPlan) }.map(\.logicalID))
        var (done, total) = count(graph: graph, path: "", latest: latest, finished: finishedIDs)
        total += phaseTotal
        done += min(phases.done, phaseTotal)
        let (remaining, overdue, basis) = forward(
            universe: universe(graph: graph, latest: latest, path: []), latest: latest, finished: finishedIDs,
            phases: phases, now: now)
        let finished = stackEvents.last.map { !$0.status.hasSuffix("_IN_PROGRESS") } ?? false
        return BuildForecast(
            done: finished && stackEvents.last?.status.hasSuffix("_COMPLETE") == true
                ? total : min(done, total),
            total: total, rollingBack: false, remaining: finished ? 0 : remaining, overdue: overdue,
            basis: basis)
    }

    /// Whether a span finishes the resource's work for this build: any successful span,
    /// except that a delete (a destroy, or a `Remove` in an update's plan) needs the delete.
    /// A replaced resource stays done while its old copy is deleted at cleanup.
    func isDone(_ span: ResourceSpan, plan: [String: PlannedChange] = [:]) -> Bool {
        guard span.end != nil else { return false }
        if span.status.hasSuffix("_COMPLETE") || span.status == "DELETE_SKIPPED" {
            return operation(of: span.logicalID, plan: plan) == .delete ? span.operation == .delete : true
        }
        return false
    }

    /// Every planned change by its logical id qualified by its nested stack's path
    /// (`Network/Subnet`), as a nested stack's events are stored.
    var qualifiedPlan: [String: PlannedChange] {
        guard operation == .update, let planned else { return [:] }
        return Dictionary(
            planned.map {
                (NestedPath.qualify($0.logicalID, in: $0.nestedStack.joined(separator: "/")), $0)
            }, uniquingKeysWith: { first, _ in first })
    }

    /// The planned changes inside nested stack `id`, relative to it (for its own estimator).
    func planned(inside id: String) -> [PlannedChange]? {
        planned.map {
            $0.filter { $0.nestedStack.first == id }.map {
                var change = $0
                change.nestedStack.removeFirst()
                return change
            }
        }
    }

    /// The resources of one stack's level (`path`: the nested stacks from this estimator's
    /// stack; `latest` relative to that level, a nested stack's resources `Child/…` there)
    /// with their types: the template's, and any the events name that it does not (a
    /// nested stack the events name inside). An update counts what its change set plans
    /// and anything else it touches (CloudFormation reports nothing for an unchanged
    /// resource).
    func universe(graph: ResourceGraph?, latest: [String: ResourceSpan], path: [String]) -> [String: String] {
        var types: [String: String] = [:]
        if operation != .update {
            for node in graph?.nodes ?? [] { types[node.id] = node.type }
        }
        for change in planned ?? [] where operation == .update && change.nestedStack.starts(with: path) {
            if change.nestedStack.count == path.count {
                types[change.logicalID] = change.resourceType
            } else if types[change.nestedStack[path.count]] == nil {
                types[change.nestedStack[path.count]] = "AWS::CloudFormation::Stack"
            }
        }
        for (id, span) in latest {
            if let slash = id.firstIndex(of: NestedPath.separator) {
                // A resource inside a nested stack: that nested stack is at this level.
                let outer = String(id[..<slash])
                if types[outer] == nil { types[outer] = "AWS::CloudFormation::Stack" }
            } else {
                types[id] = types[id] ?? span.resourceType
            }
        }
        return types
    }

    /// Done and total of one stack's level (`path` from the root, "" for it), nested
    /// stacks' resources included: a nested stack counts itself and its resources (those of
    /// its template when it is known, or planned, and any more its events name); while it
    /// works, its resources count as its own events say, and all of them once its resource
    /// in the parent is done.
    func count(graph: ResourceGraph?, path: String, latest: [String: ResourceSpan], finished: Set<String>)
        -> (Int, Int)
    {
        let level = path.isEmpty ? latest : NestedPath.strip(latest, below: path)
        let components = path.split(separator: NestedPath.separator).map(String.init)
        var done = 0
        var total = 0
        for (id, type) in universe(graph: graph, latest: level, path: components) {
            let node = graph?[id]
            let full = NestedPath.qualify(id, in: path)
            var inner = (0, 0)
            if type == "AWS::CloudFormation::Stack" || node?.nested != nil {
                inner = count(graph: node?.nested, path: full, latest: latest, finished: finished)
            }
            total += 1 + inner.1
            done += finished.contains(full) ? 1 + inner.1 : min(inner.0, inner.1)
        }
        return (done, total)
    }

    /// Phases done so far, the last phase's time, and whether the wait condition finished.
    struct Phases {
        var done = 0
        var lastAt: Date?
    }

    func phaseProgress(_ events: [ObservedEvent]) -> Phases {
        var phases = Phases()
        for event in events {
            if let phase = PhaseClock.phase(event), phase.number > phases.done {
                phases.done = min(phase.number, max(phaseTotal, phase.total))
                phases.lastAt = event.date
            }
            if event.resourceType == "AWS::CloudFormation::WaitCondition",
                event.status.hasSuffix("_COMPLETE"),
                ResourceOperation(status: event.status) != .delete
            {
                phases.done = phaseTotal
            }
        }
        return phases
    }

    /// The expected duration of a resource not yet started.
    func expected(_ id: String, type: String, operation: ResourceOperation) -> (DurationStats, DurationSource)
    {
        if let nested = graph[id]?.nested, !nested.nodes.isEmpty {
            let inner = BuildEstimator(graph: nested, table: table, operation: operation, stack: nil)
            let path = inner.longestPath(
                Set(nested.nodes.map(\.id)), state: { _ in .waiting }, operation: operation)
            if table.stats(type, operation).1 != .learned {
                return (DurationStats(count: 0, median: path + 5, p90: (path + 5) * 1.3), .prior)
            }
        }
        if type == "AWS::CloudFormation::WaitCondition", phaseTotal > 0, operation != .delete,
            let sum = phaseSum(from: 1)
        {
            return (DurationStats(count: 0, median: sum.median, p90: sum.p90), .learned)
        }
        return table.stats(type, operation)
    }

    /// The learned durations of phases `first…phaseTotal` added up; nil when one is unknown.
    func phaseSum(from first: Int) -> DurationStats? {
        guard first <= phaseTotal else { return DurationStats(count: 0, median: 0, p90: 0) }
        var median = 0.0
        var p90 = 0.0
        for number in first...phaseTotal {
            guard let stats = table.phaseStats(number) else { return nil }
            median += stats.median
            p90 += stats.p90
        }
        return DurationStats(count: 0, median: median, p90: p90)
    }

    enum NodeState {
        case done
        case working(remaining: Double)
        case waiting
    }

    func forward(
        universe types: [String: String], latest: [String: ResourceSpan], finished: Set<String>,
        phases: Phases, now: Date
    ) -> (
        Double?, [BuildForecast.Overdue], DurationSource
    ) {
        let universe = Set(types.keys)
        var overdue: [BuildForecast.Overdue] = []
        var states: [String: NodeState] = [:]
        var sources: [DurationSource: Int] = [:]
        let plan = rootPlan
        for id in universe {
            let type =
                graph[id]?.type ?? plan[id]?.resourceType ?? latest[id]?.resourceType ?? types[id] ?? ""
            let (stats, source) = expected(id, type: type, operation: operation(of: id, plan: plan))
            sources[source, default: 0] += 1
            guard let span = latest[id] else {
                states[id] = .waiting
                continue
            }
            if finished.contains(id) {
                states[id] = .done
                continue
            }
            if span.end != nil {
                // Failed: the stack will roll back; nothing more of it forward.
                states[id] = .done
                continue
            }
            let elapsed = now.timeIntervalSince(span.start)
            var left = stats.remaining(after: elapsed)
            if type == "AWS::CloudFormation::WaitCondition", phaseTotal > 0,
                let rest = phaseSum(from: phases.done + 2),
                let current = table.phaseStats(phases.done + 1)
            {
                // At a phase: what is left of it, then the phases after it.
                left =
                    current.remaining(after: now.timeIntervalSince(phases.lastAt ?? span.start)) + rest.median
            }
            if let nested = graph[id]?.nested, !nested.nodes.isEmpty {
                // A nested stack at work whose template is known: its own remaining longest
                // path, from its own events (and its resources past their p90).
                let inner = BuildEstimator(
                    graph: nested, table: table, operation: operation, stack: nil,
                    planned: planned(inside: id))
                let innerLatest = NestedPath.strip(latest, below: id)
                let prefix = id + String(NestedPath.separator)
                let innerFinished = Set(
                    finished.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) })
                let (path, late, _) = inner.forward(
                    universe: inner.universe(graph: nested, latest: innerLatest, path: []),
                    latest: innerLatest,
                    finished: innerFinished, phases: Phases(), now: now)
                if let path { left = path }
                overdue += late.map {
                    var late = $0
                    late.logicalID = NestedPath.qualify($0.logicalID, in: id)
                    return late
                }
                states[id] = .working(remaining: left)
                continue
            }
            states[id] = .working(remaining: left)
            if elapsed > stats.p90, source != .guess {
                overdue.append(
                    .init(
                        logicalID: id, resourceType: type, elapsed: elapsed, median: stats.median,
                        p90: stats.p90))
            }
        }
        let basis = sources.max { $0.value < $1.value }?.key ?? .guess
        if universe.isEmpty { return (nil, overdue, basis) }
        // An update deletes what it removes, and the old copies of what it replaces, at
        // cleanup, once everything else is done.
        let cleanup = Set(plan.values.filter { $0.operation == .delete }.map(\.logicalID))
        var path = longestPath(
            universe.subtracting(cleanup), state: { states[$0] ?? .waiting }, operation: operation)
        var last = 0.0
        for change in plan.values where change.operation == .delete || change.replacement {
            let stats = table.stats(change.resourceType, .delete).0
            guard let span = latest[change.logicalID], span.operation == .delete else {
                last = max(last, stats.median)
                continue
            }
            if span.end == nil { last = max(last, stats.remaining(after: now.timeIntervalSince(span.start))) }
        }
        path += last
        return (path, overdue.sorted { $0.logicalID < $1.logicalID }, basis)
    }

    /// The longest chain of remaining work through `ids`: each resource starts once those
    /// it waits for are done (for a delete, once those that wait for it are deleted).
    func longestPath(_ ids: Set<String>, state: (String) -> NodeState, operation: ResourceOperation) -> Double
    {
        var waitsFor: [String: Set<String>] = [:]
        for id in ids { waitsFor[id] = [] }
        for node in graph.nodes where ids.contains(node.id) {
            for dependency in node.dependsOn where ids.contains(dependency) {
                if operation == .delete {
                    waitsFor[dependency, default: []].insert(node.id)
                } else {
                    waitsFor[node.id, default: []].insert(dependency)
                }
            }
        }
        var finish: [String: Double] = [:]
        var visiting = Set<String>()
        let plan = rootPlan
        func end(_ id: String) -> Double {
            if let known = finish[id] { return known }
            if visiting.contains(id) { return 0 }  // a cycle CloudFormation would refuse
            visiting.insert(id)
            defer { visiting.remove(id) }
            let result: Double
            switch state(id) {
            case .done: result = 0
            case .working(let remaining): result = remaining
            case .waiting:
                let type = graph[id]?.type ?? plan[id]?.resourceType ?? ""
                let ready = (waitsFor[id] ?? []).map(end).max() ?? 0
                result =
                    ready + expected(id, type: type, operation: self.operation(of: id, plan: plan)).0.median
            }
            finish[id] = result
            return result
        }
        return ids.map(end).max() ?? 0
    }

    /// A rollback: the resources the build had begun are undone; progress counts them.
    func rollback(_ spans: [ResourceSpan], since start: Date, stackEvents: [ObservedEvent], now: Date)
        -> BuildForecast
    {
        let before = spans.filter { $0.start < start }
        let after = spans.filter { $0.start >= start }
        let begun = Set(before.map(\.logicalID))
        var undone = Set<String>()
        for span in after
        where span.end != nil && (span.status.hasSuffix("_COMPLETE") || span.status == "DELETE_SKIPPED") {
            undone.insert(span.logicalID)
        }
        // A resource whose create failed, or that never got past IN_PROGRESS before it was
        // deleted, is undone once CloudFormation reports it deleted.
        let total = begun.count
        let finished =
            stackEvents.last.map {
                $0.status.hasSuffix("ROLLBACK_COMPLETE") || $0.status.hasSuffix("ROLLBACK_FAILED")
            } ?? false
        let done = finished ? total : min(undone.intersection(begun).count, total)
        let undoOperation: ResourceOperation = operation == .update ? .update : .delete
        var states: [String: NodeState] = [:]
        let latestAfter = Dictionary(after.map { ($0.logicalID, $0) }, uniquingKeysWith: { _, last in last })
        for id in begun {
            if undone.contains(id) {
                states[id] = .done
            } else if let span = latestAfter[id], span.end == nil {
                let type = span.resourceType
                states[id] = .working(
                    remaining: table.stats(type, undoOperation).0.remaining(
                        after: now.timeIntervalSince(span.start)))
            } else {
                states[id] = .waiting
            }
        }
        let undo = BuildEstimator(graph: graph, table: table, operation: undoOperation, stack: stack)
        let remaining =
            finished ? 0 : undo.longestPath(begun, state: { states[$0] ?? .waiting }, operation: .delete)
        return BuildForecast(
            done: done, total: total, rollingBack: true, remaining: remaining, overdue: [], basis: .learned)
    }
}
