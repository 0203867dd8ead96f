import Foundation
import NephoAWS
import NephoCore
import NephoProtocol
import NephoStore
import NephoSupport

/// The provisioner's phase record (docs/provisioners.md, "The phase record"): a pattern
/// that declares the parameter `NephoPhaseURL` gets, when no layer gives it a value, a
/// presigned URL that lets the machine PUT one S3 object in nepho's bucket
/// (`nepho-templates-ACCOUNT-REGION`, key `phases/STACK/RANDOM`). The hand-off writes
/// the phase lines seen so far there after each phase and at the end; the build's
/// monitor reads it (`PhaseRecordReader`).
///
/// The URL is a bearer secret: it travels as a `Secret` into the CreateStack request
/// (whose description redacts every value), the template declares it `NoEcho`, and
/// state.db keeps only the bucket and key (and `****` among the parameters).
public enum PhaseChannel {
    /// The parameter a pattern declares to opt in.
    public static let parameterName = "NephoPhaseURL"

    /// A phase object to create for a new stack, with the URL the machine gets.
    public struct Prepared: Sendable {
        public var bucket: String
        public var key: String
        public var url: Secret
    }

    /// True when the template declares `NephoPhaseURL` and no layer gave it a value.
    static func wanted(declared: [ParameterSpec], values: [ResolvedValue]) -> Bool {
        guard declared.contains(where: { $0.name == parameterName }) else { return false }
        guard let value = values.first(where: { $0.name == parameterName }) else { return true }
        return (value.value ?? "").isEmpty
    }

    /// Makes sure nepho's bucket exists and presigns a PUT of a fresh key for `stackName`.
    /// No permission for the bucket is an error that says how to go without the record.
    static func prepare(session: AWSSession, stackName: String) async throws -> Prepared {
        let s3 = try session.s3()
        let account = try await session.sts().getCallerIdentity().account
        let bucket = TemplateUploader.bucketName(account: account, region: s3.region)
        do {
            try await s3.createBucket(bucket)
        } catch let error as AWSError where ["AccessDenied", "AllAccessDisabled"].contains(error.code) {
            throw NephoError(
                .permissionDenied,
                "no permission for the phase record's bucket \(bucket): \(error.message) (the pattern declares \(parameterName); "
                    + "allow s3:CreateBucket, s3:PutObject and s3:GetObject on it, or pass -p \(parameterName)=none to build without the record)"
            )
        }
        var random = SystemRandomNumberGenerator()
        let suffix = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }
            .joined()
        let key = "phases/\(stackName)/\(suffix)"
        return Prepared(bucket: bucket, key: key, url: s3.presignedPut(bucket: bucket, key: key))
    }

    /// The request with `NephoPhaseURL` set to the presigned URL (replacing an empty value).
    static func adding(_ prepared: Prepared, to request: StackRequest) -> StackRequest {
        var request = request
        request.parameters.removeAll { $0.key == parameterName }
        request.parameters.append(StackParameter(key: parameterName, value: prepared.url.reveal()))
        return request
    }

    /// One line of the phase record.
    public enum Line: Equatable, Sendable {
        case phase(ProvisionerPhase)
        /// `NEPHO_RESULT SUCCESS|FAILURE text`.
        case result(succeeded: Bool, text: String)
    }

    /// The well-formed lines of a phase record, in order; others are ignored.
    public static func lines(_ text: String) -> [Line] {
        text.split(whereSeparator: \.isNewline).compactMap { raw in
            let line = raw.trimmingCharacters(in: .whitespaces)
            if let phase = ProvisionerPhase(line: line) { return .phase(phase) }
            for (word, succeeded) in [("SUCCESS", true), ("FAILURE", false)] {
                let prefix = "NEPHO_RESULT \(word)"
                if line == prefix || line.hasPrefix(prefix + " ") {
                    return .result(
                        succeeded: succeeded,
                        text: String(line.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces))
                }
            }
            return nil
        }
    }

    /// The events of a build for the lines of its phase record: ids stable across reads
    /// (`phase-BUILD-N-of-T`, `phase-BUILD-result`), so each is stored once.
    public static func events(_ lines: [Line], buildID: Int64, timestamp: String) -> [EventRecord] {
        lines.map { line in
            switch line {
            case .phase(let phase):
                return EventRecord(
                    buildID: buildID, providerEventID: "phase-\(buildID)-\(phase.number)-of-\(phase.total)",
                    timestamp: timestamp, logicalID: "Provisioner", resourceType: "Nepho::Provisioner",
                    status: "PHASE \(phase.number)/\(phase.total)",
                    reason: "NEPHO_PHASE \(phase.number)/\(phase.total) \(phase.text)")
            case .result(let succeeded, let text):
                let word = succeeded ? "SUCCESS" : "FAILURE"
                return EventRecord(
                    buildID: buildID, providerEventID: "phase-\(buildID)-result", timestamp: timestamp,
                    logicalID: "Provisioner", resourceType: "Nepho::Provisioner",
                    status: "PROVISIONER_\(word)",
                    reason: "NEPHO_RESULT \(word)" + (text.isEmpty ? "" : " \(text)"))
            }
        }
    }
}
