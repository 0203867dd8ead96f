/// Text from outside nepho (cloudlet and registry fields, stack event reasons, error
/// messages quoting them) made safe to print on a terminal: control characters other
/// than newline and tab are shown as `^X` / `\u{…}`, so a hostile description cannot move
/// the cursor, retitle the window, write the clipboard or clear the screen. The escape
/// sequences nepho adds itself (colours: `ESC [ digits m`) are kept, and only those.
enum TerminalText {
    static func safe(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = String.UnicodeScalarView()
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "\u{1B}", let end = colourEnd(scalars, from: index) {
                out.append(contentsOf: scalars[index...end])
                index = end + 1
                continue
            }
            if isControl(scalar) {
                if scalar.value < 0x20 {
                    out.append("^")
                    out.append(Unicode.Scalar(UInt8(scalar.value + 0x40)))
                } else {
                    out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
                }
            } else {
                out.append(scalar)
            }
            index += 1
        }
        return String(out)
    }

    /// C0 controls but newline and tab, DEL, and C1 controls.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return (value < 0x20 && value != 0x0A && value != 0x09) || value == 0x7F
            || (0x80...0x9F).contains(value)
    }

    /// The last index of a colour sequence (`ESC [ 0-9;… m`) starting at `start`, if it is one.
    private static func colourEnd(_ scalars: [Unicode.Scalar], from start: Int) -> Int? {
        guard start + 2 < scalars.count, scalars[start + 1] == "[" else { return nil }
        var index = start + 2
        while index < scalars.count, index - start < 16 {
            let scalar = scalars[index]
            if scalar == "m" { return index }
            guard ("0"..."9").contains(scalar) || scalar == ";" else { return nil }
            index += 1
        }
        return nil
    }
}
