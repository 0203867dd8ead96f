import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Wakes whoever waits for the state database to change, at once, whichever process
/// wrote it: build monitors store events from processes of their own, and the daemon
/// streams them to clients. Every commit appends to the database's write-ahead log
/// (`state.db-wal`), and a checkpoint writes `state.db`; an inotify watch on the folder
/// sees both. Readers write neither, so a wake-up means something was committed.
///
/// Waiters keep a `generation` and ask for the next one; a wait also ends after its
/// timeout, so a missed notification (inotify out of watches, a folder replaced) costs
/// at most that long. Without inotify the generation simply advances on every timeout.
/// A commit made by this process wakes waiters directly (`Database.write`), and an
/// inotify queue that overflowed (events lost) wakes every waiter of the process.
public final class StoreChangeSignal: @unchecked Sendable {
    private let condition = NSCondition()
    private var generation: UInt64 = 0
    private var nextWaiter = 0
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    /// False when inotify could not watch the folder: waiters then poll at their timeout.
    private var watching: Bool
    public var isWatching: Bool {
        condition.lock()
        defer { condition.unlock() }
        return watching
    }

    private static let registryLock = NSLock()
    nonisolated(unsafe) private static var registry: [String: StoreChangeSignal] = [:]

    /// The signal of the database at `databasePath` in this process (one watch thread each).
    /// `watch: false` (tests) starts no inotify watch: the signal then hears only this
    /// process's commits, as when inotify is out of watches.
    public static func shared(databasePath: String) -> StoreChangeSignal {
        shared(databasePath: databasePath, watch: true)
    }

    static func shared(databasePath: String, watch: Bool) -> StoreChangeSignal {
        registryLock.withLock {
            if let existing = registry[databasePath] { return existing }
            let signal = StoreChangeSignal(databasePath: databasePath, watch: watch)
            registry[databasePath] = signal
            return signal
        }
    }

    init(databasePath: String, watch: Bool = true) {
        let folder = (databasePath as NSString).deletingLastPathComponent
        let name = (databasePath as NSString).lastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        watching = false
        guard watch else { return }
        watching = FolderWatcher.shared?.attach(self, folder: folder, names: [name, name + "-wal"]) ?? false
    }

    /// Advances the generation and wakes every waiter. False once nobody can wait any more.
    @discardableResult
    func bump() -> Bool {
        condition.lock()
        generation &+= 1
        let woken = waiters
        waiters = [:]
        condition.broadcast()
        condition.unlock()
        for continuation in woken.values { continuation.resume() }
        return true
    }

    /// A commit by this process to the database at `databasePath`: wakes its waiters at
    /// once, without waiting for inotify to report the journal write (the daemon stores
    /// pushed events itself, and streams them to clients). Starts no watch.
    static func committed(databasePath: String) {
        let signal = registryLock.withLock { registry[databasePath] }
        signal?.bump()
    }

    /// The watch ended (the folder was removed): wake everyone, poll from now on, and let
    /// the next `shared` call start a new watch.
    func lost() {
        condition.lock()
        watching = false
        condition.unlock()
        Self.registryLock.withLock {
            if let key = Self.registry.first(where: { $0.value === self })?.key { Self.registry[key] = nil }
        }
        bump()
    }

    /// The current generation: pass it to the next wait.
    public var current: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return generation
    }

    /// Blocks this thread until the generation differs from `seen`, or `timeout` seconds
    /// passed; returns the generation then.
    public func wait(after seen: UInt64, timeout: Double) -> UInt64 {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while generation == seen {
            if !condition.wait(until: deadline) { break }
        }
        if generation == seen && !watching { generation &+= 1 }
        return generation
    }

    /// Suspends until the generation differs from `seen`, or `timeout` seconds passed;
    /// returns the generation then.
    public func changed(after seen: UInt64, timeout: Double) async -> UInt64 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            guard generation == seen else {
                condition.unlock()
                continuation.resume()
                return
            }
            let id = nextWaiter
            nextWaiter += 1
            waiters[id] = continuation
            condition.unlock()
            DispatchQueue.global().asyncAfter(deadline: .now() + max(0, timeout)) { [self] in
                condition.lock()
                let waiting = waiters.removeValue(forKey: id)
                condition.unlock()
                waiting?.resume()
            }
        }
        return settle(after: seen)
    }

    /// The generation after a wait; without a watch, a timeout counts as a change.
    private func settle(after seen: UInt64) -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        if generation == seen && !watching { generation &+= 1 }
        return generation
    }
}

/// One inotify instance and thread for the whole process (the kernel allows few
/// instances per user): each watched folder's changes to the named files bump the
/// signals registered for them.
final class FolderWatcher: @unchecked Sendable {
    private let fd: Int32
    private let lock = NSLock()
    typealias Targets = [Int32: [(names: Set<String>, signal: StoreChangeSignal)]]
    private var targets: Targets = [:]

    static let shared: FolderWatcher? = {
        let fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        let watcher = FolderWatcher(fd: fd)
        Thread.detachNewThread { watcher.run() }
        return watcher
    }()

    private init(fd: Int32) { self.fd = fd }

    /// Watches `folder` for `signal`; false when inotify refuses (out of watches, no folder).
    func attach(_ signal: StoreChangeSignal, folder: String, names: Set<String>) -> Bool {
        let mask = UInt32(IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE)
        return lock.withLock {
            let descriptor = inotify_add_watch(fd, folder, mask)
            guard descriptor >= 0 else { return false }
            targets[descriptor, default: []].append((names, signal))
            return true
        }
    }

    private func run() {
        let size = 64 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let count = read(fd, buffer, size)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            let (woken, lost) = lock.withLock {
                Self.dispatch(UnsafeRawBufferPointer(start: buffer, count: count), &targets)
            }
            for signal in woken { signal.bump() }
            for signal in lost { signal.lost() }
        }
    }

    /// The signals one read of inotify events wakes, and those whose folder is gone (their
    /// targets are removed). When the kernel's queue overflowed (`IN_Q_OVERFLOW`, more than
    /// `max_queued_events` unread), events were dropped: every signal is woken, so no waiter
    /// sits out its timeout for a commit it was never told of.
    static func dispatch(
        _ events: UnsafeRawBufferPointer, _ targets: inout Targets
    ) -> (woken: [StoreChangeSignal], lost: [StoreChangeSignal]) {
        let header = MemoryLayout<inotify_event>.size
        var woken: [ObjectIdentifier: StoreChangeSignal] = [:]
        var lost: [StoreChangeSignal] = []
        var offset = 0
        while offset + header <= events.count {
            let event = events.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
            if event.mask & UInt32(IN_Q_OVERFLOW) != 0 {
                for target in targets.values.joined() {
                    woken[ObjectIdentifier(target.signal)] = target.signal
                }
            } else if event.mask & UInt32(IN_IGNORED) != 0 {
                // The folder is gone: its signals fall back to polling.
                lost += (targets.removeValue(forKey: event.wd) ?? []).map(\.signal)
            } else if event.len > 0, offset + header + Int(event.len) <= events.count {
                let bytes = events[(offset + header)..<(offset + header + Int(event.len))]
                let name = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
                for target in targets[event.wd] ?? [] where target.names.contains(name) {
                    woken[ObjectIdentifier(target.signal)] = target.signal
                }
            }
            offset += header + Int(event.len)
        }
        return (Array(woken.values), lost)
    }
}
