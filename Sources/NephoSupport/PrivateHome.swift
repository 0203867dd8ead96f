import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Why nepho will not use a home folder.
public struct UnsafeHomeError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(description: String) { self.description = description }
}

/// nepho's home (`NEPHO_HOME`, `~/.nepho`) is private: a directory of this user's, closed
/// to everyone else (0700), so that no other local user reads a formation's parameters,
/// outputs or events. A home writable by others, or owned by someone else, is refused
/// (whoever can write there can plant links and files nepho would trust); one readable by
/// others (as nepho made them before) is closed.
public enum PrivateHome {
    /// Makes `home` when missing (0700, its parents as usual), or checks and closes it.
    public static func prepare(_ home: URL) throws {
        let path = home.path
        var info = stat()
        if stat(path, &info) != 0 {
            guard errno == ENOENT else { throw error("cannot look at \(path): \(SystemError.errnoText())") }
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if mkdir(path, 0o700) != 0 && errno != EEXIST {
                throw error("cannot make \(path): \(SystemError.errnoText())")
            }
            guard stat(path, &info) == 0 else {
                throw error("cannot look at \(path): \(SystemError.errnoText())")
            }
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw error("\(path) is not a folder; nepho keeps its state in a folder of its own (NEPHO_HOME)")
        }
        guard info.st_uid == getuid() else {
            throw error(
                "\(path) belongs to uid \(info.st_uid), not to you (uid \(getuid())); nepho will not keep its state "
                    + "in a folder someone else controls. Set NEPHO_HOME to a folder of yours.")
        }
        guard info.st_mode & 0o022 == 0 else {
            throw error(
                "\(path) is writable by other users (mode \(String(info.st_mode & 0o777, radix: 8))); "
                    + "run `chmod 700 \(path)` and try again.")
        }
        if info.st_mode & 0o077 != 0 { chmod(path, 0o700) }
    }

    /// Opens (creating, 0600) a file nepho writes in its home without following a link:
    /// a link planted there is refused with a clear message, and its target is untouched.
    public static func openPrivate(_ path: String, flags: Int32) throws -> Int32 {
        let fd = open(path, flags | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == ELOOP {
                throw error(
                    "\(path) is a symbolic link; nepho does not write through links in its home. Remove it and try again."
                )
            }
            throw error("cannot open \(path): \(SystemError.errnoText())")
        }
        return fd
    }

    private static func error(_ text: String) -> UnsafeHomeError { UnsafeHomeError(description: text) }
}
