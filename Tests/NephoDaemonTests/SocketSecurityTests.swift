import Foundation
import NephoDaemon
import NephoProtocol
import NephoSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Where nephod agrees to listen, and whom it agrees to serve.
@Suite struct SocketSecurityTests {
    func startError(_ home: TestHome) -> String? {
        do {
            _ = try InProcessDaemon(home: home)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func theSocketIsPrivate() throws {
        let daemon = try InProcessDaemon()
        var info = stat()
        #expect(lstat(daemon.home.paths.runtimeDirectory.path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o700)
        #expect(lstat(daemon.home.socket, &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFSOCK)
        #expect(info.st_mode & 0o777 == 0o600)
    }

    @Test func aSymlinkPlantedAtTheSocketPathIsRefused() throws {
        let home = TestHome()
        let folder = home.paths.runtimeDirectory.path
        mkdir(folder, 0o700)
        let target = home.root.appendingPathComponent("elsewhere").path
        _ = FileManager.default.createFile(atPath: target, contents: Data("precious".utf8))
        #expect(symlink(target, home.socket) == 0)
        let error = try #require(startError(home))
        #expect(error.contains("symbolic link"))
        #expect(error.contains(home.socket))
        #expect(
            (try? String(contentsOfFile: target, encoding: .utf8)) == "precious", "the target is untouched")
        var info = stat()
        #expect(lstat(home.socket, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK, "the link is left alone")
    }

    @Test func aRegularFileAtTheSocketPathIsRefused() throws {
        let home = TestHome()
        mkdir(home.paths.runtimeDirectory.path, 0o700)
        _ = FileManager.default.createFile(atPath: home.socket, contents: Data())
        #expect(startError(home)?.contains("regular file") == true)
    }

    @Test func aFolderOpenToOthersIsRefused() throws {
        let home = TestHome()
        mkdir(home.paths.runtimeDirectory.path, 0o755)
        chmod(home.paths.runtimeDirectory.path, 0o755)
        let error = try #require(startError(home))
        #expect(error.contains("open to other users"))
        #expect(error.contains("chmod 700"))
    }

    @Test func aFolderOfAnotherUserIsRefused() throws {
        guard getuid() == 0 else {
            print("skipped: needs root to give a folder to another user")
            return
        }
        let home = TestHome()
        mkdir(home.paths.runtimeDirectory.path, 0o700)
        chown(home.paths.runtimeDirectory.path, 65534, 65534)
        #expect(startError(home)?.contains("belongs to uid 65534") == true)
    }

    @Test func aStaleSocketIsReplacedAndALiveOneIsNot() throws {
        let home = TestHome()
        mkdir(home.paths.runtimeDirectory.path, 0o700)
        let stale = try UnixSocket.listen(path: home.socket)
        close(stale)  // the file stays, nobody listens: what kill -9 leaves behind
        let daemon = try InProcessDaemon(home: home)
        #expect(startError(home)?.contains("already listening") == true)
        daemon.server.stop(reason: "test")
        #expect(!FileManager.default.fileExists(atPath: home.socket), "a stopped daemon removes its socket")
    }

    @Test func aPeerOfAnotherUserIsRefused() async throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
            FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
        else {
            print("skipped: needs root, setpriv and /usr/bin/python3 to connect as the user nobody")
            return
        }
        // nephod refuses a folder others can enter, so hand it a socket in an open folder,
        // as systemd could: only the SO_PEERCRED check stands between nobody and the daemon.
        let home = TestHome()
        let open = home.root.appendingPathComponent("open").path
        mkdir(open, 0o777)
        chmod(open, 0o777)
        chmod(home.root.path, 0o755)
        let socket = open + "/nephod.sock"
        let listener = try UnixSocket.listen(path: socket, mode: 0o666)
        let daemon = try InProcessDaemon(home: home, inheritedListener: listener)
        defer {
            daemon.server.stop(reason: "test over")  // before the descriptor goes
            close(listener)
        }

        let script = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(30)
            s.connect(sys.argv[1])
            try:
                s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"daemon.status"}\\n')
                data = s.recv(65536)
            except OSError as error:
                data = b''
            print('REPLY:' + data.decode())
            """
        let result = try await ProcessRunner.run(
            "/usr/bin/setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", script, socket],
            timeout: 60)
        #expect(result.status == 0, "\(result.errorOutput)")
        #expect(
            result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "REPLY:", "nobody gets no answer"
        )
        #expect(daemon.logs.text.contains("refused a connection from another user"))
        #expect(daemon.logs.text.contains("peer.uid=65534"))
        let client = try RawClient(socket: socket)
        #expect(await client.handshake(home: home.home.path)?.result != nil, "the owner is still served")
    }
}
