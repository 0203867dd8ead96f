import Foundation
import NephoAWS
import NephoCore
import NephoProtocol
import NephoStore

/// `formation.update`: plans a change set from the cloudlet's current pattern and the
/// formation's parameters with the new ones over them, then (when asked again with the
/// change set's name) executes it as a build.
extension CloudFormationDriver {
    public func update(
        _ formation: FormationRecord, _ params: FormationUpdateParams, context: DriverContext,
        lifecycle: FormationLifecycle
    ) async throws -> FormationUpdateResult {
        // Change sets go by stack name (moto does not find them by stack id).
        guard formation.stackID != nil else {
            throw NephoError(.conflict, "formation \(params.name) has no stack")
        }
        try lifecycle.requireIdle(formation)
        let session = try Self.session(context)
        let cloudFormation = try session.cloudFormation()
        if let changeSet = params.changeSet {
            // The change set carried nepho's topic when one was in place (see below).
            let topic = await EventChannel.topic(
                session: session, environment: context.environment, paths: context.paths,
                store: lifecycle.store)
            // What it will change, for the build's progress (docs/formations.md, "Progress
            // and ETA"); an update whose plan cannot be read counts what its events name.
            let planned = try? await Self.outlastingThrottling {
                try await cloudFormation.describeChangeSet(
                    changeSet, stackName: formation.name, includingNested: true)
            }.changes.map {
                PlannedChange(
                    action: $0.action, logicalID: $0.logicalResourceId, resourceType: $0.resourceType,
                    replacement: $0.replacement == "True", nestedStack: $0.nestedStack)
            }
            let build = try await lifecycle.launchBuild(formation, operation: .update) { context in
                try await Self.translatingAWSErrors(stack: formation.name, call: "ExecuteChangeSet") {
                    try await Self.tokenCall(stack: formation.name, call: "ExecuteChangeSet") {
                        try await Self.outlastingThrottling {
                            try await cloudFormation.executeChangeSet(
                                changeSet, stackName: formation.name, clientRequestToken: context.requestToken
                            )
                        }
                    }
                }
                return Launch(start: { build, store in
                    if let stackID = formation.stackID, let topic {
                        try store.setStackTopic(stackID: stackID, topicArn: topic)
                    }
                    if let planned {
                        try? store.setPlanned(build: build.id, json: PlannedChange.json(planned))
                    }
                })
            }
            return FormationUpdateResult(
                name: formation.name, changeSet: changeSet, changes: [], build: build)
        }
        // The formation's stored values sit under the command line's; secrets keep their previous value.
        var overrides = formation.parameters.filter { $0.value != FormationLifecycle.mask }
        for (key, value) in params.overrides { overrides[key] = value }
        let (cloudlet, scenario, values) = try lifecycle.resolve(
            cloudlet: formation.cloudlet, scenario: formation.scenario, overrides: overrides)
        let provider = StackPlan(cloudlet: cloudlet, scenario: scenario, values: values)
        let (text, parsed) = try provider.template()
        try provider.checkNestedFiles(parsed)
        // Unique beyond the stack: moto finds a change set by its name alone, so two stacks'
        // updates in the same second took each other's (real CloudFormation scopes names by stack).
        let name =
            "nepho-update-\(Int(Date().timeIntervalSince1970))-\(UUID().uuidString.prefix(8).lowercased())"
        let changeSet: ChangeSet = try await Self.translatingAWSErrors(
            stack: formation.name, call: "making a change set (CreateChangeSet)"
        ) {
            let (sent, nested) = try await Self.packaged(
                provider, text: text, parsed: parsed, session: session)
            let source = try await Self.source(sent, session: session)
            let summary = try await Self.validate(cloudFormation, source, pattern: provider.templateURL.path)
            var request = provider.request(
                stackName: formation.name, source: source, text: text, parsed: parsed,
                validated: summary.capabilities + nested)
            request.onFailure = nil
            // Its events pushed to the nanny (docs/aws.md, "Stack events"); an update that
            // leaves NotificationARNs out would keep the stack's previous ones.
            request = try EventChannel.adding(
                await EventChannel.topic(
                    session: session, environment: context.environment, paths: context.paths,
                    store: lifecycle.store),
                to: request,
                ruleInPlace: EventChannel.ruleInPlace(
                    session: session, environment: context.environment, store: lifecycle.store))
            let secrets = Set(values.filter(\.secret).map(\.name))
            request.parameters = request.parameters.map {
                secrets.contains($0.key) && params.overrides[$0.key] == nil
                    ? StackParameter(keepingPreviousValueOf: $0.key) : $0
            }
            // The changes as CloudFormation will make them: after the template's transforms,
            // and with each nested stack's own changes (IncludeNestedStacks).
            _ = try await Self.outlastingThrottling {
                try await cloudFormation.createChangeSet(
                    request, changeSetName: name, includeNestedStacks: true)
            }
            var described = try await cloudFormation.describeChangeSet(name, stackName: formation.name)
            var waited = 0
            while described.status.hasSuffix("_PENDING") || described.status.hasSuffix("_IN_PROGRESS"),
                waited < 300
            {
                try await Task.sleep(nanoseconds: 1_000_000_000)
                waited += 1
                described = try await cloudFormation.describeChangeSet(name, stackName: formation.name)
            }
            guard described.status == "CREATE_COMPLETE",
                described.changes.contains(where: { $0.changeSetId != nil })
            else { return described }
            return try await cloudFormation.describeChangeSet(
                name, stackName: formation.name, includingNested: true)
        }
        if changeSet.status == "FAILED" {
            try? await cloudFormation.deleteChangeSet(name, stackName: formation.name)
            let reason = changeSet.statusReason ?? "no reason given"
            if reason.contains("didn't contain changes") || reason.contains("No updates") {
                return FormationUpdateResult(name: formation.name, changeSet: "", changes: [], build: nil)
            }
            throw NephoError(.invalidInput, "CloudFormation rejected the update: \(reason)")
        }
        try lifecycle.store.updateFormation(id: formation.id, status: formation.status)
        let changes = changeSet.changes.map {
            FormationChange(
                action: $0.action, logicalID: $0.logicalResourceId, resourceType: $0.resourceType,
                replacement: $0.replacement,
                nestedStack: $0.nestedStack.isEmpty ? nil : $0.nestedStack.joined(separator: "/"))
        }
        return FormationUpdateResult(
            name: formation.name, changeSet: name, changes: changes, build: nil,
            parameters: Self.parameterChanges(
                from: formation.parameters, to: values, declared: Set(parsed.parameters.map(\.name)),
                overrides: params.overrides))
    }

    /// The declared parameters whose value the update changes; a secret shows as the
    /// mask, and as changed only when given on the command line.
    static func parameterChanges(
        from stored: [String: String], to values: [ResolvedValue], declared: Set<String>,
        overrides: [String: String]
    ) -> [FormationParameterChange] {
        let mask = FormationLifecycle.mask
        return values.filter { declared.contains($0.name) }.compactMap { value -> FormationParameterChange? in
            let old = stored[value.name]
            if value.secret || old == mask {
                guard overrides[value.name] != nil else { return nil }
                return FormationParameterChange(name: value.name, old: old.map { _ in mask }, new: mask)
            }
            guard old != value.value else { return nil }
            return FormationParameterChange(name: value.name, old: old, new: value.value)
        }
        .sorted { $0.name < $1.name }
    }
}
