import Foundation
import NephoAWS
import NephoStore
import NephoSupport

/// Reads a build's phase record (`PhaseChannel`) for its monitor: a conditional GET
/// (`If-None-Match` with the last ETag, kept in state.db) at most every `interval`
/// seconds, storing each new line once as an event. A missing object (the machine has
/// not written it yet) and a failed read are normal: the next look tries again, and
/// neither slows nor fails the build. The GETs do not spend the CloudFormation request
/// budget (docs/daemon.md, "The phase record").
final class PhaseRecordReader: @unchecked Sendable {
    let store: StateStore
    let buildID: Int64
    let s3: S3Client?
    /// Seconds between reads.
    let interval: Double
    private var nextLook = Date.distantPast

    init(store: StateStore, buildID: Int64, s3: S3Client?, interval: Double) {
        self.store = store
        self.buildID = buildID
        self.s3 = s3
        self.interval = interval
    }

    /// When the next look is due (never without a way to read the record).
    var nextLookAt: Date { s3 == nil ? .distantFuture : nextLook }

    /// Reads the record when it is due (or at once when `final`); returns true when new
    /// events were stored.
    @discardableResult
    func look(final: Bool = false) async -> Bool {
        guard final || Date() >= nextLook, let s3 else { return false }
        nextLook = Date().addingTimeInterval(interval)
        do {
            guard let object = try store.phaseObject(buildID: buildID) else { return false }
            switch try await s3.getObject(bucket: object.bucket, key: object.key, ifNoneMatch: object.etag) {
            case .missing, .unchanged:
                return false
            case .changed(let body, let etag):
                let lines = PhaseChannel.lines(String(decoding: body, as: UTF8.self))
                var stored = false
                for event in PhaseChannel.events(
                    lines, buildID: buildID, timestamp: Timestamp.string(Date()))
                {
                    if try store.appendEvent(event) != nil { stored = true }
                }
                // After the events: a monitor killed in between reads the same version again.
                try store.updatePhaseObjectETag(buildID: buildID, etag: etag)
                return stored
            }
        } catch {
            BuildMonitor.log("build \(buildID): phase record not read: \(SystemError.reason(error))")
            return false
        }
    }
}
