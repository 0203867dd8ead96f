import Foundation
import NephoProtocol
import NephoSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// JSON-RPC 2.0 over the real socket of an in-process daemon, with a hand-written peer.
@Suite struct WireProtocolTests {
    @Test func theHandshakeComesFirstAndChecksVersionAndHome() async throws {
        let daemon = try InProcessDaemon()
        let early = try RawClient(socket: daemon.home.socket)
        #expect(await early.call("daemon.ping")?.errorCode == NephoError.Code.handshakeRequired.rawValue)

        let wrongVersion = try RawClient(socket: daemon.home.socket)
        let refused = try #require(
            await wrongVersion.handshake(home: daemon.home.home.path, protocolVersion: 999))
        #expect(refused.errorCode == NephoError.Code.versionMismatch.rawValue)
        #expect(refused.errorMessage?.contains("daemon:stop") == true, "says what to do")

        let otherHome = try RawClient(socket: daemon.home.socket)
        let mismatch = try #require(await otherHome.handshake(home: "/somewhere/else"))
        #expect(mismatch.errorCode == NephoError.Code.homeMismatch.rawValue)
        #expect(mismatch.errorMessage?.contains("/somewhere/else") == true)

        let client = try RawClient(socket: daemon.home.socket)
        let ok = try #require(await client.handshake(home: daemon.home.home.path)?.result)
        #expect(ok["protocolVersion"] as? Int == NephoVersion.protocolVersion)
        #expect(ok["pid"] as? Int == Int(getpid()))
        #expect(await client.call("daemon.ping")?.result != nil)
    }

    @Test func invalidJSONIsAParseErrorAndTheConnectionGoesOn() async throws {
        let daemon = try InProcessDaemon()
        let client = try await daemon.rawClient()
        client.send("{\"jsonrpc\": \"2.0\", \"method\": \"foobar, \"params\": \"bar\", \"baz]\n")
        let error = try #require(await client.readObject())
        #expect(error.errorCode == -32700)
        #expect(error["id"] is NSNull)
        #expect(await client.call("daemon.ping", id: 2)?["id"] as? Int == 2)
    }

    @Test func unknownMethodsAndBadParamsGetTheSpecCodes() async throws {
        let daemon = try InProcessDaemon()
        let client = try await daemon.rawClient()
        #expect(await client.call("no.such.method")?.errorCode == -32601)
        #expect(
            await client.call("parameter.get", params: #"{"kee":1}"#)?.errorCode == -32602,
            "\(client.lastFailure) \(daemon.logs.text.suffix(1000))")
        #expect(await client.call("parameter.get", params: #"["key"]"#)?.errorCode == -32602)
        client.send(#"{"jsonrpc":"2.0","id":5,"method":7}"# + "\n")
        let invalid = try #require(await client.readObject())
        #expect(invalid.errorCode == -32600)
        #expect(invalid["id"] as? Int == 5)
    }

    @Test func batchesAnswerEveryRequestButNoNotification() async throws {
        let daemon = try InProcessDaemon()
        let client = try await daemon.rawClient()
        client.send(
            #"[{"jsonrpc":"2.0","id":1,"method":"daemon.ping"},{"jsonrpc":"2.0","method":"daemon.ping"},"#
                + #"{"foo":"boo"},{"jsonrpc":"2.0","id":"x","method":"nope"},1,"#
                + #"{"jsonrpc":"2.0","id":3,"method":"parameter.list"}]"# + "\n")
        let responses = try #require(await client.readJSON() as? [[String: Any]])
        #expect(responses.count == 5, "one per element but the notification")
        #expect(responses[0]["id"] as? Int == 1)
        #expect(responses[0].result != nil)
        #expect(responses[1].errorCode == -32600)
        #expect(responses[2]["id"] as? String == "x")
        #expect(responses[2].errorCode == -32601)
        #expect(responses[3].errorCode == -32600)
        #expect(responses[4]["id"] as? Int == 3)
        #expect(responses[4].result?["parameters"] != nil)

        // A batch of notifications only gets nothing back: the next line answers the ping.
        client.send(
            #"[{"jsonrpc":"2.0","method":"daemon.ping"},{"jsonrpc":"2.0","method":"daemon.ping"}]"# + "\n")
        client.send(#"{"jsonrpc":"2.0","method":"daemon.ping"}"# + "\n")
        #expect(await client.call("daemon.ping", id: 9)?["id"] as? Int == 9)
    }

    @Test func anEmptyBatchIsOneInvalidRequest() async throws {
        let daemon = try InProcessDaemon()
        let client = try await daemon.rawClient()
        client.send("[]\n")
        let error = try #require(await client.readObject())
        #expect(error.errorCode == -32600)
        #expect(error["id"] is NSNull)
        #expect(await client.call("daemon.ping", id: 2)?.result != nil)
    }

    @Test func aLineOverTheLimitIsRefusedAndTheConnectionGoesOn() async throws {
        let daemon = try InProcessDaemon(maximumLineLength: 64 * 1024)
        let client = try await daemon.rawClient()
        let huge =
            #"{"jsonrpc":"2.0","id":1,"method":"parameter.get","params":{"key":""#
            + String(repeating: "x", count: 200_000) + "\"}}\n"
        client.send(huge)
        let error = try #require(await client.readObject())
        #expect(error.errorCode == -32600)
        #expect(error.errorMessage?.contains("maximum line size") == true)
        #expect(await client.call("daemon.ping", id: 2)?.result != nil)
    }

    @Test func aLineOverTheDefaultLimitIsRefused() async throws {
        let daemon = try InProcessDaemon()
        let client = try await daemon.rawClient()
        client.send(String(repeating: " ", count: LineFramer.defaultMaximumLineLength + 10) + "\n")
        #expect(await client.readObject()?.errorCode == -32600)
        #expect(await client.call("daemon.ping", id: 2)?.result != nil)
    }

    @Test func tenThousandNestedBracketsDoNotHurtTheDaemon() async throws {
        let daemon = try InProcessDaemon()
        let client = try await daemon.rawClient()
        client.send(String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "\n")
        let arrays = try #require(await client.readObject())
        #expect([-32700, -32600].contains(arrays.errorCode ?? 0))
        client.send(
            #"{"jsonrpc":"2.0","id":1,"method":"daemon.ping","params":"#
                + String(repeating: "{\"a\":", count: 10_000)
                + "1" + String(repeating: "}", count: 10_001) + "\n")
        let objects = try #require(await client.readObject())
        #expect(objects.errorCode != nil)
        #expect(await client.call("daemon.ping", id: 2)?.result != nil)
    }

    @Test func oneBytePerWriteIsOneMessage() async throws {
        let daemon = try InProcessDaemon()
        let client = try RawClient(socket: daemon.home.socket)
        let handshake =
            #"{"jsonrpc":"2.0","id":1,"method":"nepho.handshake","params":{"protocolVersion":\#(NephoVersion.protocolVersion),"#
            + #""clientVersion":"t","home":"\#(daemon.home.home.path)","context":{"environment":{}}}}"# + "\n"
        for byte in Array(handshake.utf8) { client.send(bytes: [byte]) }
        #expect(await client.readObject()?.result?["pid"] != nil)
    }

    @Test func halfAMessageThenEOFClosesOnlyThatConnection() async throws {
        let daemon = try InProcessDaemon()
        let other = try await daemon.rawClient()
        let client = try await daemon.rawClient()
        client.send(#"{"jsonrpc":"2.0","id":1,"method":"daemon.pi"#)
        shutdown(client.fd, Int32(SHUT_WR))
        #expect(await client.isClosedByPeer(), "no answer to half a message, and the connection ends")
        #expect(await other.call("daemon.ping", id: 3)?.result != nil)
    }

    @Test func aClientThatNeverReadsIsCutOffWhileAnotherKeepsWorking() async throws {
        let daemon = try InProcessDaemon(maximumQueuedMessages: 32)
        let idle = try await daemon.rawClient()
        UnixSocket.setReceiveTimeout(idle.fd, seconds: 60)
        let store = daemon.store
        let formation = try store.insertFormation(
            .init(name: "f", provider: "aws", cloudlet: "c", scenario: "s", status: "x"))
        let build = try store.insertBuild(
            .init(formationID: formation.id, operation: .create, status: "running"))
        #expect(
            await idle.call(API.formationFollow.name, id: 1, params: #"{"name":"f","after":0}"#)?.result
                != nil)

        let busy = try await daemon.rawClient()
        let reason = String(repeating: "r", count: 2000)
        var answered = 0
        var lastReply = ""
        for n in 1...3000 {
            _ = try store.appendEvent(
                .init(buildID: build.id, providerEventID: "e\(n)", timestamp: "t", reason: reason))
            if n % 100 == 0 {
                let reply = await busy.call("daemon.ping", id: n)
                if reply?["id"] as? Int == n {
                    answered += 1
                } else {
                    lastReply = "\(String(describing: reply))"
                }
            }
        }
        #expect(
            answered == 30,
            "the reading client was served all along; last: \(lastReply); log: \(daemon.logs.text.suffix(800))"
        )
        #expect(
            await eventually { daemon.logs.text.contains("cutting the client off") },
            "the idle client was cut off: \(daemon.logs.text.suffix(500))")
        // The idle client gets what the kernel held, then the end of the stream.
        #expect(await idle.isClosedByPeer())
        #expect(await busy.call("daemon.status", id: 1)?.result?["clients"] as? Int == 1)
    }
}

/// What the wire must keep exact or refuse clearly (docs/protocol.md).
@Suite struct WireExactnessTests {
    func line(_ client: RawClient, _ text: String) async -> [String: Any]? {
        client.send(text + "\n")
        return await client.readObject()
    }

    @Test func numericIdsComeBackExactlyAsWritten() async throws {
        let daemon = try InProcessDaemon()
        let client = try await daemon.rawClient()
        for id in [
            "9007199254740993", "-9223372036854775808", "1.5", "1e400", "123456789012345678901234567890",
        ] {
            client.send(#"{"jsonrpc":"2.0","id":\#(id),"method":"daemon.ping"}"# + "\n")
            let reply = await client.readLine() ?? ""
            #expect(reply.contains(#""id":\#(id),"#) || reply.contains(#""id":\#(id)}"#), "\(id): \(reply)")
        }
    }

    @Test func anObjectWithADuplicateMemberIsRefused() async throws {
        let daemon = try InProcessDaemon()
        let client = try await daemon.rawClient()
        let single = try #require(
            await line(client, #"{"jsonrpc":"2.0","id":7,"method":"daemon.ping","method":"daemon.stop"}"#))
        #expect(single.errorCode == RPCErrorObject.invalidRequestCode)
        #expect(single.errorMessage?.contains(#"the member "method" appears twice"#) == true, "\(single)")
        #expect(single["id"] as? Int == 7)
        client.send(#"[{"jsonrpc":"2.0","id":8,"method":"daemon.ping","id":9}]"# + "\n")
        let batch = try #require(await client.readObject())
        #expect(batch.errorMessage?.contains(#""id" appears twice"#) == true, "\(batch)")
        #expect(await line(client, #"{"jsonrpc":"2.0","id":10,"method":"daemon.ping"}"#)?.result != nil)
    }

    @Test func aReplyOverTheLineLimitIsAnErrorThatSaysSo() async throws {
        let daemon = try InProcessDaemon(maximumLineLength: 4000)
        try Data("Big: \(String(repeating: "x", count: 6000))\n".utf8).write(
            to: daemon.home.paths.userParameters)
        let client = try await daemon.rawClient()
        let reply = try #require(await line(client, #"{"jsonrpc":"2.0","id":3,"method":"parameter.list"}"#))
        #expect(reply.errorMessage?.contains("over the line limit of 4000 bytes") == true, "\(reply)")
        #expect(await line(client, #"{"jsonrpc":"2.0","id":4,"method":"daemon.ping"}"#)?.result != nil)
    }

    @Test func aNumberOutOfRangeInParamsNamesItsField() async throws {
        let daemon = try InProcessDaemon()
        let client = try await daemon.rawClient()
        let reply = try #require(
            await line(
                client,
                #"{"jsonrpc":"2.0","id":5,"method":"formation.follow","params":{"name":"f","after":1e400}}"#))
        #expect(reply.errorCode == RPCErrorObject.invalidParamsCode, "\(reply)")
        #expect(reply.errorMessage?.contains("after") == true, "\(reply)")
    }
}
