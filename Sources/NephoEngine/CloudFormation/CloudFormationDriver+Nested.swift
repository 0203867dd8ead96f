import Foundation
import NephoAWS
import NephoCore
import NephoProtocol
import NephoSupport

extension CloudFormationDriver {
    /// The template to send for `stack`: its text as written, or, where nested stacks name
    /// files of the cloudlet (`NestedTemplateFiles`), the template with each file's S3 URL
    /// in its place, each file uploaded to nepho's bucket once (its own nested files
    /// first); with the capabilities the nested files' resources need (CloudFormation asks
    /// the root's call to acknowledge them).
    static func packaged(
        _ stack: StackPlan, text: String, parsed: CloudFormationTemplate, session: AWSSession
    )
        async throws -> (text: String, capabilities: [String])
    {
        guard !NestedTemplateFiles.references(in: parsed.document).isEmpty else { return (text, []) }
        let packager = NestedPackager(
            uploader: try session.templateUploader(),
            patterns: stack.cloudlet.folder.appendingPathComponent("patterns"))
        let sent = try await packager.package(file: stack.templateURL, document: parsed.document, text: text)
        return (sent, packager.capabilities)
    }
}

/// One template's nested files on their way to S3: each file uploaded once however often
/// it is named, the bucket looked up once, the capabilities of every file gathered.
private final class NestedPackager {
    let uploader: TemplateUploader
    let patterns: URL
    private var bucket: String?
    private var uploaded: [URL: String] = [:]
    private(set) var capabilities: [String] = []

    init(uploader: TemplateUploader, patterns: URL) {
        self.uploader = uploader
        self.patterns = patterns
    }

    func package(file: URL, document: YAMLNode, text: String, chain: [URL] = []) async throws -> String {
        let references = NestedTemplateFiles.references(in: document)
        guard !references.isEmpty else { return text }
        var urls: [String: String] = [:]
        for reference in references {
            // `StackPlan.checkNestedFiles` refused these before any call; checked again here
            // so that nothing outside the cloudlet's patterns/ is ever uploaded.
            func refuse(_ why: String) -> NephoError {
                NephoError(
                    .invalidInput,
                    "\(file.path):\(reference.mark.line): nested stack \(reference.resource): TemplateURL \(why)"
                )
            }
            let child: URL
            switch NestedTemplateFiles.resolve(reference.path, from: file, patterns: patterns) {
            case .file(let url): child = url
            case .refused(let why): throw refuse(why)
            }
            if let known = uploaded[child] {
                urls[reference.resource] = known
                continue
            }
            if child == file || chain.contains(child) {
                throw refuse("\"\(reference.path)\" is a template that names it in turn (a loop)")
            }
            if chain.count + 1 > NestedTemplateFiles.maximumDepth {
                throw refuse("nests templates more than \(NestedTemplateFiles.maximumDepth) deep")
            }
            var problems: [CloudletProblem] = []
            guard let childText = try? String(contentsOf: child, encoding: .utf8),
                let parsed = CloudFormationTemplate.read(child, problems: &problems),
                !problems.contains(where: { $0.severity == .error })
            else {
                throw NephoError(
                    .invalidInput, "nested template \(child.path) cannot be read",
                    details: problems.map(\.description))
            }
            for capability in StackPlan.capabilities(text: childText, parsed: parsed)
            where !capabilities.contains(capability) {
                capabilities.append(capability)
            }
            let packaged = try await package(
                file: child, document: parsed.document, text: childText, chain: chain + [file])
            if bucket == nil { bucket = try await uploader.bucket() }
            let url = try await uploader.upload(packaged, into: bucket!).absoluteString
            uploaded[child] = url
            urls[reference.resource] = url
        }
        return try YAMLEmitter.emit(NestedTemplateFiles.replacing(document, urls: urls))
    }
}
