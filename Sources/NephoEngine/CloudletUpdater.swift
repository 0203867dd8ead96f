import Foundation
import NephoCore
import NephoProtocol
import NephoSupport

/// `cloudlet:update`: fast-forwards installed git cloudlets — to the newest version tag
/// when a tag is checked out, else to the upstream branch — refusing over local changes
/// unless forced, and rolling back when the new version is not a valid cloudlet.
public struct CloudletUpdater: Sendable {
    public let git: any GitClient

    public init(git: any GitClient) { self.git = git }

    /// The git setting in a checkout that records the version it was installed at
    /// (`owner/name@VERSION`): `cloudlet:update` keeps it there unless `latest`.
    public static let pinKey = "nepho.pinned"

    /// With `progress`, git's fetch reports its progress there as git prints it.
    public func update(
        _ cloudlet: Cloudlet, force: Bool, latest: Bool = false, progress: (@Sendable (String) -> Void)? = nil
    ) async -> CloudletUpdateOutcome {
        let folder = cloudlet.folder
        var outcome = CloudletUpdateOutcome(
            name: cloudlet.name, path: folder.path, status: .failed, oldVersion: cloudlet.manifest.version)
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent(".git").path) else {
            outcome.status = .skipped
            outcome.message = "not a git checkout (installed by hand?): nothing to update from"
            return outcome
        }
        do {
            guard let origin = try await git.originURL(in: folder) else {
                outcome.status = .skipped
                outcome.message = "its git checkout has no origin remote"
                return outcome
            }
            do {
                _ = try GitSource(origin, relativeTo: folder)
            } catch {
                outcome.message = "its origin \(error.description)"
                return outcome
            }
            let changes = try await git.localChanges(in: folder).filter { !$0.hasPrefix("??") }
            if !changes.isEmpty && !force {
                outcome.message =
                    "it has local changes (\(changes.prefix(3).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")))"
                    + ": commit or discard them, or use --force to overwrite them"
                return outcome
            }
            let old = try await git.revision("HEAD", in: folder)
            outcome.oldCommit = old
            if outcome.oldVersion == nil { outcome.oldVersion = try await git.tagAtHead(in: folder) }
            _ = try await git.run(
                ["fetch", progress == nil ? "--quiet" : "--progress", "--tags", "--force", "origin"],
                in: folder,
                progress: progress)
            let onBranch = (try? await git.run(["symbolic-ref", "--quiet", "HEAD"], in: folder)) != nil
            let target: String
            let pinned = (try? await git.run(["config", "--get", Self.pinKey], in: folder))?.output
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if onBranch {
                target = try await git.revision("@{upstream}", in: folder)
            } else if let newest = try await git.tags(in: folder).first {
                target = try await git.revision("refs/tags/\(newest)", in: folder)
                if let pinned, !pinned.isEmpty, !latest {
                    outcome.status = .current
                    outcome.newCommit = old
                    outcome.newVersion = outcome.oldVersion
                    if target != old {
                        outcome.message =
                            "installed pinned at \(pinned); "
                            + "`nepho cloudlet:update \(cloudlet.name) --latest` moves it to \(newest)"
                    }
                    return outcome
                }
            } else {
                target = old
            }
            if target == old {
                outcome.status = .current
                outcome.newCommit = old
                outcome.newVersion = outcome.oldVersion
                return outcome
            }
            do {
                _ = try await git.run(["merge-base", "--is-ancestor", old, target], in: folder)
            } catch {
                outcome.message =
                    "the new version is not a fast-forward of the installed one: reinstall it instead"
                return outcome
            }
            try await moveTo(target, onBranch: onBranch, force: force, in: folder)
            if CloudletInstaller.wantsSubmodules(folder) {
                let origin = try GitSource(origin, relativeTo: folder)
                try await CloudletInstaller.updateSubmodules(in: folder, parent: origin, git: git)
            }
            do {
                let updated = try CloudletInstaller.validate(folder)
                let tag = try? await git.tagAtHead(in: folder)
                outcome.newVersion = updated.manifest.version ?? tag ?? nil
            } catch let error as NephoError {
                try? await moveTo(old, onBranch: onBranch, force: true, in: folder)
                outcome.message =
                    "the new version is not a valid cloudlet, kept the installed one: "
                    + ([error.message] + error.details).joined(separator: "; ")
                return outcome
            }
            outcome.newCommit = target
            outcome.status = .updated
            if latest { _ = try? await git.run(["config", "--unset", Self.pinKey], in: folder) }
            return outcome
        } catch let error as NephoError {
            outcome.message = ([error.message] + error.details).joined(separator: "\n")
            return outcome
        } catch let error as GitError {
            outcome.message = "\(error.reason.summary)\n" + error.lines.joined(separator: "\n")
            return outcome
        } catch {
            outcome.message = "\(error)"
            return outcome
        }
    }

    private func moveTo(_ commit: String, onBranch: Bool, force: Bool, in folder: URL) async throws {
        if onBranch {
            _ = try await git.run(
                force ? ["reset", "--quiet", "--hard", commit] : ["merge", "--quiet", "--ff-only", commit],
                in: folder)
        } else {
            _ = try await git.run(
                ["checkout", "--quiet", "--detach"] + (force ? ["--force"] : []) + [commit], in: folder)
        }
    }
}
