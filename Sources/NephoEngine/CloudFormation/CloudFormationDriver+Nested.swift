import Foundation
import NephoAWS
import NephoCore
import NephoProtocol
import NephoSupport

extension CloudFormationDriver {
    /// The template to send for `stack`: its text as written, or, where nested stacks name
    /// files of the cloudlet (`NestedTemplateFiles`), the template with each file's S3 URL
    /// in its place, each file uploaded to nepho's bucket once its own nested files are.
    static func packaged(
        _ stack: StackPlan, text: String, parsed: CloudFormationTemplate, session: AWSSession
    )
        async throws -> String
    {
        guard !NestedTemplateFiles.references(in: parsed.document).isEmpty else { return text }
        let uploader = try session.templateUploader()
        let bucket = BucketOnce(uploader)
        return try await package(
            file: stack.templateURL, document: parsed.document, text: text,
            patterns: stack.cloudlet.folder.appendingPathComponent("patterns"), chain: [],
            upload: { try await uploader.upload($0, into: try await bucket.name()).absoluteString })
    }

    private static func package(
        file: URL, document: YAMLNode, text: String, patterns: URL, chain: [URL],
        upload: (String) async throws -> String
    ) async throws -> String {
        let references = NestedTemplateFiles.references(in: document)
        guard !references.isEmpty else { return text }
        var urls: [String: String] = [:]
        for reference in references {
            let place = "\(file.path):\(reference.mark.line)"
            func refuse(_ why: String) -> NephoError {
                NephoError(.invalidInput, "\(place): nested stack \(reference.resource): TemplateURL \(why)")
            }
            let child: URL
            switch NestedTemplateFiles.resolve(reference.path, from: file, patterns: patterns) {
            case .file(let url): child = url
            case .refused(let why): throw refuse(why)
            }
            if child == file || chain.contains(child) {
                throw refuse("\"\(reference.path)\" is a template that names it in turn (a loop)")
            }
            if chain.count >= NestedTemplateFiles.maximumDepth {
                throw refuse("nests templates more than \(NestedTemplateFiles.maximumDepth) deep")
            }
            let childText: String
            let childDocument: YAMLNode
            do {
                childText = try String(contentsOf: child, encoding: .utf8)
                childDocument = try YAMLParser().parse(childText, file: child.path)
            } catch let error as YAMLError {
                throw NephoError(.invalidInput, "\(error)")
            } catch {
                throw refuse("\"\(reference.path)\" cannot be read: \(SystemError.reason(error))")
            }
            let packaged = try await package(
                file: child, document: childDocument, text: childText, patterns: patterns,
                chain: chain + [file], upload: upload)
            urls[reference.resource] = try await upload(packaged)
        }
        return try YAMLEmitter.emit(NestedTemplateFiles.replacing(document, urls: urls))
    }
}

/// nepho's bucket, looked up (and made) at most once for one template's nested files.
private actor BucketOnce {
    private let uploader: TemplateUploader
    private var known: String?
    init(_ uploader: TemplateUploader) { self.uploader = uploader }
    func name() async throws -> String {
        if let known { return known }
        let bucket = try await uploader.bucket()
        known = bucket
        return bucket
    }
}
