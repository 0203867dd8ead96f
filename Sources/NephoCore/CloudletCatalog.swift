import Foundation
import NephoSupport

/// The cloudlet directories — `$NEPHO_HOME/cloudlets` first, then those listed in
/// `config.yaml` — and the cloudlets installed in them.
public struct CloudletCatalog: Sendable {
    public struct Directory: Sendable, Equatable {
        public var url: URL
        public var isDefault: Bool

        public init(url: URL, isDefault: Bool) {
            self.url = url
            self.isDefault = isDefault
        }
    }

    /// One folder found in a directory: a cloudlet, or why it is not one.
    public struct Entry: Sendable {
        public var folder: URL
        public var result: Result<Cloudlet, CloudletError>
        /// The folder of an earlier cloudlet with the same name, which wins.
        public var shadowedBy: URL?

        public var name: String {
            (try? result.get().name) ?? folder.lastPathComponent
        }
    }

    public var directories: [Directory]

    public init(directories: [Directory]) { self.directories = directories }

    /// The default directory and those of `config`.
    public init(paths: NephoPaths, config: NephoConfig) throws {
        var directories = [Directory(url: paths.cloudlets, isDefault: true)]
        for path in try config.cloudletDirectories() {
            let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath).standardizedFileURL
            if !directories.contains(where: { $0.url.path == url.path }) {
                directories.append(Directory(url: url, isDefault: false))
            }
        }
        self.directories = directories
    }

    /// Every folder of every directory, in search order; hidden folders are skipped.
    public func scan() -> [(directory: Directory, entries: [Entry])] {
        var seen: [String: URL] = [:]
        return directories.map { directory in
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.url.path)) ?? []
            var entries: [Entry] = []
            for name in names.sorted() where !name.hasPrefix(".") {
                let folder = directory.url.appendingPathComponent(name)
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder),
                    isFolder.boolValue
                else { continue }
                var entry: Entry
                do {
                    entry = Entry(folder: folder, result: .success(try Cloudlet.open(folder)))
                } catch let error as CloudletError {
                    entry = Entry(folder: folder, result: .failure(error))
                } catch {
                    entry = Entry(folder: folder, result: .failure(CloudletError(.io, "\(error)")))
                }
                if case .success(let cloudlet) = entry.result {
                    if let first = seen[cloudlet.name] {
                        entry.shadowedBy = first
                    } else {
                        seen[cloudlet.name] = folder
                    }
                }
                entries.append(entry)
            }
            return (directory, entries)
        }
    }

    /// Finds the cloudlet and scenario of a command line's `CLOUDLET[/SCENARIO]` once
    /// split at its last slash: `acme/mediawiki` is the cloudlet `acme` with the scenario
    /// `mediawiki` when there is one, else the cloudlet `acme/mediawiki` with its
    /// `default` scenario; `acme/mediawiki/prod`, `mediawiki/prod` and
    /// `acme-mediawiki/prod` need no guess.
    public func find(_ name: String, scenario: String?) throws -> (cloudlet: Cloudlet, scenario: String) {
        guard let scenario else { return (try find(name), "default") }
        do {
            let cloudlet = try find(name)
            if cloudlet.scenarioNames.contains(scenario) { return (cloudlet, scenario) }
            if let whole = try? find(name + "/" + scenario) { return (whole, "default") }
            return (cloudlet, scenario)
        } catch {
            if let whole = try? find(name + "/" + scenario) { return (whole, "default") }
            throw error
        }
    }

    /// Finds an installed cloudlet by its name (`huit/mediawiki`), its folder name
    /// (`huit-mediawiki`) or its short name (`mediawiki`) when that is unambiguous.
    public func find(_ name: String) throws -> Cloudlet {
        // Fast path: the folder a cloudlet of this name is installed in, in the first
        // directory that has it. Only a miss reads every cloudlet.
        if CloudletName.problem(name) == nil {
            for directory in directories {
                let folder = directory.url.appendingPathComponent(CloudletName.folderName(name))
                guard
                    FileManager.default.fileExists(
                        atPath: folder.appendingPathComponent(CloudletManifest.fileName).path)
                else { continue }
                if let cloudlet = try? Cloudlet.open(folder),
                    cloudlet.name == name || folder.lastPathComponent == name
                {
                    return cloudlet
                }
                break
            }
        }
        var exact: Cloudlet?
        var short: [Cloudlet] = []
        var broken: CloudletError?
        for (_, entries) in scan() {
            for entry in entries where entry.shadowedBy == nil {
                switch entry.result {
                case .success(let cloudlet):
                    if cloudlet.name == name || entry.folder.lastPathComponent == name {
                        exact = exact ?? cloudlet
                    } else if CloudletName.shortName(cloudlet.name) == name {
                        short.append(cloudlet)
                    }
                case .failure(let error):
                    if entry.folder.lastPathComponent == name { broken = broken ?? error }
                }
            }
        }
        if let exact { return exact }
        if short.count == 1 { return short[0] }
        if short.count > 1 {
            throw CloudletError(
                .conflict,
                "\"\(name)\" could mean \(short.map(\.name).joined(separator: " or ")): give the full name")
        }
        if let broken { throw broken }
        throw CloudletError(
            .notFound,
            "no installed cloudlet named \"\(name)\" (see `nepho cloudlet:list`, or install one with `nepho cloudlet:install`)"
        )
    }
}
