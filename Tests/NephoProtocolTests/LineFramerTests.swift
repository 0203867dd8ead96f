import NephoProtocol
import Testing

@Suite struct LineFramerTests {
    @Test func splitsLinesArrivingOneByteAtATime() {
        var framer = LineFramer(maximumLineLength: 100)
        var items: [LineFramer.Item] = []
        for byte in Array("{\"a\":1}\n{\"b\":2}\r\n".utf8) { items += framer.append([byte]) }
        #expect(items == [.line(Array("{\"a\":1}".utf8)), .line(Array("{\"b\":2}".utf8))])
        #expect(!framer.hasPartialLine)
    }

    @Test func refusesALineOverTheLimitAndGoesOn() {
        var framer = LineFramer(maximumLineLength: 10)
        var items = framer.append(Array(repeating: UInt8(ascii: "x"), count: 25))
        #expect(items.isEmpty)
        #expect(framer.bufferedCount == 0, "an oversize line is not held in memory")
        items = framer.append(Array("xx\nok\n".utf8))
        #expect(items == [.tooLong(length: 27), .line(Array("ok".utf8))])
    }

    @Test func aLineOfExactlyTheLimitIsAccepted() {
        var framer = LineFramer(maximumLineLength: 3)
        #expect(framer.append(Array("abc\nabcd\n".utf8)) == [.line(Array("abc".utf8)), .tooLong(length: 4)])
    }

    @Test func reportsAHalfMessage() {
        var framer = LineFramer()
        #expect(framer.append(Array("{\"jsonrpc\":".utf8)).isEmpty)
        #expect(framer.hasPartialLine)
    }
}
