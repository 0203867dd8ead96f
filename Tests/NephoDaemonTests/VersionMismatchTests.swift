import Foundation
import NephoClient
import NephoProtocol
import NephoSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A daemon of another protocol version is reported with what to do.
@Suite struct VersionMismatchTests {
    /// A test double standing in for a nephod of another release (no such build exists
    /// locally): it answers every handshake as protocol 99 would, without checking ours.
    final class OtherVersionDaemon: @unchecked Sendable {
        let listener: Int32
        init(socket: String) throws {
            listener = try UnixSocket.listen(path: socket)
            let listener = self.listener
            Thread.detachNewThread {
                while let fd = UnixSocket.accept(listener) {
                    var buffer = [UInt8](repeating: 0, count: 65536)
                    var received: [UInt8] = []
                    while !received.contains(10) {
                        let n = buffer.withUnsafeMutableBytes { UnixSocket.receive(fd, into: $0) }
                        if n <= 0 { break }
                        received += buffer[0..<n]
                    }
                    let reply =
                        #"{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":99,"daemonVersion":"9.0.0","pid":4242,"home":"/x"}}"#
                    UnixSocket.send(fd, Array(reply.utf8) + [10])
                    close(fd)
                }
                close(listener)  // here, not in deinit: the loop must not accept on a reused number
            }
        }
        deinit { shutdown(listener, Int32(SHUT_RDWR)) }
    }

    @Test func theClientRefusesADaemonOfAnotherProtocolAndSaysWhatToDo() async throws {
        let home = TestHome()
        mkdir(home.paths.runtimeDirectory.path, 0o700)
        let other = try OtherVersionDaemon(socket: home.socket)
        let client = DaemonClient(environment: home.environment, autoStart: false)
        let error = await offPool { () -> NephoError? in
            do {
                try client.connect()
                return nil
            } catch {
                return error as? NephoError
            }
        }
        #expect(error?.code == .versionMismatch)
        #expect(error?.message.contains("protocol 99") == true)
        #expect(error?.message.contains("nepho daemon:stop") == true)

        let command = try await NephoProgram.run(["cloudlet:list"], home: home)
        #expect(command.status == 7)
        #expect(command.errorOutput.contains("nepho daemon:stop"))
        withExtendedLifetime(other) {}
    }
}
