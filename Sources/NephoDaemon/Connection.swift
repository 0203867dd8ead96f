import Foundation
import Logging
import NephoProtocol
import NephoSupport

#if canImport(Glibc)
    import Glibc
#endif

/// One client connection: a reader thread that frames lines, one task that answers them in
/// order, and a writer thread that drains a bounded queue of outgoing lines.
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
    private var closed = false
    private var draining = false
    private var openEnds = 2  // reader and writer; the descriptor closes when both are done
    private let inFlight = DispatchSemaphore(value: 64)

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

    /// Reads lines until the peer goes away; hands each to `handle`, one after another.
    func run(maximumLineLength: Int, handle: @escaping @Sendable (LineFramer.Item) async -> Void) async {
        let lines = AsyncStream<LineFramer.Item> { continuation in
            Thread.detachNewThread { [self] in
                var framer = LineFramer(maximumLineLength: maximumLineLength)
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)
                defer { buffer.deallocate() }
                while true {
                    let n = UnixSocket.receive(fd, into: buffer)
                    if n <= 0 { break }
                    for item in framer.append(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) {
                        inFlight.wait()  // back-pressure: stop reading while 64 lines wait
                        continuation.yield(item)
                    }
                }
                if framer.hasPartialLine {
                    logger.debug(
                        "connection closed in the middle of a message; the partial message was dropped")
                }
                continuation.finish()
            }
        }
        Thread.detachNewThread { [self] in writeLoop() }
        for await item in lines {
            await handle(item)
            inFlight.signal()
        }
        // The peer stopped sending: write what is queued, then close.
        finishReading()
    }

    /// Queues one line (without `\n`) for the peer; `afterWrite` runs once it is written.
    /// Cuts the connection off when its queue is full.
    func send(_ line: [UInt8], afterWrite: (@Sendable () -> Void)? = nil) {
        var cutOff = false
        wake.lock()
        if !closed {
            if outgoing.count >= maximumQueued {
                cutOff = true
            } else {
                var framed = line
                framed.append(10)
                outgoing.append((framed, afterWrite))
                wake.signal()
            }
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
        wake.lock()
        let wasOpen = !closed
        closed = true
        outgoing.removeAll()
        wake.broadcast()
        wake.unlock()
        guard wasOpen else { return }
        if let reason { logger.warning("cutting the client off: \(reason)") }
        shutdown(fd, Int32(SHUT_RDWR))
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
            while outgoing.isEmpty && !closed && !draining { wake.wait() }
            if outgoing.isEmpty {
                wake.unlock()
                close(reason: nil)
                break
            }
            let batch = outgoing
            outgoing.removeAll(keepingCapacity: true)
            wake.unlock()
            var joined: [UInt8] = []
            joined.reserveCapacity(batch.reduce(0) { $0 + $1.0.count })
            for (line, _) in batch { joined.append(contentsOf: line) }
            let written = UnixSocket.send(fd, joined)
            for case (_, let afterWrite?) in batch { afterWrite() }
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
        if last { Glibc.close(fd) }
    }
}
