import Foundation
import NephoProtocol
import Testing

@Suite struct RPCMessageParserTests {
    func parse(_ text: String) -> RPCLine { RPCMessageParser.parse(Array(text.utf8)) }

    func errorCode(_ line: RPCLine) -> Int? {
        if case .failure(let error) = line { return error.code }
        return nil
    }

    @Test func invalidJSONIsAParseError() {
        #expect(
            errorCode(parse("{\"jsonrpc\": \"2.0\", \"method\": \"foobar, \"params\": \"bar\", \"baz]"))
                == -32700)
        #expect(
            errorCode(
                parse("[{\"jsonrpc\": \"2.0\", \"method\": \"sum\"},{\"jsonrpc\": \"2.0\", \"method\"]"))
                == -32700)
        #expect(errorCode(parse("nonsense")) == -32700)
    }

    @Test func anEmptyBatchIsOneInvalidRequest() {
        #expect(errorCode(parse("[]")) == -32600)
    }

    @Test func aScalarIsAnInvalidRequest() {
        #expect(errorCode(parse("1")) == -32600)
        #expect(errorCode(parse("\"text\"")) == -32600)
    }

    @Test func tenThousandNestedBracketsAreRefusedWithoutCrashing() {
        let arrays = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect([-32700, -32600].contains(errorCode(parse(arrays))))
        let objects =
            String(repeating: "{\"a\":", count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        switch parse(objects) {
        case .failure(let error): #expect([-32700, -32600].contains(error.code))
        case .single(.invalid(_, let error)): #expect(error.code == -32600)
        default: Issue.record("10,000 nested objects were accepted as a request")
        }
    }

    @Test func aRequestKeepsItsIdAndANotificationHasNone() {
        guard
            case .single(.request(let header, _)) = parse(
                #"{"jsonrpc":"2.0","id":"a-1","method":"daemon.ping"}"#)
        else { Issue.record("not a request"); return }
        #expect(header.id == .string("a-1"))
        #expect(!header.isNotification)
        guard case .single(.request(let note, _)) = parse(#"{"jsonrpc":"2.0","method":"daemon.ping"}"#)
        else { Issue.record("not a notification"); return }
        #expect(note.isNotification)
        guard case .single(.request(let nullID, _)) = parse(#"{"jsonrpc":"2.0","id":null,"method":"x"}"#)
        else { Issue.record("not a request"); return }
        #expect(nullID.id == .null, "id null is a request, not a notification")
    }

    @Test func malformedRequestObjectsAreInvalidRequests() {
        for text in [
            #"{"jsonrpc":"1.0","id":1,"method":"x"}"#, #"{"jsonrpc":"2.0","id":1,"method":1}"#,
            #"{"jsonrpc":"2.0","id":1}"#, #"{"jsonrpc":"2.0","id":1,"method":"x","params":3}"#,
            #"{"jsonrpc":"2.0","id":{},"method":"x"}"#,
        ] {
            guard case .single(.invalid(_, let error)) = parse(text) else {
                Issue.record("accepted \(text)")
                continue
            }
            #expect(error.code == -32600, "\(text)")
        }
    }

    @Test func batchesClassifyEachElement() {
        guard case .batch(let calls) = parse(#"[{"jsonrpc":"2.0","id":1,"method":"a"}, 1, {"foo":"boo"}]"#)
        else { Issue.record("not a batch"); return }
        #expect(calls.count == 3)
        if case .request = calls[0] {} else { Issue.record("first is a request") }
        if case .invalid(.null, let error) = calls[1] {
            #expect(error.code == -32600)
        } else {
            Issue.record("1 is invalid")
        }
        if case .invalid(_, let error) = calls[2] {
            #expect(error.code == -32600)
        } else {
            Issue.record("{} is invalid")
        }
    }

    @Test func typedParamsAreDecodedOrNamed() {
        let body = Data(#"{"jsonrpc":"2.0","id":1,"method":"parameter.get","params":{"kee":"x"}}"#.utf8)
        guard case .failure(let error) = RPCMessageParser.params(ParameterKey.self, from: body) else {
            Issue.record("decoded bad params")
            return
        }
        #expect(error.code == -32602)
        #expect(error.message.contains("key"))
        let absent = Data(#"{"jsonrpc":"2.0","id":1,"method":"cloudlet.list"}"#.utf8)
        #expect((try? RPCMessageParser.params(NoParams.self, from: absent).get()) == NoParams())
    }

    @Test func responsesCarryResultOrErrorAndTheId() throws {
        let ok = try JSONEncoder().encode(RPCResponse(id: .int(7), outcome: .success(NoParams())))
        let decoded = try JSONDecoder().decode(RPCIncoming<NoParams>.self, from: ok)
        #expect(decoded.id == .int(7))
        #expect(decoded.result == NoParams())
        let failed = try JSONEncoder().encode(
            RPCResponse<NoParams>(
                id: .string("x"),
                outcome: .failure(RPCErrorObject(NephoError(.notFound, "gone", details: ["a"])))))
        let error = try JSONDecoder().decode(RPCIncoming<NoParams>.self, from: failed)
        #expect(error.error?.nephoError == NephoError(.notFound, "gone", details: ["a"]))
    }

    @Test func theProviderContextNeverPrintsValues() {
        let context = ProviderContext.capture(from: [
            "AWS_SECRET_ACCESS_KEY": "s3cr3t", "AWS_REGION": "eu-west-1", "HOME": "/root", "EDITOR": "vi",
        ])
        // HOME travels (issue 14, item 7: the AWS shared files are under the client's HOME).
        #expect(context.environment.keys.sorted() == ["AWS_REGION", "AWS_SECRET_ACCESS_KEY", "HOME"])
        #expect(!"\(context)".contains("s3cr3t"))
    }

    @Test func theClientsSSHAgentAndProxiesTravelAndReplaceTheDaemons() {
        let context = ProviderContext.capture(from: [
            "SSH_AUTH_SOCK": "/run/user/1000/agent", "https_proxy": "http://proxy:3128", "PATH": "/bin",
        ])
        // PATH travels too, for Vagrant builds (finding vagrant), but is not overlaid.
        #expect(context.environment.keys.sorted() == ["PATH", "SSH_AUTH_SOCK", "https_proxy"])
        let daemon = ["PATH": "/usr/bin", "SSH_AUTH_SOCK": "/tmp/daemon-agent", "http_proxy": "http://old"]
        let merged = context.overlaying(daemon)
        #expect(
            merged == [
                "PATH": "/usr/bin", "SSH_AUTH_SOCK": "/run/user/1000/agent",
                "https_proxy": "http://proxy:3128",
            ])
    }
}

@Suite struct OrderedJSONTests {
    struct Holder: Decodable { var result: Inner }
    struct Inner: Decodable { var configuration: JSONValue }

    @Test func jsonValueObjectsKeepTheirKeyOrderThroughTheWire() throws {
        let keys = (0..<40).map { "key\($0)" }.shuffled()
        let object = keys.map { "\"\($0)\":{\"z\":1,\"a\":[true,null,\"x\\n\"]}" }.joined(separator: ",")
        let data = Data(#"{"id":1,"result":{"configuration":{\#(object)}}}"#.utf8)
        let decoded = try OrderedJSONSource.decoder(for: data).decode(Holder.self, from: data)
        guard case .object(let pairs) = decoded.result.configuration else {
            Issue.record("not an object")
            return
        }
        #expect(pairs.map(\.0) == keys)
        #expect(
            pairs.first?.1
                == .object([("z", .number(1)), ("a", .array([.bool(true), .null, .string("x\n")]))]))
    }
}

@Suite struct OrderedJSONSinkTests {
    @Test func encodingKeepsTheOrderAndDecodingReadsItBack() throws {
        let keys = (0..<30).map { "k\($0)" }.shuffled()
        let configuration = JSONValue.object(
            keys.map { ($0, .array([.number(1.5), .string("a/b\"c"), .object([])])) })
        let data = try OrderedJSONSink.encode(
            RPCResponse(id: .int(1), outcome: .success(["configuration": configuration])))
        let decoded = try OrderedJSONSource.decoder(for: data).decode(
            RPCIncoming<[String: JSONValue]>.self, from: data)
        #expect(decoded.result?["configuration"] == configuration)
        #expect(try JSONSerialization.jsonObject(with: data) is [String: Any], "still valid JSON")
    }
}

@Suite struct FastEnvelopeTests {
    @Test func requestsAreTheSameJSONAsTheCoderWrites() throws {
        let line = try FastEnvelope.request(id: 7, method: "parameter.get", params: ParameterKey(key: "a\"b"))
        #expect(line.last == 10)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(line.dropLast())) as? [String: Any])
        #expect(object["jsonrpc"] as? String == "2.0")
        #expect(object["id"] as? Int == 7)
        #expect((object["params"] as? [String: Any])?["key"] as? String == "a\"b")
        let notification = try FastEnvelope.request(id: nil, method: "daemon.ping", params: NoParams())
        #expect(
            String(decoding: notification, as: UTF8.self)
                == #"{"jsonrpc":"2.0","method":"daemon.ping","params":{}}"# + "\n")
    }

    @Test func responsesEchoEveryKindOfId() throws {
        for id in [RPCID.int(-3), .string("x\"y\\"), .null, .double(1.5)] {
            let line = try FastEnvelope.success(id: id, result: UserParameter(key: "k", value: "v"))
            let decoded = try JSONDecoder().decode(RPCIncoming<UserParameter>.self, from: Data(line))
            #expect((decoded.id ?? .null) == id, "JSONDecoder reads id null as an absent id")
            #expect(decoded.result == UserParameter(key: "k", value: "v"))
            #expect(FastEnvelope.reply(line)?.id == id)
        }
    }

    @Test func errorRepliesAreReadWithTheirDetails() throws {
        let line = try JSONEncoder().encode(
            RPCResponse<NoParams>(
                id: .int(2),
                outcome: .failure(RPCErrorObject(NephoError(.notFound, "gone", details: ["a", "b"])))))
        let reply = try #require(FastEnvelope.reply(Array(line)))
        #expect(reply.id == .int(2))
        #expect(reply.error?.nephoError == NephoError(.notFound, "gone", details: ["a", "b"]))
        #expect(!reply.hasResult)
    }
}
