import Foundation
import Logging
import NephoProtocol
import NephoSupport

#if canImport(Glibc)
    import Glibc
#endif

/// One client connection: a reader thread that frames lines and answers each in order
/// (running the handler's task on itself, see `ThreadExecutor`), and a bounded queue of
/// outgoing lines that a writer thread drains when the peer cannot take them at once.
///
/// A client that sends garbage gets errors; one that stops reading fills its queue and is
/// cut off (its socket shut down); neither touches any other connection.
final class Connection: @unchecked Sendable {
    let id: Int
    let fd: Int32
    let peer: PeerCredentials
    private let logger: Logger
    private let maximumQueued: Int

    private let lock = NSLock()
    private let wake = NSCondition()
    private var outgoing: [([UInt8], (@Sendable () -> Void)?)] = []
    /// True while someone (the writer thread or a direct `send`) is writing to the socket.
    private var writing = false
    /// True while `finishEnd` waits for a direct write to end.
    private var closeWaiting = false
    private var closed = false
    private var draining = false
    private var openEnds = 2  // reader and writer; the descriptor closes when both are done
    private static let dontWait: Int32 = 0x40  // MSG_DONTWAIT
    private static let noSignal: Int32 = 0x4000  // MSG_NOSIGNAL

    /// Set by the handshake.
    var handshake: HandshakeParams? {
        get { lock.withLock { _handshake } }
        set { lock.withLock { _handshake = newValue } }
    }
    private var _handshake: HandshakeParams?

    init(id: Int, fd: Int32, peer: PeerCredentials, maximumQueued: Int, logger: Logger) {
        self.id = id
        self.fd = fd
        self.peer = peer
        self.maximumQueued = maximumQueued
        var logger = logger
        logger[metadataKey: "connection.id"] = "\(id)"
        logger[metadataKey: "peer.pid"] = "\(peer.pid)"
        self.logger = logger
    }

    /// Reads lines until the peer goes away and answers each with `handle`, one after
    /// another, on the calling thread (a thread of the connection's own). Not reading while
    /// a line is answered is the back-pressure on a client that sends faster than it reads.
    func serve(maximumLineLength: Int, handle: @escaping @Sendable (LineFramer.Item) async -> Void) {
        Thread.detachNewThread { [self] in writeLoop() }
        let executor = ThreadExecutor()
        var framer = LineFramer(maximumLineLength: maximumLineLength)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)
        defer { buffer.deallocate() }
        while true {
            let n = UnixSocket.receive(fd, into: buffer)
            if n <= 0 { break }
            for item in framer.append(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) {
                executor.run { await handle(item) }
            }
        }
        if framer.hasPartialLine {
            logger.debug("connection closed in the middle of a message; the partial message was dropped")
        }
        // The peer stopped sending: write what is queued, then close.
        finishReading()
    }

    /// Sends one line (without `\n`) to the peer; `afterWrite` runs once it is written.
    /// Written at once when the socket takes it; otherwise queued for the writer thread.
    /// Cuts the connection off when its queue is full.
    func send(_ line: [UInt8], afterWrite: (@Sendable () -> Void)? = nil) {
        var framed = line
        framed.append(10)
        wake.lock()
        guard !closed else {
            wake.unlock()
            return
        }
        if outgoing.isEmpty && !writing {
            writing = true
            wake.unlock()
            let written = framed.withUnsafeBytes { bytes -> Int in
                var offset = 0
                while offset < bytes.count {
                    let n = Glibc.send(
                        fd, bytes.baseAddress! + offset, bytes.count - offset, Self.dontWait | Self.noSignal)
                    if n < 0 {
                        if errno == EINTR { continue }
                        return errno == EAGAIN || errno == EWOULDBLOCK ? offset : -1
                    }
                    offset += n
                }
                return offset
            }
            if written < 0 {
                wake.lock()
                writing = false
                wake.unlock()
                close(reason: nil)
                return
            }
            wake.lock()
            writing = false
            if written < framed.count {
                outgoing.insert((Array(framed[written...]), afterWrite), at: 0)
            }
            // Wake the writer only when it has work or someone waits for this write to end:
            // a needless wake-up per reply is a context switch on a busy machine.
            if !outgoing.isEmpty || closeWaiting { wake.broadcast() }
            wake.unlock()
            if written == framed.count { afterWrite?() }
            return
        }
        var cutOff = false
        if outgoing.count >= maximumQueued {
            cutOff = true
        } else {
            outgoing.append((framed, afterWrite))
            wake.broadcast()
        }
        wake.unlock()
        if cutOff {
            close(reason: "its queue of \(maximumQueued) unread messages is full (the client is not reading)")
        }
    }

    var isClosed: Bool {
        wake.lock()
        defer { wake.unlock() }
        return closed
    }

    /// Shuts the socket down (both directions); the threads then finish and the fd is closed.
    func close(reason: String?) {
        // Under the lock, so the descriptor cannot be closed (and its number reused) between
        // the check and the shutdown.
        wake.lock()
        let wasOpen = !closed
        closed = true
        outgoing.removeAll()
        if wasOpen { shutdown(fd, Int32(SHUT_RDWR)) }
        wake.broadcast()
        wake.unlock()
        if wasOpen, let reason { logger.warning("cutting the client off: \(reason)") }
    }

    private func finishReading() {
        wake.lock()
        draining = true
        wake.broadcast()
        wake.unlock()
        finishEnd()
    }

    private func writeLoop() {
        while true {
            wake.lock()
            while (outgoing.isEmpty || writing) && !closed && !(draining && outgoing.isEmpty && !writing) {
                wake.wait()
            }
            if closed || outgoing.isEmpty {
                wake.unlock()
                close(reason: nil)
                break
            }
            let batch = outgoing
            outgoing.removeAll(keepingCapacity: true)
            writing = true
            wake.unlock()
            var joined: [UInt8] = []
            joined.reserveCapacity(batch.reduce(0) { $0 + $1.0.count })
            for (line, _) in batch { joined.append(contentsOf: line) }
            let written = UnixSocket.send(fd, joined)
            for case (_, let afterWrite?) in batch { afterWrite() }
            wake.lock()
            writing = false
            if closeWaiting { wake.broadcast() }
            wake.unlock()
            if !written {
                close(reason: nil)
                break
            }
        }
        finishEnd()
    }

    private func finishEnd() {
        let last = lock.withLock {
            openEnds -= 1
            return openEnds == 0
        }
        guard last else { return }
        // A direct `send` may still be writing: close only once it is done.
        wake.lock()
        closeWaiting = true
        while writing { wake.wait() }
        closed = true
        Glibc.close(fd)
        wake.unlock()
    }
}
