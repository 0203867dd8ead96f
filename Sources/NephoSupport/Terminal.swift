import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A terminal to ask a person things on: read a line, with or without echo.
public final class Terminal: @unchecked Sendable {
    public let input: Int32
    public let output: Int32
    private let ownsDescriptors: Bool

    /// Uses the given descriptors (e.g. a pseudo-terminal in a test).
    public init(input: Int32, output: Int32) {
        self.input = input
        self.output = output
        ownsDescriptors = false
    }

    private init(descriptor: Int32) {
        input = descriptor
        output = descriptor
        ownsDescriptors = true
    }

    deinit {
        if ownsDescriptors { close(input) }
    }

    /// The controlling terminal, when standard input is one; nil in scripts and CI.
    public static func interactive() -> Terminal? {
        guard isatty(STDIN_FILENO) == 1 else { return nil }
        let descriptor = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        return Terminal(descriptor: descriptor)
    }

    public func write(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(output, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            bytes = bytes.dropFirst(written)
        }
    }

    /// Shows `prompt` and reads one line without its newline; nil at end of input. With
    /// `echo` false the typed characters are not shown (for secrets): echo is off before
    /// the prompt appears and restored afterwards.
    public func readLine(prompt: String = "", echo: Bool = true) -> String? {
        var saved = termios()
        let canHide = !echo && tcgetattr(input, &saved) == 0
        if canHide {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(input, TCSANOW, &quiet)
        }
        write(prompt)
        defer {
            if canHide {
                tcsetattr(input, TCSANOW, &saved)
                write("\n")
            }
        }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let count = Glibc.read(input, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { break }
            if byte != UInt8(ascii: "\r") { line.append(byte) }
        }
        return String(decoding: line, as: UTF8.self)
    }
}
