import Foundation
import NephoSupport

/// An installed cloudlet: its folder, its metadata and its scenario files.
public struct Cloudlet: Sendable {
    public var folder: URL
    public var manifest: CloudletManifest
    /// Scenario names, `default` first, then by name.
    public var scenarioNames: [String]

    public var name: String { manifest.name }

    public func scenarioFile(_ name: String) -> URL {
        folder.appendingPathComponent("scenarios").appendingPathComponent("\(name).yaml")
    }

    /// Opens the cloudlet in `folder`; throws `.invalid` with the problems when its
    /// metadata cannot be read or it has no default scenario.
    public static func open(_ folder: URL) throws -> Cloudlet {
        var problems = CloudletLinks.problems(in: folder)
        let manifest = CloudletManifest.read(folder: folder, problems: &problems)
        let names = scenarioNames(in: folder)
        // A name that is not UTF-8 comes back from the file system with U+FFFD in it, and
        // then names no file: say so rather than "not found".
        let scenarios = folder.appendingPathComponent("scenarios")
        for file in (try? FileManager.default.contentsOfDirectory(atPath: scenarios.path)) ?? []
        where file.contains("\u{FFFD}") {
            problems.append(
                CloudletProblem(
                    file: scenarios.path,
                    message: "holds a file whose name is not UTF-8 (\(file)); rename it in UTF-8"))
        }
        if !names.contains("default") {
            problems.append(
                CloudletProblem(
                    file: folder.appendingPathComponent("scenarios/default.yaml").path,
                    message: "missing scenarios/default.yaml: every cloudlet needs a default scenario"))
        }
        let errors = problems.filter { $0.severity == .error }
        guard let manifest, errors.isEmpty else {
            throw CloudletError(.invalid, "\(folder.path) is not a usable cloudlet", problems: errors)
        }
        return Cloudlet(folder: folder, manifest: manifest, scenarioNames: names)
    }

    /// Reads one scenario; throws `.notFound` or `.invalid`.
    public func scenario(_ name: String) throws -> Scenario {
        guard scenarioNames.contains(name) else {
            throw CloudletError(
                .notFound,
                "cloudlet \(self.name) has no scenario \"\(name)\" (it has: \(scenarioNames.joined(separator: ", ")))"
            )
        }
        var problems: [CloudletProblem] = []
        let scenario = Scenario.read(scenarioFile(name), problems: &problems)
        let errors = problems.filter { $0.severity == .error }
        guard let scenario, errors.isEmpty else {
            throw CloudletError(.invalid, "scenario \(self.name)/\(name) cannot be read", problems: errors)
        }
        return scenario
    }

    static func scenarioNames(in folder: URL) -> [String] {
        let scenarios = folder.appendingPathComponent("scenarios")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: scenarios.path)) ?? []
        return files.filter { $0.hasSuffix(".yaml") && !$0.hasPrefix(".") }
            .map { String($0.dropLast(5)) }
            .sorted { ($0 == "default" ? 0 : 1, $0) < ($1 == "default" ? 0 : 1, $1) }
    }
}
