import Foundation

/// The processes a child started, as `/proc` shows them: a program stopped at its time
/// limit must take its own children with it. git runs ssh or its HTTP helper as a child
/// that holds git's standard error; killing git alone leaves that helper waiting on a
/// silent server for ever, and the pipe open behind it.
public enum ProcessTree {
    /// One process, named by its id and its start time (clock ticks after boot), so that a
    /// signal sent later never reaches another process that took the same id.
    public struct Member: Equatable, Sendable {
        public var pid: pid_t
        public var started: UInt64
    }

    /// `pid`'s descendants now, children before grandchildren (`pid` itself excluded).
    public static func descendants(of pid: pid_t) -> [Member] {
        var children: [pid_t: [Member]] = [:]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let id = pid_t(entry), let stat = stat(of: id) else { continue }
            children[stat.parent, default: []].append(Member(pid: id, started: stat.started))
        }
        var found: [Member] = []
        var queue = [pid]
        while !queue.isEmpty {
            let parent = queue.removeFirst()
            for child in children[parent] ?? [] where !found.contains(child) {
                found.append(child)
                queue.append(child.pid)
            }
        }
        return found
    }

    /// Sends `signal` to each member still running under the same start time.
    public static func signal(_ members: [Member], _ signal: Int32) {
        for member in members where stat(of: member.pid)?.started == member.started {
            _ = kill(member.pid, signal)
        }
    }

    /// The parent and start time in `/proc/PID/stat`: the fields after the command's
    /// closing parenthesis (the command itself may hold spaces and parentheses).
    static func stat(of pid: pid_t) -> (parent: pid_t, started: UInt64)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // From field 3 (state) on: the parent is field 4, the start time field 22.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let parent = pid_t(fields[1]), let started = UInt64(fields[19]) else {
            return nil
        }
        return (parent, started)
    }
}
