import Foundation
import NephoDaemon
import NephoProtocol
import NephoStore
import NephoSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The real `nepho` and `nephod` programs: auto-start, races, crashes, signals, idle exit,
/// systemd socket activation.
@Suite struct DaemonProcessTests {
    @Test func aCommandStartsTheDaemonAndStatusNeverDoes() async throws {
        let home = TestHome()
        let before = try await NephoProgram.run(["daemon:status"], home: home)
        #expect(before.status == 3)
        #expect(before.errorOutput.contains("not running"))
        #expect(!FileManager.default.fileExists(atPath: home.socket), "status starts nothing")

        let list = try await NephoProgram.run(["cloudlet:list"], home: home)
        #expect(list.status == 0, "\(list.errorOutput)")
        let status = try await NephoProgram.run(["daemon:status", "-o", "json"], home: home)
        #expect(status.status == 0)
        let object = try #require(
            try JSONSerialization.jsonObject(with: status.standardOutput) as? [String: Any])
        #expect(object["startedBy"] as? String == "auto-start")
        #expect(object["socket"] as? String == home.socket)
        #expect(object["database"] as? String == home.paths.database.path)
        #expect(object["monitors"] as? Int == 0)
        #expect(home.log.contains("listening"))

        let logs = try await NephoProgram.run(["daemon:logs"], home: home)
        #expect(logs.output.contains(home.logFile))
        #expect(logs.output.contains("listening"))

        let stop = try await NephoProgram.run(["daemon:stop"], home: home)
        #expect(stop.status == 0)
        #expect(stop.output.contains("stopped nephod"))
        #expect(!FileManager.default.fileExists(atPath: home.socket))
        let again = try await NephoProgram.run(["daemon:stop"], home: home)
        #expect(again.output.contains("not running"))
    }

    /// A daemon going away (killed, or leaving when idle) can accept a connection and
    /// close it unanswered. A stand-in for such a dying daemon accepts one connection on
    /// the socket, closes it and its socket, and removes the socket file: the command
    /// must not fail for it, but connect again and start a daemon.
    @Test func aDaemonThatDiesDuringTheHandshakeIsReplaced() async throws {
        let home = TestHome()
        try FileManager.default.createDirectory(
            atPath: (home.socket as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let listener = try UnixSocket.listen(path: home.socket, mode: 0o600)
        let dying = Thread {
            if let connection = UnixSocket.accept(listener) {
                unlink(home.socket)
                close(listener)
                close(connection)
            }
        }
        dying.start()
        let list = try await NephoProgram.run(["cloudlet:list"], home: home)
        #expect(list.status == 0, "\(list.errorOutput)")
        #expect(home.log.contains("listening"), "a real daemon was started")
        _ = try await NephoProgram.run(["daemon:stop"], home: home)
    }

    @Test func autoStartCanBeTurnedOff() async throws {
        let home = TestHome()
        let flag = try await NephoProgram.run(["cloudlet:list", "--no-autostart"], home: home)
        #expect(flag.status != 0)
        #expect(flag.errorOutput.contains("auto-start is off"))
        let variable = try await NephoProgram.run(
            ["cloudlet:list"], home: home, extra: ["NEPHO_NO_AUTOSTART": "1"])
        #expect(variable.status != 0)
        #expect(variable.errorOutput.contains("auto-start is off"))
        #expect(!FileManager.default.fileExists(atPath: home.socket))
        #expect(
            try await NephoProgram.run(["cloudlet:list", "--foreground", "--no-autostart"], home: home).status
                == 0)
    }

    @Test func clientsRacingToStartTheDaemonEndWithOne() async throws {
        let home = TestHome()
        let results = try await withThrowingTaskGroup(of: ProcessResult.self) { group in
            for _ in 0..<6 { group.addTask { try await NephoProgram.run(["parameter:list"], home: home) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.errorOutput))")
        let starts = home.log.components(separatedBy: "\n").filter { $0.contains("listening") }
        #expect(starts.count == 1, "one daemon started: \(home.log)")
        #expect(!home.log.contains("already listening"))
        await NephoProgram.stopDaemon(home)
    }

    @Test func killingTheDaemonLosesNothingStored() async throws {
        let home = TestHome()
        #expect(try await NephoProgram.run(["parameter:set", "KeyName", "mine"], home: home).status == 0)
        let first = try #require(try await NephoProgram.daemonPID(home))

        // Clients attached while it dies: one idle, one mid-subscription.
        let idle = try RawClient(socket: home.socket)
        _ = await idle.handshake(home: home.home.path)
        let watcher = try RawClient(socket: home.socket)
        _ = await watcher.handshake(home: home.home.path)
        _ = await watcher.call("events.subscribe", id: 1, params: #"{"subject":"build:1","after":0}"#)

        // State written through SQLite while the daemon has it open.
        let store = try StateStore(path: home.paths.database.path)
        let formation = try store.insertFormation(
            .init(name: "wiki", provider: "aws", cloudlet: "c", scenario: "s", status: "CREATE_IN_PROGRESS"))
        let build = try store.insertBuild(
            .init(formationID: formation.id, operation: .create, status: "running"))
        for n in 1...50 {
            try store.appendEvent(.init(buildID: build.id, providerEventID: "e\(n)", timestamp: "t"))
        }

        #expect(kill(first, SIGKILL) == 0)
        #expect(await eventually { !processIsAlive(first) })
        #expect(await idle.isClosedByPeer())

        let next = try await NephoProgram.run(["parameter:get", "KeyName"], home: home)
        #expect(next.status == 0, "\(next.errorOutput)")
        #expect(next.output == "mine\n")
        let second = try #require(try await NephoProgram.daemonPID(home))
        #expect(second != first, "a new daemon answers")

        let reopened = try StateStore(path: home.paths.database.path)
        #expect(try reopened.integrityCheck() == "ok")
        #expect(try reopened.formation(named: "wiki")?.id == formation.id)
        #expect(try reopened.events(buildID: build.id).count == 50)
        await NephoProgram.stopDaemon(home)
    }

    @Test func sigtermStopsTheDaemonCleanly() async throws {
        let home = TestHome()
        _ = try await NephoProgram.run(["cloudlet:list"], home: home)
        let pid = try #require(try await NephoProgram.daemonPID(home))
        let attached = try RawClient(socket: home.socket)
        _ = await attached.handshake(home: home.home.path)
        kill(pid, SIGTERM)
        #expect(await eventually { !processIsAlive(pid) })
        #expect(await attached.isClosedByPeer())
        #expect(!FileManager.default.fileExists(atPath: home.socket), "the socket file is removed")
        #expect(home.log.contains("SIGTERM"))
    }

    @Test func anOnDemandDaemonExitsWhenIdle() async throws {
        let home = TestHome()
        let result = try await NephoProgram.run(
            ["cloudlet:list"], home: home, extra: ["NEPHOD_IDLE_TIMEOUT": "1"])
        #expect(result.status == 0)
        // The daemon may already be gone: read its pid from its log, not from status.
        let line = try #require(home.log.split(separator: "\n").first { $0.contains("listening") })
        let pid = try #require(
            line.split(separator: " ").first { $0.hasPrefix("pid=") }.flatMap { Int32($0.dropFirst(4)) })
        #expect(await eventually(60) { !processIsAlive(pid) }, "exited after being idle")
        #expect(home.log.contains("idle for"))
        #expect(!FileManager.default.fileExists(atPath: home.socket))
    }

    @Test func aSocketFromSystemdIsUsedAndReadinessIsNotified() async throws {
        let home = TestHome()
        mkdir(home.paths.runtimeDirectory.path, 0o700)
        let listener = try UnixSocket.listen(path: home.socket)
        defer { close(listener) }
        // systemd's side: a datagram socket for sd_notify.
        let notifyPath = home.root.appendingPathComponent("notify").path
        let notify = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(notify) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(notifyPath.utf8) + [0]) }
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(notify, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        UnixSocket.setReceiveTimeout(notify, seconds: 60)

        var environment = home.environment
        environment["NOTIFY_SOCKET"] = notifyPath
        environment["LISTEN_FDS"] = "1"
        // LISTEN_PID must be nephod's own pid: the shell execs it, keeping its pid.
        try FileManager.default.createDirectory(
            atPath: (home.logFile as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let pid = try DetachedProcess.spawn(
            path: "/bin/sh",
            arguments: ["-c", "LISTEN_PID=$$ exec \"$0\" serve --idle-timeout 0", Binaries.nephod],
            environment: environment, logFile: home.logFile, descriptor3: listener)
        defer { kill(pid, SIGKILL) }

        let message = await offPool { () -> String in
            var buffer = [UInt8](repeating: 0, count: 512)
            let n = recv(notify, &buffer, buffer.count, 0)
            return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
        }
        #expect(message.contains("READY=1"))
        let status = try await NephoProgram.run(
            ["daemon:status", "-o", "json", "--no-autostart"], home: home)
        let object = try #require(
            try JSONSerialization.jsonObject(with: status.standardOutput) as? [String: Any])
        #expect(object["startedBy"] as? String == "systemd")
        #expect(object["pid"] as? Int == Int(pid))
        kill(pid, SIGTERM)
        #expect(await eventually { !processIsAlive(pid) })
        #expect(FileManager.default.fileExists(atPath: home.socket), "systemd's socket file stays")
    }

    @Test func theRepositoryUnitsAreWhatInstallUnitsWrites() async throws {
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let socketUnit = try String(
            contentsOf: package.appendingPathComponent("systemd/nephod.socket"), encoding: .utf8)
        let serviceUnit = try String(
            contentsOf: package.appendingPathComponent("systemd/nephod.service"), encoding: .utf8)
        #expect(socketUnit == UnitFiles.socket)
        #expect(serviceUnit == UnitFiles.service())
        #expect(serviceUnit.contains("KillMode=process"))
        #expect(serviceUnit.contains("Type=notify"))

        let home = TestHome()
        let target = home.root.appendingPathComponent("units").path
        let result = try await ProcessRunner.run(
            Binaries.nephod, ["install-units", "--directory", target], environment: home.environment,
            timeout: 60)
        #expect(result.status == 0, "\(result.errorOutput)")
        let written = try String(contentsOfFile: target + "/nephod.service", encoding: .utf8)
        #expect(written.contains("ExecStart=\(Binaries.nephod) serve") || written.contains("/nephod serve"))
        #expect(result.output.contains("systemctl --user enable --now nephod.socket"))
    }

    @Test func nephodPrintsItsVersion() async throws {
        let result = try await ProcessRunner.run(Binaries.nephod, ["--version"], timeout: 60)
        #expect(result.output == NephoVersion.current + "\n")
    }
}

@Suite struct DaemonLifetimeTests {
    @Test func aDaemonWhoseHomeIsDeletedExits() async throws {
        let home = TestHome()
        #expect(try await NephoProgram.run(["cloudlet:list"], home: home).status == 0)
        let pid = try #require(try await NephoProgram.daemonPID(home))
        try FileManager.default.removeItem(at: home.home)
        #expect(await eventually { !processIsAlive(pid) }, "a daemon nobody can use does not linger")
    }

    @Test func aDaemonWhoseSocketIsRemovedExits() async throws {
        let home = TestHome()
        #expect(try await NephoProgram.run(["cloudlet:list"], home: home).status == 0)
        let pid = try #require(try await NephoProgram.daemonPID(home))
        unlink(home.socket)
        #expect(await eventually { !processIsAlive(pid) })
        #expect(home.log.contains("was removed"))
    }
}

@Suite struct DaemonStartFailureTests {
    @Test func aDatabaseFromANewerNephoIsReportedByTheCommand() async throws {
        let home = TestHome()
        let database = try Database(path: home.paths.database.path)
        try database.execute("PRAGMA user_version = 999")
        let result = try await NephoProgram.run(["cloudlet:list"], home: home)
        #expect(result.status != 0)
        #expect(result.errorOutput.contains("nephod could not start"))
        #expect(
            result.errorOutput.contains("newer nepho"), "the log's reason is shown: \(result.errorOutput)")
        #expect(try database.scalar("PRAGMA user_version") == 999, "left untouched")
        #expect(try await NephoProgram.run(["cloudlet:list", "--foreground"], home: home).status == 0)
    }
}
