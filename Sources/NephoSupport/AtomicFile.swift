import Foundation

/// Writes files so that a reader sees the old or the new content, never a mix, and a
/// failure (a full disk) leaves the old file as it was.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL, mode: Int) throws {
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        guard
            FileManager.default.createFile(
                atPath: temporary.path, contents: nil, attributes: [.posixPermissions: mode])
        else {
            throw FileWriteError("cannot write \(url.path): cannot create a file in \(folder.path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            try handle.write(contentsOf: data)
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw FileWriteError("cannot write \(url.path): \(SystemError.reason(error))")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw FileWriteError("cannot write \(url.path): \(reason)")
        }
    }
}

/// A file that could not be written; the message names the file and the reason.
public struct FileWriteError: Error, Sendable, CustomStringConvertible {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
