import Foundation
import NephoSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The reason the daemon will not listen where it was asked to.
public struct UnsafeSocketPathError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// Prepares the socket's folder and path before binding: the folder must be a real
/// directory owned by this user and closed to everyone else (0700); a file already at the
/// socket path must be a stale socket of ours (nothing answers) — a symlink, a regular
/// file, someone else's socket or a live daemon is refused with a clear message.
enum SocketGuard {
    enum PathState { case free, live }

    static func prepare(socket: URL) throws -> PathState {
        let folder = socket.deletingLastPathComponent().path
        let uid = getuid()
        var info = stat()
        if lstat(folder, &info) != 0 {
            guard errno == ENOENT else { throw SocketError("lstat", path: folder) }
            try FileManager.default.createDirectory(
                atPath: (folder as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if mkdir(folder, 0o700) == 0 {
                chmod(folder, 0o700)  // whatever the umask
            } else if errno != EEXIST {
                throw SocketError("mkdir", path: folder)
            }
            guard lstat(folder, &info) == 0 else { throw SocketError("lstat", path: folder) }
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw UnsafeSocketPathError(
                description:
                    "\(folder) is not a directory (\(kind(info.st_mode))); nephod keeps its socket in a "
                    + "folder of its own. Remove it or set XDG_RUNTIME_DIR to another folder.")
        }
        guard info.st_uid == uid else {
            throw UnsafeSocketPathError(
                description: "\(folder) belongs to uid \(info.st_uid), not to you (uid \(uid)); "
                    + "nephod refuses a socket folder that someone else controls.")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw UnsafeSocketPathError(
                description:
                    "\(folder) is open to other users (mode \(String(info.st_mode & 0o777, radix: 8))); "
                    + "run `chmod 700 \(folder)` and start nephod again.")
        }

        let path = socket.path
        guard lstat(path, &info) == 0 else {
            guard errno == ENOENT else { throw SocketError("lstat", path: path) }
            return .free
        }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw UnsafeSocketPathError(
                description: "\(path) exists and is not nephod's socket (it is \(kind(info.st_mode))); "
                    + "nephod will not replace it. Remove it if it is yours, then start nephod again.")
        }
        guard info.st_uid == uid else {
            throw UnsafeSocketPathError(
                description:
                    "\(path) is a socket of uid \(info.st_uid), not yours; nephod will not replace it.")
        }
        if let fd = try? UnixSocket.connect(path: path) {
            close(fd)
            return .live
        }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw SocketError("unlink stale socket", path: path)
        }
        return .free
    }

    private static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFLNK: "a symbolic link"
        case S_IFREG: "a regular file"
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        default: "a special file"
        }
    }
}
