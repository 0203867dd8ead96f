import Foundation
import NephoAWS
import NephoStore
import NephoSupport

/// A build recorded before its call (the intent) whose launcher died mid-call, or whose
/// call got no answer (`ProviderCallUnanswered`): was the call taken? The monitor finds out before it follows (docs/security.md, "Crashes").
/// Real CloudFormation puts the call's `ClientRequestToken` on the events it caused: a
/// stack or update carrying the build's token is the build's. Where events carry no
/// token (moto), a nepho-tagged stack made after the build's start (less `skew`), or a
/// stack with an UPDATE_ event of its own since then, is taken as the build's.
extension CloudFormationMonitor {
    /// Seconds the provider's clock may lag this host's.
    static let skew: TimeInterval = 30

    /// Seconds after a build's start before its monitor concludes that CloudFormation did
    /// not take the call (no stack, no update of its own): 120, `NEPHO_INTENT_GRACE`.
    var intentGrace: TimeInterval { Double(environment["NEPHO_INTENT_GRACE"] ?? "") ?? 120 }

    /// Resolves the intent: true when the call was taken (the build is launched and
    /// followed), false when the build was ended here (the call was not taken).
    func resolveIntent(
        _ cloudFormation: CloudFormationClient, store: StateStore, build: BuildRecord,
        formation: FormationRecord, scope: String
    ) async throws -> Bool {
        if let recorded = build.scope, recorded != scope {
            // Another account, region or endpoint than the call's (the context of whichever
            // client came last, after a crash): what it finds or misses says nothing of the
            // call. The build stays open; a later monitor tries with the then-latest context.
            log(
                "build \(buildID): its call was made with other credentials or another region than this monitor has; "
                    + "left open until a command brings those (e.g. `nepho formation:watch \(formation.name)` with them)"
            )
            try await Task.sleep(nanoseconds: 60_000_000_000)
            return false
        }
        let started = (Timestamp.date(build.startedAt) ?? Date()).addingTimeInterval(-Self.skew)
        let token = build.requestToken
        log(
            "build \(buildID): its provider call got no answer (or its launcher died during it); looking for what it asked"
        )
        // What an unanswered call asked may still be under way at CloudFormation: "not
        // there" is concluded only once the build is `intentGrace` seconds old.
        let lookUntil = (Timestamp.date(build.startedAt) ?? Date()).addingTimeInterval(intentGrace)
        func lookAgain() async throws -> Bool {
            guard Date() < lookUntil, try store.build(id: build.id)?.finishedAt == nil else { return false }
            try await Task.sleep(nanoseconds: 3_000_000_000)
            return true
        }
        switch build.operation {
        case .create:
            var stack: Stack?
            while true {
                stack = try await missingAsNil {
                    try await cloudFormation.describeStacks(formation.name).first
                }
                if stack != nil { break }
                if try await !lookAgain() { break }
            }
            if let stack, stack.tags.contains(where: { $0.key == "CreatedBy" && $0.value == "nepho" }) {
                let events = try await cloudFormation.describeStackEvents(stack.stackId)
                let tokens = Set(events.compactMap(\.clientRequestToken))
                let ours = tokens.isEmpty ? stack.creationTime >= started : tokens.contains(token ?? "")
                if ours {
                    try store.updateFormation(
                        id: formation.id, status: stack.status, stackID: stack.stackId,
                        region: (try? AWSConfiguration.resolve(environment: environment))?.region)
                    try notifies(stack, store: store, scope: scope)
                    try store.launched(build: build.id)
                    log("build \(buildID): the stack was made (\(stack.stackId)); following it")
                    return true
                }
            }
            let reason =
                stack == nil
                ? "CloudFormation's answer to the stack's creation never reached nepho, and it has no such stack: nothing was made"
                : "CloudFormation's answer to the stack's creation never reached nepho; the stack named \(formation.name) is not this build's"
            try endUnlaunched(
                store, build: build, formation: formation, formationStatus: "DELETE_COMPLETE", reason)
            return false
        case .update:
            guard let stackID = formation.stackID,
                let stack = try await missingAsNil({ try await cloudFormation.describeStacks(stackID).first })
            else {
                try endUnlaunched(
                    store, build: build, formation: formation, formationStatus: "DELETE_COMPLETE",
                    "the stack no longer exists (deleted outside nepho)")
                return false
            }
            var ours = false
            while true {
                let events = try await cloudFormation.describeStackEvents(stackID)
                let tokens = Set(events.compactMap(\.clientRequestToken))
                // The stack's own UPDATE_ event since the build's start (moto leaves the stack's
                // status and LastUpdatedTime as they were after ExecuteChangeSet; its events tell).
                ours =
                    tokens.isEmpty
                    ? events.contains {
                        $0.resourceType == "AWS::CloudFormation::Stack"
                            && $0.logicalResourceId == stack.stackName
                            && $0.status.hasPrefix("UPDATE_") && $0.timestamp >= started
                    }
                    : tokens.contains(token ?? "")
                if ours { break }
                if try await !lookAgain() { break }
            }
            if ours {
                try notifies(stack, store: store, scope: scope)
                try store.launched(build: build.id)
                log("build \(buildID): CloudFormation took the update; following it")
                return true
            }
            try endUnlaunched(
                store, build: build, formation: formation, formationStatus: stack.status,
                "CloudFormation's answer to the update never reached nepho, and it did not take it: nothing was changed"
            )
            return false
        case .destroy:
            // DeleteStack again with the same token: taken once, however often asked.
            if let stackID = formation.stackID {
                try await missingAsNil {
                    try await cloudFormation.deleteStack(stackID, clientRequestToken: token)
                }
            }
            // The builds before it end, as when the destroy was asked (superseded).
            for earlier in try store.builds(formationID: formation.id)
            where earlier.id != build.id && earlier.finishedAt == nil {
                let status =
                    BuildStatus(earlier.status).phase == .inProgress
                    ? BuildStatus.word(earlier.operation, .failed) : earlier.status
                try store.updateBuild(
                    id: earlier.id, status: status, finished: true, error: "superseded by destroy")
            }
            try store.launched(build: build.id)
            log(
                "build \(buildID): the stack's deletion is asked (again, with the build's token); following it"
            )
            return true
        }
    }

    /// The stack notifies nepho's topic: its events come through the nanny's queue.
    private func notifies(_ stack: Stack, store: StateStore, scope: String) throws {
        if let topic = try store.eventChannel(scope: scope)?.topicArn, stack.notificationARNs.contains(topic)
        {
            try store.setStackTopic(stackID: stack.stackId, topicArn: topic)
        }
    }

    private func endUnlaunched(
        _ store: StateStore, build: BuildRecord, formation: FormationRecord, formationStatus: String,
        _ reason: String
    ) throws {
        let failed = BuildStatus.word(build.operation, .failed)
        try store.updateBuild(id: build.id, status: failed, finished: true, error: reason)
        try store.updateFormation(id: formation.id, status: formationStatus)
        log("build \(buildID) ended: \(failed) (\(reason))")
    }

    /// The call's answer, nil when the stack does not exist; throttling and other
    /// failures are retried for a while (the monitor must not guess).
    @discardableResult
    private func missingAsNil<T>(_ call: () async throws -> T?) async throws -> T? {
        var attempt = 0
        while true {
            do {
                return try await call()
            } catch let error as AWSError where error.isStackMissing {
                return nil
            } catch {
                attempt += 1
                guard attempt < 30 else { throw error }
                log("build \(buildID): \(SystemError.reason(error)); trying again")
                try await Task.sleep(nanoseconds: UInt64(min(30, 1 << min(attempt, 5))) * 1_000_000_000)
            }
        }
    }
}
