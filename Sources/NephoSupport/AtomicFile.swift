import Foundation

/// Writes files so that a reader sees the old or the new content, never a mix, and a
/// failure (a full disk) leaves the old file as it was.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL, mode: Int) throws {
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        sweep(url)
        // Private while it is written (0600, never through a link); `mode` once complete.
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw FileWriteError("cannot write \(url.path): cannot create a file in \(folder.path)")
        }
        do {
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            defer { try? handle.close() }
            try handle.write(contentsOf: data)
            try handle.synchronize()
            guard fchmod(fd, mode_t(mode)) == 0 else { throw FileWriteError(SystemError.errnoText()) }
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

    /// Removes what a write of `url` killed half-way left behind (`.NAME.UUID.tmp` older
    /// than a minute; a younger one may be another writer's, at work).
    static func sweep(_ url: URL) {
        let folder = url.deletingLastPathComponent()
        let prefix = ".\(url.lastPathComponent)."
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
            let path = folder.appendingPathComponent(name).path
            var info = stat()
            guard lstat(path, &info) == 0, Double(info.st_mtim.tv_sec) < Date().timeIntervalSince1970 - 60
            else {
                continue
            }
            unlink(path)
        }
    }
}

/// A file that could not be written; the message names the file and the reason.
public struct FileWriteError: Error, Sendable, CustomStringConvertible {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
