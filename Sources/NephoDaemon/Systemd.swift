import Foundation
import NephoSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The two pieces of systemd's protocol nephod speaks, without libsystemd:
/// socket activation (`LISTEN_FDS`) and readiness notification (`sd_notify`).
enum Systemd {
    /// The listening socket systemd passed (fd 3), when `LISTEN_PID` is this process.
    static func inheritedListener(environment: [String: String]) -> Int32? {
        guard let pid = environment["LISTEN_PID"].flatMap(Int32.init), pid == getpid(),
            let count = environment["LISTEN_FDS"].flatMap(Int.init), count >= 1
        else { return nil }
        let fd: Int32 = 3
        guard UnixSocket.isListeningUnixSocket(fd) else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        // Meant for this process only: children (build monitors) must not read them.
        for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] { unsetenv(name) }
        return fd
    }

    /// Sends `state` (e.g. `READY=1`) to `$NOTIFY_SOCKET`; does nothing without one.
    static func notify(_ state: String, environment: [String: String]) {
        guard var path = environment["NOTIFY_SOCKET"], !path.isEmpty else { return }
        let abstract = path.hasPrefix("@")
        if abstract { path.removeFirst() }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { return }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            if abstract {
                raw[0] = 0
                raw.baseAddress!.advanced(by: 1).copyMemory(from: bytes, byteCount: bytes.count)
            } else {
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
        }
        let length = MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 1 : 1)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let message = Array(state.utf8)
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                message.withUnsafeBytes {
                    sendto(fd, $0.baseAddress, $0.count, 0, address, socklen_t(length))
                }
            }
        }
    }
}
