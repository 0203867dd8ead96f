import Foundation

/// The transcripts of `Fixtures/vagrant/` (see its README: some printed by the real
/// vagrant here, the others written through Vagrant's own UI classes; no virtual
/// machine ran for any of them, as none can run on this machine).
enum VagrantTranscripts {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let folder = root.appendingPathComponent("Fixtures/vagrant")

    static func text(_ name: String) -> String {
        (try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)) ?? ""
    }
}
