import Foundation
import NephoCore
import NephoProtocol
import NephoSupport

/// `cloudlet:uninstall`: removes an installed cloudlet's folder at once (renamed away,
/// then deleted), unless a build of it is running.
public struct CloudletRemover: Sendable {
    static let temporaryPrefix = ".nepho-removing-"
    public let git: any GitClient
    /// Says which build of a cloudlet is running, if any (the formations table's hook:
    /// nil until builds are recorded).
    public let activeBuild: (@Sendable (String) async -> String?)?

    public init(git: any GitClient, activeBuild: (@Sendable (String) async -> String?)? = nil) {
        self.git = git
        self.activeBuild = activeBuild
    }

    public func uninstall(_ cloudlet: Cloudlet, dryRun: Bool) async throws -> CloudletUninstallResult {
        let folder = cloudlet.folder
        var changes: [String] = []
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent(".git").path) {
            changes = (try? await git.localChanges(in: folder)) ?? []
        }
        if let build = await activeBuild?(cloudlet.name) {
            throw NephoError(
                .conflict,
                "\(cloudlet.name) is in use by \(build), which is being built: try again when it ends")
        }
        if dryRun {
            return CloudletUninstallResult(
                name: cloudlet.name, path: folder.path, removed: false, localChanges: changes)
        }
        let doomed = folder.deletingLastPathComponent().appendingPathComponent(
            Self.temporaryPrefix + UUID().uuidString)
        guard rename(folder.path, doomed.path) == 0 else {
            throw NephoError(
                .permissionDenied, "cannot remove \(folder.path): \(String(cString: strerror(errno)))")
        }
        try? FileManager.default.removeItem(at: doomed)
        return CloudletUninstallResult(
            name: cloudlet.name, path: folder.path, removed: true, localChanges: changes)
    }
}
