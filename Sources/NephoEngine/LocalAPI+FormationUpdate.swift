import Foundation
import NephoAWS
import NephoCore
import NephoProtocol
import NephoStore

/// `formation.update`: plans a change set from the cloudlet's current pattern and the
/// formation's parameters with the new ones over them, then (when asked again with the
/// change set's name) executes it as a build.
extension LocalAPI {
    public func formationUpdate(_ params: FormationUpdateParams) async throws -> FormationUpdateResult {
        resumeBuilds()
        let store = try store()
        let formation = try formationRecord(params.name, in: store)
        if formation.provider == "vagrant" { throw vagrantUpdateRefusal(formation) }
        // Change sets go by stack name (moto does not find them by stack id).
        guard formation.stackID != nil else {
            throw NephoError(.conflict, "formation \(params.name) has no stack")
        }
        if let running = try store.builds(formationID: formation.id).last, running.finishedAt == nil {
            throw NephoError(
                .conflict,
                "formation \(params.name) is being built (\(running.operation.rawValue)); wait for it (`nepho formation:watch \(params.name)`)"
            )
        }
        let cloudFormation = try cloudFormationSession().cloudFormation()
        if let changeSet = params.changeSet {
            try await translatingAWSErrors(stack: formation.name) {
                try await cloudFormation.executeChangeSet(changeSet, stackName: formation.name)
            }
            let build = try startBuild(
                store: store, formation: formation, operation: .update, status: "UPDATE_IN_PROGRESS")
            return FormationUpdateResult(
                name: formation.name, changeSet: changeSet, changes: [], build: build)
        }
        let (cloudlet, scenario) = try translatingErrors { () -> (Cloudlet, Scenario) in
            let cloudlet = try catalog().find(formation.cloudlet)
            return (cloudlet, try cloudlet.scenario(formation.scenario))
        }
        // The formation's stored values sit under the command line's; secrets keep their previous value.
        var overrides = Self.dictionary(formation.parameters).filter { $0.value != Self.mask }
        for (key, value) in params.overrides { overrides[key] = value }
        let values = try translatingErrors {
            try resolver(cloudlet: cloudlet, scenario: scenario, overrides: overrides).resolve()
        }
        let provider = FormationProvider(cloudlet: cloudlet, scenario: scenario, values: values)
        let (text, parsed) = try provider.template()
        let session = try cloudFormationSession()
        let name = "nepho-update-\(Int(Date().timeIntervalSince1970))"
        let changeSet: ChangeSet = try await translatingAWSErrors(stack: formation.name) {
            let source: TemplateSource =
                text.utf8.count > CloudFormationClient.maxTemplateBodyBytes
                ? try await session.templateUploader().source(for: text) : .body(text)
            let summary = try await Self.validate(cloudFormation, source, pattern: provider.templateURL.path)
            var request = provider.request(
                stackName: formation.name, source: source, text: text, parsed: parsed,
                validated: summary.capabilities)
            request.onFailure = nil
            let secrets = Set(values.filter(\.secret).map(\.name))
            request.parameters = request.parameters.map {
                secrets.contains($0.key) && params.overrides[$0.key] == nil
                    ? StackParameter(keepingPreviousValueOf: $0.key) : $0
            }
            _ = try await cloudFormation.createChangeSet(request, changeSetName: name)
            var described = try await cloudFormation.describeChangeSet(name, stackName: formation.name)
            var waited = 0
            while described.status.hasSuffix("_PENDING") || described.status.hasSuffix("_IN_PROGRESS"),
                waited < 300
            {
                try await Task.sleep(nanoseconds: 1_000_000_000)
                waited += 1
                described = try await cloudFormation.describeChangeSet(name, stackName: formation.name)
            }
            return described
        }
        if changeSet.status == "FAILED" {
            try? await cloudFormation.deleteChangeSet(name, stackName: formation.name)
            let reason = changeSet.statusReason ?? "no reason given"
            if reason.contains("didn't contain changes") || reason.contains("No updates") {
                return FormationUpdateResult(name: formation.name, changeSet: "", changes: [], build: nil)
            }
            throw NephoError(.invalidInput, "CloudFormation rejected the update: \(reason)")
        }
        try store.updateFormation(id: formation.id, status: formation.status)
        let changes = changeSet.changes.map {
            FormationChange(
                action: $0.action, logicalID: $0.logicalResourceId, resourceType: $0.resourceType,
                replacement: $0.replacement)
        }
        return FormationUpdateResult(name: formation.name, changeSet: name, changes: changes, build: nil)
    }
}
