import Foundation
import NephoSupport
import Testing

@testable import NephoStore

/// The daemon learns of what monitors (other processes) commit to the state database
/// from `StoreChangeSignal`, not from a timer: a commit by another process wakes a
/// waiter at once.
@Suite struct StoreChangeSignalTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
        "nepho-signal-\(UUID().uuidString)")

    /// Commits one row from another process (python's sqlite3, as a monitor would from nephod).
    func commitElsewhere(_ path: String) async throws {
        let script = """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.execute("CREATE TABLE IF NOT EXISTS t (x)")
            db.execute("INSERT INTO t VALUES (1)")
            db.commit()
            """
        let result = try await ProcessRunner.run("python3", ["-c", script, path], timeout: 120)
        #expect(result.status == 0, "\(result.errorOutput)")
    }

    @Test func aCommitInAnotherProcessWakesAWaiterBeforeItsTimeout() async throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("state.db").path
        _ = try StateStore(path: path)  // WAL mode, as nephod opens it
        let signal = StoreChangeSignal.shared(databasePath: path)
        #expect(signal.isWatching, "inotify is available on Linux")
        let seen = signal.current
        let started = Date()
        async let woken = signal.changed(after: seen, timeout: 300)
        try await commitElsewhere(path)
        let generation = await woken
        #expect(generation != seen)
        // The wait ended because of the commit, long before its five-minute timeout.
        #expect(Date().timeIntervalSince(started) < 240)
    }

    @Test func aBlockingWaiterIsWokenToo() async throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("state.db").path
        _ = try StateStore(path: path)
        let signal = StoreChangeSignal.shared(databasePath: path)
        let seen = signal.current
        let waiter = Task.detached { signal.wait(after: seen, timeout: 300) }
        try await commitElsewhere(path)
        #expect(await waiter.value != seen)
    }

    /// The daemon stores pushed events itself: its own commit wakes the followers of the
    /// build before `write` returns, not once inotify's thread has read the journal write.
    @Test func aCommitInThisProcessHasWokenWaitersWhenItReturns() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("state.db").path
        let store = try StateStore(path: path)
        // Without inotify's watch, so that only the commit itself can have woken it.
        let signal = StoreChangeSignal.shared(databasePath: path, watch: false)
        #expect(!signal.isWatching)
        for _ in 0..<3 {
            let seen = signal.current
            _ = try store.insertFormation(
                FormationRecord(
                    name: "f\(UUID().uuidString.prefix(8))", provider: "aws", cloudlet: "c", scenario: "s",
                    status: "CREATE_IN_PROGRESS"))
            #expect(signal.current != seen)
        }
        // A transaction that changes nothing (opening the store again) wakes nobody: the
        // daemon's queue poller opens it often, and its followers would look each time.
        let seen = signal.current
        _ = try StateStore(path: path)
        #expect(signal.current == seen)
    }

    /// Events the kernel dropped (its queue overflowed) wake every waiter of the process.
    @Test func anOverflowedInotifyQueueWakesEverySignal() throws {
        let one = StoreChangeSignal.shared(databasePath: folder.appendingPathComponent("a/state.db").path)
        let two = StoreChangeSignal.shared(databasePath: folder.appendingPathComponent("b/state.db").path)
        defer { try? FileManager.default.removeItem(at: folder) }
        var targets: FolderWatcher.Targets = [7: [(["state.db"], one)], 9: [(["state.db"], two)]]
        var overflow = inotify_event()
        overflow.wd = -1
        overflow.mask = UInt32(IN_Q_OVERFLOW)
        let woken = withUnsafeBytes(of: &overflow) { FolderWatcher.dispatch($0, &targets).woken }
        #expect(Set(woken.map(ObjectIdentifier.init)) == [ObjectIdentifier(one), ObjectIdentifier(two)])
        #expect(targets.count == 2, "no watch is dropped")
    }
}
