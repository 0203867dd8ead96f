import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writes settings into an AWS shared file as `aws configure` does: the named section's
/// keys are replaced in place or appended to it, every other line (other profiles,
/// comments) is kept, and the file is replaced atomically with mode 0600 (its folder
/// made 0700 when nepho creates it).
public enum AWSSharedFileWriter {
    /// Sets `values` (in order) in `[section]` of the file at `path`.
    public static func set(_ values: [(key: String, value: String)], section: String, path: String) throws {
        let existing = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let updated = apply(values, section: section, to: existing)
        try write(updated, to: path)
    }

    /// The text of a file after setting `values` in `[section]`.
    public static func apply(_ values: [(key: String, value: String)], section: String, to text: String)
        -> String
    {
        var lines = text.isEmpty ? [] : text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        var remaining = values
        var start: Int?
        var end = lines.count
        for (index, line) in lines.enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("["), trimmed.hasSuffix("]") else { continue }
            let name = trimmed.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
            if start != nil {
                end = index
                break
            }
            if name == section { start = index }
        }
        guard let start else {
            if !lines.isEmpty && lines.last?.isEmpty == false { lines.append("") }
            lines.append("[\(section)]")
            lines += values.map { "\($0.key) = \($0.value)" }
            return lines.joined(separator: "\n") + "\n"
        }
        for index in (start + 1)..<end {
            let line = lines[index]
            guard let equals = line.firstIndex(of: "="), !(line.first == " " || line.first == "\t") else {
                continue
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            if let position = remaining.firstIndex(where: { $0.key == key }) {
                lines[index] = "\(key) = \(remaining[position].value)"
                remaining.remove(at: position)
            }
        }
        // New keys go after the section's last setting, before blank lines that end it.
        var insertAt = end
        while insertAt > start + 1 && lines[insertAt - 1].trimmingCharacters(in: .whitespaces).isEmpty {
            insertAt -= 1
        }
        lines.insert(contentsOf: remaining.map { "\($0.key) = \($0.value)" }, at: insertAt)
        return lines.joined(separator: "\n") + "\n"
    }

    private static func write(_ text: String, to path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty && !FileManager.default.fileExists(atPath: folder) {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let temporary = "\(path).nepho-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw AWSConfigurationError.unreadableFile(
                path: path, reason: "cannot write: \(String(cString: strerror(errno)))")
        }
        fchmod(fd, 0o600)
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw AWSConfigurationError.unreadableFile(path: path, reason: "cannot write: \(reason)")
            }
            offset += written
        }
        fsync(fd)
        close(fd)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw AWSConfigurationError.unreadableFile(path: path, reason: "cannot replace: \(reason)")
        }
    }
}
