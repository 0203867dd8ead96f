import Foundation
import Logging
import NephoProtocol

/// Maps each wire method name to its handler: every method of `API` goes to the engine
/// (a `NephoService`) with the provider context of the connection's handshake, every
/// stream of `API` too (its items sent as notifications); the daemon's own methods
/// (handshake, status, stop) are added by `DaemonServer`.
final class Router: @unchecked Sendable {
    /// What a handler produced: a result to encode or an error, plus work to do once the
    /// response is written (`afterWrite`) or queued (`afterQueue`).
    struct Reply: Sendable {
        var outcome: Result<AnyResult, RPCErrorObject>
        var afterQueue: (@Sendable () -> Void)? = nil
        var afterWrite: (@Sendable () -> Void)? = nil
    }
    typealias Handler = @Sendable (Data, Connection) async -> Reply

    private var handlers: [String: Handler] = [:]
    private let logger: Logger
    private let streamCounter = StreamCounter()

    /// Seconds between keep-alives while a request is answered or a stream is open.
    private let keepAliveInterval: Double
    /// The longest reply line, the same limit requests have.
    private let replyLimit: Int

    init(engine: any NephoService, keepAliveInterval: Double = 5, replyLimit: Int = 4 << 20, logger: Logger) {
        self.logger = logger
        self.keepAliveInterval = keepAliveInterval
        self.replyLimit = replyLimit
        defer { registerStreams(engine: engine) }
        for method in API.all {
            handlers[method.name] = { body, connection in
                do {
                    let result = try await method.serve(
                        engine, body: body, context: connection.handshake?.context)
                    return Reply(outcome: .success(AnyResult(result)))
                } catch {
                    return Reply(
                        outcome: .failure(Self.wireError(error, method: method.name, logger: logger)))
                }
            }
        }
    }

    /// Streams: the answer names the stream; once it is queued, a task sends each item as
    /// a `stream.item` notification and then `stream.end`. A connection that closes (or is
    /// cut off for not reading) ends its streams.
    private func registerStreams(engine: any NephoService) {
        let logger = self.logger
        let counter = streamCounter
        let interval = keepAliveInterval
        for stream in API.streams {
            handlers[stream.name] = { body, connection in
                do {
                    let items = try stream.open(engine, body: body, context: connection.handshake?.context)
                    let id = counter.next()
                    return Reply(
                        outcome: .success(AnyResult(StreamStarted(stream: id))),
                        afterQueue: {
                            Task {
                                await Self.pump(
                                    items, id: id, name: stream.name, to: connection, keepAlive: interval,
                                    logger: logger)
                            }
                        })
                } catch {
                    return Reply(
                        outcome: .failure(Self.wireError(error, method: stream.name, logger: logger)))
                }
            }
        }
    }

    private static func pump(
        _ items: AsyncThrowingStream<any Encodable & Sendable, Error>, id: Int, name: String,
        to connection: Connection, keepAlive interval: Double, logger: Logger
    ) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var failure: RPCErrorObject?
                do {
                    for try await item in items {
                        guard !connection.isClosed else { return }
                        let line = try OrderedJSONSink.encode(
                            Notification(
                                method: DaemonRPC.streamItem, params: AnyStreamItem(stream: id, item: item)))
                        connection.send(Array(line))
                    }
                } catch is CancellationError {
                    return
                } catch {
                    failure = wireError(error, method: name, logger: logger)
                }
                guard !connection.isClosed,
                    let line = try? OrderedJSONSink.encode(
                        Notification(
                            method: DaemonRPC.streamEnd, params: StreamEnd(stream: id, error: failure)))
                else { return }
                connection.send(Array(line))
            }
            // A keep-alive now and then tells the client a quiet stream is not a stuck daemon.
            let keepAlive = Self.keepAliveTimer(every: interval, on: connection)
            defer { keepAlive.cancel() }
            group.addTask {
                // The client left: end the stream (the engine stops following).
                while !connection.isClosed && !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: 250_000_000)
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Runs `body`, sending a keep-alive every `keepAliveInterval` seconds until it ends:
    /// a request that takes minutes (a clone, CloudFormation retrying) is not a stuck daemon.
    private func keepingAlive<T: Sendable>(_ connection: Connection, _ body: @Sendable () async -> T) async
        -> T
    {
        let ticker = Self.keepAliveTimer(every: keepAliveInterval, on: connection)
        defer { ticker.cancel() }
        // What the request has to say while it runs (AWS throttling, …) goes out at once.
        let notices = RequestNotices { line in
            guard !connection.isClosed,
                let params = try? JSONEncoder().encode(KeepAliveParams(notice: line)),
                let text = String(data: params, encoding: .utf8)
            else { return }
            connection.send(
                Array(#"{"jsonrpc":"2.0","method":"\#(DaemonRPC.keepAlive)","params":\#(text)}"#.utf8))
        }
        return await RequestNotices.$current.withValue(notices) { await body() }
    }

    /// Sends a keep-alive on `connection` every `interval` seconds until cancelled: a
    /// dispatch timer, so that a busy pool of tasks cannot hold the keep-alives back.
    static func keepAliveTimer(every interval: Double, on connection: Connection) -> DispatchSourceTimer {
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler {
            guard !connection.isClosed else { return }
            connection.send(Array(#"{"jsonrpc":"2.0","method":"\#(DaemonRPC.keepAlive)"}"#.utf8))
        }
        timer.resume()
        return timer
    }

    /// Every method name the router answers.
    var methodNames: [String] { handlers.keys.sorted() }

    /// Adds a daemon method; `body` may throw `NephoError`.
    func register<Params, Result>(
        _ method: DaemonMethod<Params, Result>,
        _ body: @escaping @Sendable (Params, Connection) async throws -> Reply
    ) {
        let logger = self.logger
        handlers[method.name] = { data, connection in
            switch RPCMessageParser.params(Params.self, from: data) {
            case .failure(let error): return Reply(outcome: .failure(error))
            case .success(let params):
                do { return try await body(params, connection) } catch {
                    return Reply(
                        outcome: .failure(Self.wireError(error, method: method.name, logger: logger)))
                }
            }
        }
    }

    static func wireError(_ error: Error, method: String, logger: Logger) -> RPCErrorObject {
        if let error = error as? NephoError { return RPCErrorObject(error) }
        if let error = error as? RPCErrorObject { return error }
        logger.error("\(method) failed unexpectedly: \(error)")
        return RPCErrorObject(NephoError(.internalError, "nephod failed to run \(method): \(error)"))
    }

    /// Answers one received line on `connection`.
    func handle(_ item: LineFramer.Item, on connection: Connection, maximumLineLength: Int) async {
        switch item {
        case .tooLong(let length):
            logger.warning("refused a message of \(length) bytes (the maximum is \(maximumLineLength))")
            send(
                [
                    encode(
                        id: .null,
                        .failure(
                            .invalidRequest(
                                "message of \(length) bytes exceeds the maximum line size of \(maximumLineLength) bytes"
                            )))
                ],
                batch: false, on: connection, replies: [])
        case .line(let bytes):
            switch RPCMessageParser.parse(bytes) {
            case .empty: return
            case .failure(let error):
                send([encode(id: .null, .failure(error))], batch: false, on: connection, replies: [])
            case .single(let call):
                let (line, reply) = await keepingAlive(connection) { await self.answer(call, on: connection) }
                send(line.map { [$0] } ?? [], batch: false, on: connection, replies: reply.map { [$0] } ?? [])
            case .batch(let calls):
                var lines: [[UInt8]] = []
                var replies: [Reply] = []
                for call in calls {
                    let (line, reply) = await keepingAlive(connection) {
                        await self.answer(call, on: connection)
                    }
                    if let line { lines.append(line) }
                    if let reply { replies.append(reply) }
                }
                send(lines, batch: true, on: connection, replies: replies)
            }
        }
    }

    private func send(_ objects: [[UInt8]], batch: Bool, on connection: Connection, replies: [Reply]) {
        let afterWrites = replies.compactMap(\.afterWrite)
        if !objects.isEmpty {
            var line: [UInt8]
            if batch {
                line = [UInt8(ascii: "[")]
                for (index, object) in objects.enumerated() {
                    if index > 0 { line.append(UInt8(ascii: ",")) }
                    line.append(contentsOf: object)
                }
                line.append(UInt8(ascii: "]"))
            } else {
                line = objects[0]
            }
            var afterWrite: (@Sendable () -> Void)? = nil
            if !afterWrites.isEmpty {
                afterWrite = { for work in afterWrites { work() } }
            }
            connection.send(line, afterWrite: afterWrite)
        } else {
            for work in afterWrites { work() }
        }
        for case let work? in replies.map(\.afterQueue) { work() }
    }

    /// Runs one call; returns its encoded response (nil for a notification) and its reply.
    private func answer(_ call: RPCCall, on connection: Connection) async -> ([UInt8]?, Reply?) {
        switch call {
        case .invalid(let id, let error):
            return (encode(id: id, .failure(error)), nil)
        case .request(let header, let body):
            let method = header.method ?? ""
            let reply: Reply
            if header.paramsKind == .array {
                reply = Reply(
                    outcome: .failure(.invalidParams("nepho's methods take params by name (an object)")))
            } else if let handler = handlers[method] {
                if connection.handshake == nil && method != DaemonRPC.handshake.name {
                    reply = Reply(
                        outcome: .failure(
                            RPCErrorObject(
                                NephoError(
                                    .handshakeRequired,
                                    "call \(DaemonRPC.handshake.name) first on every connection"))))
                } else {
                    // A request that asked for progress has it sent to its client as it comes.
                    let id = header.id
                    let report: @Sendable (String) -> Void = { text in
                        guard !connection.isClosed,
                            let line = try? OrderedJSONSink.encode(
                                Notification(
                                    method: DaemonRPC.progress, params: ProgressNote(id: id, text: text)))
                        else { return }
                        connection.send(Array(line))
                    }
                    reply = await RequestProgress.$report.withValue(report) {
                        await handler(body, connection)
                    }
                }
            } else {
                reply = Reply(outcome: .failure(.methodNotFound(method)))
            }
            if case .failure(let error) = reply.outcome {
                logger.debug("\(method) answered error \(error.code)")
            } else {
                logger.trace("\(method) answered")
            }
            guard let id = header.id else { return (nil, reply) }  // notifications are never answered
            let line = encode(id: id, reply.outcome)
            // A reply obeys the line limit requests do: one too large is an error that says so.
            guard line.count <= replyLimit else {
                logger.warning(
                    "the reply to \(method) is \(line.count) bytes, over the limit of \(replyLimit)")
                let error = RPCErrorObject(
                    NephoError(
                        .invalidInput,
                        "the reply to \(method) would be \(line.count) bytes, over the line limit of \(replyLimit) bytes; "
                            + "ask for less (docs/protocol.md, Transport)"))
                return (encode(id: id, .failure(error)), Reply(outcome: .failure(error)))
            }
            return (line, reply)
        }
    }

    private func encode(id: RPCID, _ outcome: Result<AnyResult, RPCErrorObject>) -> [UInt8] {
        do {
            if case .success(let result) = outcome {
                return try FastEnvelope.success(id: id, result: result.value)
            }
            return Array(try OrderedJSONSink.encode(RPCResponse(id: id, outcome: outcome)))
        } catch {
            let fallback = RPCResponse<AnyResult>(
                id: id, outcome: .failure(.internalError("cannot encode the result")))
            return Array((try? JSONEncoder().encode(fallback)) ?? Data())
        }
    }
}

/// Any encodable result, boxed so results of different methods share one response type.
struct AnyResult: Encodable, Sendable {
    let value: any Encodable & Sendable
    init(_ value: any Encodable & Sendable) { self.value = value }
    func encode(to encoder: Encoder) throws { try value.encode(to: encoder) }
}

/// Numbers streams across the daemon's connections.
private final class StreamCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var last = 0
    func next() -> Int {
        lock.withLock {
            last += 1
            return last
        }
    }
}

/// A stream item of any type, encoded as `StreamItem` is.
private struct AnyStreamItem: Encodable, Sendable {
    let stream: Int
    let item: any Encodable & Sendable

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(stream, forKey: .stream)
        try container.encode(item, forKey: .item)
    }
    enum Keys: String, CodingKey { case stream, item }
}

/// A JSON-RPC notification whose params need only be encodable.
private struct Notification<Params: Encodable>: Encodable {
    var jsonrpc = "2.0"
    let method: String
    let params: Params

    init(method: String, params: Params) {
        self.method = method
        self.params = params
    }
}
