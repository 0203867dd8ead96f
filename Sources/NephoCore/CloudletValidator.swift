import Foundation
import NephoSupport

/// `cloudlet:validate`: every problem in a cloudlet folder, with file, line and column.
///
/// Checks the metadata; that a default scenario exists; for each scenario that its
/// pattern and provisioner exist and stay inside the cloudlet; that each AWS pattern
/// parses as a CloudFormation template, checked as its transforms make it
/// (`TemplateChecker`: `Fn::ForEach` loops, SAM's `Globals`; warnings only under a
/// macro); that scenario parameters match the
/// template's `Parameters` (unknown names, and required ones nobody declares); that a
/// nested stack naming a file of the cloudlet names one under `patterns/`
/// (`NestedTemplateFiles`); and
/// (a warning) that a wait condition the hand-off signals waits for every phase of the
/// scenario's provisioner and the final signal (`ProvisionerPhases`).
public struct CloudletValidator: Sendable {
    public init() {}

    public func validate(_ folder: URL) -> [CloudletProblem] {
        guard FileManager.default.fileExists(atPath: folder.path) else {
            return [CloudletProblem(file: folder.path, message: "no such folder")]
        }
        var problems = CloudletLinks.problems(in: folder)
        let manifest = CloudletManifest.read(folder: folder, problems: &problems)
        let names = Cloudlet.scenarioNames(in: folder)
        if !names.contains("default") {
            problems.append(
                CloudletProblem(
                    file: folder.appendingPathComponent("scenarios/default.yaml").path,
                    message: "missing scenarios/default.yaml: every cloudlet needs a default scenario"))
        }
        // Every AWS pattern is read once, whether or not a scenario uses it.
        var templates: [String: CloudFormationTemplate] = [:]
        let templateFolder = Providers.cloudFormation.patternFolder
        let awsPatterns = folder.appendingPathComponent("patterns").appendingPathComponent(templateFolder)
        // Templates in subfolders too (nested stacks' files, `patterns/aws/nested/…`).
        for file in Self.files(under: awsPatterns) {
            templates["\(templateFolder)/\(file)"] = CloudFormationTemplate.read(
                awsPatterns.appendingPathComponent(file), problems: &problems)
        }
        // Nested stacks naming files of the cloudlet, at any depth: each file must be there,
        // under patterns/, with no loop (each file's references checked once).
        var visited: Set<URL> = []
        for key in templates.keys.sorted() {
            guard let template = templates[key] else { continue }
            var budget = NestedTemplateFiles.maximumReferences
            for problem in NestedTemplateFiles.problems(
                of: folder.appendingPathComponent("patterns").appendingPathComponent(key),
                document: template.document, patterns: folder.appendingPathComponent("patterns"),
                visited: &visited, budget: &budget)
            where !problems.contains(problem) {
                problems.append(problem)
            }
        }
        for name in names {
            let file = folder.appendingPathComponent("scenarios/\(name).yaml")
            guard let scenario = Scenario.read(file, problems: &problems) else { continue }
            checkScenario(
                scenario, folder: folder, manifest: manifest, templates: templates, problems: &problems)
        }
        return problems
    }

    /// The files under `folder` and its subfolders (relative paths, sorted), hidden ones left out.
    static func files(under folder: URL) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        var found: [String] = []
        while let path = enumerator.nextObject() as? String {
            if (path as NSString).lastPathComponent.hasPrefix(".") {
                enumerator.skipDescendants()
                continue
            }
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(
                atPath: folder.appendingPathComponent(path).path, isDirectory: &isFolder),
                !isFolder.boolValue
            {
                found.append(path)
            }
        }
        return found.sorted()
    }

    private func checkScenario(
        _ scenario: Scenario, folder: URL, manifest: CloudletManifest?,
        templates: [String: CloudFormationTemplate], problems: inout [CloudletProblem]
    ) {
        let file = scenario.file.path
        let fields = scenario.document
        func error(_ key: String, _ message: String) {
            problems.append(CloudletProblem(file: file, mark: (fields[key] ?? fields).mark, message: message))
        }
        var provisionerFile: URL?
        if let provisioner = scenario.provisioner, RelativePath.problem(provisioner) == nil {
            let path = folder.appendingPathComponent("provisioners").appendingPathComponent(provisioner)
            var info = stat()
            if !FileManager.default.fileExists(atPath: path.path) {
                error("provisioner", "provisioner \"\(provisioner)\" not found: expected \(path.path)")
            } else if stat(path.path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG {
                error(
                    "provisioner",
                    "provisioner \"\(provisioner)\" is not a regular file (it is \(FileKind.describe(info.st_mode)))"
                )
            } else {
                provisionerFile = path
            }
        }
        guard let pattern = scenario.pattern else {
            // A vagrant scenario without a pattern runs the cloudlet's
            // patterns/vagrant/Vagrantfile, or one nepho generates (docs/vagrant.md).
            if scenario.provider == Providers.vagrant.provider { return }
            error(
                "pattern", "scenario \"\(scenario.name)\" names no pattern (e.g. pattern: aws/single-host.cf)"
            )
            return
        }
        guard RelativePath.problem(pattern) == nil else { return }
        let path = folder.appendingPathComponent("patterns").appendingPathComponent(pattern)
        guard FileManager.default.fileExists(atPath: path.path) else {
            error("pattern", "pattern \"\(pattern)\" not found: expected \(path.path)")
            return
        }
        let expectedFolder =
            (Providers.traits(scenario.provider)?.patternFolder ?? scenario.provider.id) + "/"
        if !pattern.hasPrefix(expectedFolder) {
            error(
                "pattern",
                "a \(scenario.provider) scenario's pattern must be under patterns/\(expectedFolder)")
            return
        }
        guard Providers.traits(scenario.provider)?.readsTemplateParameters == true,
            let template = templates[pattern]
        else { return }
        if let provisionerFile, let name = scenario.provisioner {
            for problem in ProvisionerPhases.countProblems(
                template: template, provisioner: provisionerFile, provisionerName: name)
            where !problems.contains(problem) {
                problems.append(problem)
            }
        }
        let declared = Set(template.parameters.map(\.name))
        for spec in scenario.parameters where !declared.contains(spec.name) {
            let hint = template.parameters.map(\.name).min {
                editDistance($0, spec.name) < editDistance($1, spec.name)
            }
            let suggestion =
                hint.flatMap { editDistance($0, spec.name) <= 3 ? " (did you mean \($0)?)" : nil } ?? ""
            problems.append(
                CloudletProblem(
                    file: file, mark: spec.mark,
                    message:
                        "unknown parameter \(spec.name): pattern \(pattern) declares no such parameter\(suggestion)"
                ))
        }
        let given = Set(scenario.parameters.map(\.name) + (manifest?.parameters.map(\.name) ?? []))
        for spec in template.parameters where spec.defaultValue == nil && !given.contains(spec.name) {
            problems.append(
                CloudletProblem(
                    file: file, mark: fields.keyNode("parameters")?.mark ?? fields.mark,
                    message:
                        "missing parameter \(spec.name): pattern \(pattern) requires it (it has no Default); declare it under parameters"
                ))
        }
    }
}
