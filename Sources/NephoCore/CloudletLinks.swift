import Foundation
import NephoSupport

/// A cloudlet is a folder nepho reads patterns, scripts and scenarios from, and a hostile
/// one could link any local file into it (a pattern linked to `~/.aws/credentials` would
/// be sent to CloudFormation as the template). Links that stay inside the cloudlet are
/// fine; one that leaves it, or leads nowhere, is a problem naming the link.
enum CloudletLinks {
    /// Every link under `folder` (not under `.git`) whose target is outside it.
    static func problems(in folder: URL) -> [CloudletProblem] {
        let root = folder.resolvingSymlinksInPath().standardizedFileURL.path
        guard
            let walker = FileManager.default.enumerator(
                at: folder, includingPropertiesForKeys: [.isSymbolicLinkKey], options: [])
        else { return [] }
        var problems: [CloudletProblem] = []
        for case let url as URL in walker {
            if url.lastPathComponent == ".git" {
                walker.skipDescendants()
                continue
            }
            guard (try? url.resourceValues(forKeys: [.isSymbolicLinkKey]))?.isSymbolicLink == true else {
                continue
            }
            let target = url.resolvingSymlinksInPath().standardizedFileURL.path
            let inside = target == root || target.hasPrefix(root + "/")
            var info = stat()
            if !inside {
                problems.append(
                    CloudletProblem(
                        file: url.path,
                        message:
                            "is a link to \(target), outside the cloudlet: nepho does not follow links out of a cloudlet"
                    ))
            } else if stat(url.path, &info) != 0 {
                problems.append(CloudletProblem(file: url.path, message: "is a link that leads nowhere"))
            }
        }
        return problems
    }
}
