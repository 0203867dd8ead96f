import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A failed socket call: what was attempted, on which path, and the system's reason.
public struct SocketError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var path: String
    public var code: Int32

    public init(_ operation: String, path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    public var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
}

/// The process on the other end of a Unix socket, as the kernel reports it (SO_PEERCRED).
public struct PeerCredentials: Sendable, Equatable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
}

/// Thin, blocking wrappers over the few Unix-domain socket calls nepho needs.
/// Every descriptor is opened close-on-exec; writes never raise SIGPIPE.
public enum UnixSocket {
    // Linux values; Swift's Glibc module does not export these `_GNU_SOURCE` names.
    private static let soPeerCred: Int32 = 17
    private static let msgNoSignal: Int32 = 0x4000
    private static let sockCloexec: Int32 = 0o2000000

    /// `sockaddr_un` for `path`, or nil when the path does not fit (108 bytes).
    private static func address(_ path: String) -> sockaddr_un? {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return addr
    }

    /// Connects to the socket at `path`; throws with ENOENT/ECONNREFUSED when nobody listens.
    public static func connect(path: String) throws -> Int32 {
        guard var addr = address(path) else { throw SocketError("connect", path: path, code: ENAMETOOLONG) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | sockCloexec, 0)
        guard fd >= 0 else { throw SocketError("socket", path: path) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if rc != 0 {
            let code = errno
            close(fd)
            throw SocketError("connect", path: path, code: code)
        }
        return fd
    }

    /// Creates a listening socket bound to `path`, then gives the file mode `mode`. (Not
    /// through the umask, which is process-wide and would race with other threads; the
    /// socket's folder must already keep others out.)
    public static func listen(path: String, mode: mode_t = 0o600, backlog: Int32 = 128) throws -> Int32 {
        guard var addr = address(path) else { throw SocketError("bind", path: path, code: ENAMETOOLONG) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | sockCloexec, 0)
        guard fd >= 0 else { throw SocketError("socket", path: path) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0, chmod(path, mode) == 0 else {
            let code = errno
            close(fd)
            throw SocketError("bind", path: path, code: code)
        }
        guard Glibc.listen(fd, backlog) == 0 else {
            let code = errno
            close(fd)
            throw SocketError("listen", path: path, code: code)
        }
        return fd
    }

    /// Accepts one connection, retrying on EINTR; nil once the listener is shut down.
    public static func accept(_ listener: Int32) -> Int32? {
        while true {
            let fd = Glibc.accept(listener, nil, nil)
            if fd >= 0 {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                return fd
            }
            switch errno {
            case EINTR, ECONNABORTED: continue
            case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                usleep(100_000)
                continue
            default: return nil
            }
        }
    }

    /// The credentials of the peer of a connected socket.
    public static func peerCredentials(_ fd: Int32) -> PeerCredentials? {
        var cred = (pid: Int32(0), uid: UInt32(0), gid: UInt32(0))
        var length = socklen_t(MemoryLayout.size(ofValue: cred))
        let rc = withUnsafeMutableBytes(of: &cred) {
            getsockopt(fd, SOL_SOCKET, soPeerCred, $0.baseAddress, &length)
        }
        guard rc == 0 else { return nil }
        return PeerCredentials(pid: cred.pid, uid: cred.uid, gid: cred.gid)
    }

    /// Writes all of `bytes`; false when the peer is gone.
    @discardableResult
    public static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, msgNoSignal)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    @discardableResult
    public static func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { send(fd, $0) }
    }

    /// Reads what is available (blocking until something is); 0 at end of stream, -1 on error.
    public static func receive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n < 0 && errno == EINTR { continue }
            return n
        }
    }

    /// Sets a receive timeout (seconds) on a blocking socket.
    public static func setReceiveTimeout(_ fd: Int32, seconds: Double) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// True when `fd` is a listening Unix stream socket (a socket systemd passed us).
    public static func isListeningUnixSocket(_ fd: Int32) -> Bool {
        var type: Int32 = 0
        var listening: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0, type == Int32(SOCK_STREAM.rawValue)
        else {
            return false
        }
        length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0 else { return false }
        return listening != 0
    }
}

/// TCP ports on 127.0.0.1 that nothing uses now.
public enum LoopbackPort {
    /// True when `port` can be bound on 127.0.0.1 now.
    public static func isFree(_ port: UInt16) -> Bool { bound(port) == port }

    /// A port the kernel picks (from its ephemeral range).
    public static func free() -> UInt16? { bound(0) }

    private static func bound(_ port: UInt16) -> UInt16? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        return bound ? UInt16(bigEndian: address.sin_port) : nil
    }
}
