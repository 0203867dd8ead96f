import Foundation
import NephoProtocol
import NephoSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A JSON-RPC peer written by hand over a raw socket, to send what a well-behaved client
/// never would (bad JSON, half messages, one byte at a time) and read lines back.
///
/// Reads block a thread of their own, never one of Swift's few concurrency threads: an
/// in-process daemon needs those to answer.
final class RawClient: @unchecked Sendable {
    let fd: Int32

    init(socket: String, timeout: Double = 30) throws {
        fd = try UnixSocket.connect(path: socket)
        UnixSocket.setReceiveTimeout(fd, seconds: timeout)
    }

    deinit { close(fd) }

    private var buffer: [UInt8] = []
    /// Why the last read gave nothing, for failure messages.
    var lastFailure = ""

    func send(_ text: String) { UnixSocket.send(fd, Array(text.utf8)) }
    func send(bytes: [UInt8]) { UnixSocket.send(fd, bytes) }

    /// The next line, or nil at end of stream / timeout.
    func readLine() async -> String? { await offPool { self.blockingReadLine() } }

    private func blockingReadLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { UnixSocket.receive(fd, into: $0) }
            if n <= 0 {
                lastFailure =
                    n == 0
                    ? "end of stream on fd \(fd)" : "recv on fd \(fd): \(String(cString: strerror(errno)))"
                return nil
            }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    /// The next line parsed as JSON.
    func readJSON() async -> Any? {
        guard let line = await readLine() else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
    }

    func readObject() async -> [String: Any]? { await readJSON() as? [String: Any] }

    /// Sends a request line and reads the response object.
    func call(_ method: String, id: Int = 1, params: String = "{}") async -> [String: Any]? {
        send(#"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":\#(params)}"# + "\n")
        return await readObject()
    }

    func handshake(home: String, protocolVersion: Int = NephoVersion.protocolVersion) async -> [String: Any]?
    {
        await call(
            "nepho.handshake", id: 0,
            params:
                #"{"protocolVersion":\#(protocolVersion),"clientVersion":"test","home":"\#(home)","context":{"environment":{}}}"#
        )
    }

    /// True when the peer has closed (reads EOF), within the receive timeout.
    func isClosedByPeer() async -> Bool { await offPool { self.blockingIsClosedByPeer() } }

    private func blockingIsClosedByPeer() -> Bool {
        while true {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { UnixSocket.receive(fd, into: $0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET || errno == EPIPE }
        }
    }
}

extension Dictionary where Key == String, Value == Any {
    var errorCode: Int? { (self["error"] as? [String: Any])?["code"] as? Int }
    var errorMessage: String? { (self["error"] as? [String: Any])?["message"] as? String }
    var result: [String: Any]? { self["result"] as? [String: Any] }
}

/// Runs blocking work on a new thread and awaits it.
func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: body()) }
    }
}
