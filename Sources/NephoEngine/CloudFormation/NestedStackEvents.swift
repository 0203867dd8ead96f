import Foundation
import NephoAWS
import NephoCore
import NephoStore
import NephoSupport

/// The events of a build's nested stacks (docs/formations.md, "Nested stacks"; docs/aws.md,
/// "Events of nested stacks"): a nested stack is learned from its parent's events (its
/// resource's PhysicalResourceId, the nested stack's ARN) and its events are stored in the
/// root's build with their logical ids under the nested stack's path (`Child/Bucket`).
enum NestedStackEvents {
    /// Nested stacks deeper than this are not followed (CloudFormation allows deeper ones;
    /// their resources still count through their parent's).
    static let depth = 5

    /// The record of `event` of the stack at `path` ("" for the root) for `buildID`.
    static func record(_ event: StackEvent, path: String, buildID: Int64) -> EventRecord {
        // The nested stack's own stack-level row is stored as PATH/STACK-NAME (not a logical
        // id, so never taken for a resource or for the root stack's own row).
        let own =
            !path.isEmpty && event.resourceType == "AWS::CloudFormation::Stack"
            && event.logicalResourceId == event.stackName
        let logical = NestedPath.qualify(own ? event.stackName : event.logicalResourceId, in: path)
        return EventRecord(
            buildID: buildID, providerEventID: event.eventId, timestamp: Timestamp.string(event.timestamp),
            logicalID: logical, resourceType: event.resourceType, status: event.status,
            reason: event.statusReason)
    }

    /// Notes the nested stack `event` names, when it is a nested stack's resource in the
    /// stack at `path` whose physical id is known. When the parent starts work on a nested
    /// stack whose own events already told an end (a rollback that undoes it, its delete),
    /// it is followed again, unless its own events stored are newer than the parent's.
    static func note(_ event: StackEvent, path: String, buildID: Int64, store: StateStore) throws {
        guard event.resourceType == "AWS::CloudFormation::Stack", event.logicalResourceId != event.stackName,
            let physical = event.physicalResourceId, !physical.isEmpty, physical != event.stackId,
            path.split(separator: NestedPath.separator).count < depth
        else { return }
        let nestedPath = NestedPath.qualify(event.logicalResourceId, in: path)
        if try store.addNestedStack(buildID: buildID, stackID: physical, path: nestedPath) { return }
        guard event.status.hasSuffix("_IN_PROGRESS"),
            let known = try store.nestedStacks(buildID: buildID).first(where: { $0.stackID == physical }),
            !known.inProgress
        else { return }
        let newestOwn = try store.latestEventTimestamp(buildID: buildID, under: nestedPath).flatMap(
            Timestamp.date)
        if newestOwn.map({ event.timestamp > $0 }) ?? true {
            try store.updateNestedStack(
                buildID: buildID, stackID: physical, status: event.status, lastEventID: nil)
        }
    }

    /// The status the nested stack's own rows among `events` (newest first) last told.
    static func ownStatus(_ events: [StackEvent]) -> String? {
        events.first {
            $0.resourceType == "AWS::CloudFormation::Stack" && $0.logicalResourceId == $0.stackName
        }?.status
    }
}
