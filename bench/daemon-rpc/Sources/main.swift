// nepho-bench-rpc: round-trip timings for bench/daemon-rpc/run.
//   nepho-bench-rpc rpc COUNT                  daemon.ping through DaemonClient (env picks the daemon)
//   nepho-bench-rpc echo-server SOCKET         a bare line echo server on a Unix socket
//   nepho-bench-rpc echo-client SOCKET COUNT   the same round trips against the echo server
//   nepho-bench-rpc codec COUNT                the JSON work of one round trip, without sockets
//   nepho-bench-rpc rpc-remote URL COUNT       connect (ssh + nephod stdio + handshake), then daemon.ping
//                                              and parameter.list through ssh (NEPHO_SSH_COMMAND picks ssh)
import Foundation
import NephoClient
import NephoProtocol
import NephoSupport

#if canImport(Glibc)
    import Glibc
#endif

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

func report(_ label: String, _ samples: [UInt64]) {
    let sorted = samples.sorted()
    func percentile(_ p: Double) -> Double {
        Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1000
    }
    let mean = Double(samples.reduce(0, +)) / Double(samples.count) / 1000
    print(
        String(
            format: "%-34@ n=%d  p50=%7.1f µs  p99=%7.1f µs  mean=%7.1f µs", label as NSString, samples.count,
            percentile(0.50), percentile(0.99), mean))
}

/// The request line DaemonClient sends for daemon.ping, to echo the same number of bytes.
let pingLine = Array(#"{"id":1000,"jsonrpc":"2.0","method":"daemon.ping","params":{}}"#.utf8) + [10]

let arguments = Array(CommandLine.arguments.dropFirst())
signal(SIGPIPE, SIG_IGN)
switch arguments.first {
case "rpc":
    let count = Int(arguments[1]) ?? 10_000
    let client = DaemonClient(autoStart: false)
    try client.connect()
    for _ in 0..<200 { _ = try client.request(DaemonRPC.ping, NoParams()) }  // warm up
    var samples: [UInt64] = []
    samples.reserveCapacity(count)
    for _ in 0..<count {
        let start = now()
        _ = try client.request(DaemonRPC.ping, NoParams())
        samples.append(now() - start)
    }
    report("nephod daemon.ping (JSON-RPC)", samples)
    var engine: [UInt64] = []
    for _ in 0..<min(count, 2000) {
        let start = now()
        _ = try client.request(API.parameterList, NoParams())
        engine.append(now() - start)
    }
    report("nephod parameter.list (engine)", engine)

case "rpc-remote":
    let host = try RemoteHost.parse(arguments[1])
    let count = Int(arguments[2]) ?? 1000
    var connects: [UInt64] = []
    for _ in 0..<20 {
        let client = DaemonClient(autoStart: false, host: host)
        let start = now()
        try client.connect()
        connects.append(now() - start)
        client.close()
    }
    report("connect: ssh + nephod stdio + handshake", connects)
    let client = DaemonClient(autoStart: false, host: host)
    try client.connect()
    for _ in 0..<100 { _ = try client.request(DaemonRPC.ping, NoParams()) }  // warm up
    var samples: [UInt64] = []
    for _ in 0..<count {
        let start = now()
        _ = try client.request(DaemonRPC.ping, NoParams())
        samples.append(now() - start)
    }
    report("daemon.ping through ssh", samples)
    var engine: [UInt64] = []
    for _ in 0..<min(count, 1000) {
        let start = now()
        _ = try client.request(API.parameterList, NoParams())
        engine.append(now() - start)
    }
    report("parameter.list through ssh", engine)

case "codec":
    // Where a round trip's time goes: the JSON work of each side, without sockets.
    let count = Int(arguments[1]) ?? 10_000
    var encodeRequest: [UInt8] = []
    var samples: [[UInt64]] = [[], [], [], []]
    for _ in 0..<count {
        var start = now()
        encodeRequest = try FastEnvelope.request(id: 1, method: "daemon.ping", params: NoParams())
        samples[0].append(now() - start)
        start = now()
        guard case .single(.request(_, let body)) = RPCMessageParser.parse(encodeRequest) else { exit(1) }
        _ = try RPCMessageParser.params(NoParams.self, from: body).get()
        samples[1].append(now() - start)
        start = now()
        let response = try FastEnvelope.success(id: .int(1), result: NoParams())
        samples[2].append(now() - start)
        start = now()
        _ = FastEnvelope.reply(response)
        samples[3].append(now() - start)
    }
    report("client: encode request", samples[0])
    report("daemon: parse request + params", samples[1])
    report("daemon: encode response", samples[2])
    report("client: decode response", samples[3])

case "echo-server":
    let listener = try UnixSocket.listen(path: arguments[1])
    while let fd = UnixSocket.accept(listener) {
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { UnixSocket.receive(fd, into: $0) }
                if n <= 0 { break }
                _ = buffer.withUnsafeBytes {
                    UnixSocket.send(fd, UnsafeRawBufferPointer(rebasing: $0[0..<n]))
                }
            }
            close(fd)
        }
    }

case "echo-client":
    let count = Int(arguments[2]) ?? 10_000
    let fd = try UnixSocket.connect(path: arguments[1])
    var buffer = [UInt8](repeating: 0, count: 65536)
    func roundTrip() {
        UnixSocket.send(fd, pingLine)
        var received = 0
        while received < pingLine.count {
            let n = buffer.withUnsafeMutableBytes { UnixSocket.receive(fd, into: $0) }
            if n <= 0 { exit(1) }
            received += n
        }
    }
    for _ in 0..<200 { roundTrip() }
    var samples: [UInt64] = []
    samples.reserveCapacity(count)
    for _ in 0..<count {
        let start = now()
        roundTrip()
        samples.append(now() - start)
    }
    report("bare Unix-socket echo (same bytes)", samples)

default:
    print(
        "usage: nepho-bench-rpc rpc COUNT | rpc-remote URL COUNT | echo-server SOCKET | echo-client SOCKET COUNT"
    )
    exit(64)
}
