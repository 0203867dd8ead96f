import Foundation
import NephoSupport

/// The user layer of parameters, `$NEPHO_HOME/params.yaml`: a flat mapping of
/// parameter names to values, written with mode 0600 because it may hold secrets.
public struct UserParameters: Sendable {
    public let file: URL
    /// In file order.
    public private(set) var values: [(key: String, value: String)]

    public init(file: URL) throws {
        self.file = file
        values = []
        guard FileManager.default.fileExists(atPath: file.path) else { return }
        let root = try YAMLParser().parseFile(file)
        if root.isNull { return }
        guard let pairs = root.mapping else {
            throw YAMLError(
                file: file.path, mark: root.mark,
                message: "params.yaml must map parameter names to values, found \(root.kindDescription)")
        }
        for pair in pairs {
            guard let key = pair.key.scalar else {
                throw YAMLError(file: file.path, mark: pair.key.mark, message: "parameter names must be text")
            }
            var reader = FieldReader(file: file.path)
            guard
                let value = ParameterSpec.scalarText(pair.value, reader: &reader, what: "the value of \(key)")
            else {
                let problem = reader.problems.first!
                throw YAMLError(file: file.path, mark: problem.mark, message: problem.message)
            }
            values.append((key, value))
        }
    }

    public var dictionary: [String: String] {
        Dictionary(values.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    public subscript(key: String) -> String? { values.first { $0.key == key }?.value }

    public mutating func set(_ key: String, _ value: String) {
        if let index = values.firstIndex(where: { $0.key == key }) {
            values[index].value = value
        } else {
            values.append((key, value))
        }
    }

    /// Removes `key`; false when it was not set.
    @discardableResult
    public mutating func unset(_ key: String) -> Bool {
        guard let index = values.firstIndex(where: { $0.key == key }) else { return false }
        values.remove(at: index)
        return true
    }

    /// Writes the file; refuses one larger than nepho reads back (`YAMLParser`'s limit),
    /// which would make every later command fail, and leaves the old file as it was.
    public func save() throws {
        let node = YAMLNode(
            .mapping(values.map { YAMLPair(key: .string($0.key), value: .string($0.value)) }))
        let data = Data(try YAMLEmitter.emit(node).utf8)
        let limit = YAMLParser.Limits().maxBytes
        guard data.count <= limit else {
            throw ParameterError(
                message:
                    "\(file.path) would be \(data.count) bytes, over the \(limit) bytes nepho reads: not written",
                details: [])
        }
        try AtomicFile.write(data, to: file, mode: 0o600)
    }

    /// Parameter names: letters, digits, `_`, `-`, `.`.
    public static func keyProblem(_ key: String) -> String? {
        if key.isEmpty { return "a parameter name must not be empty" }
        if !key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }) {
            return "parameter name \"\(key)\" may use only letters, digits, \"_\", \"-\" and \".\""
        }
        return nil
    }
}
