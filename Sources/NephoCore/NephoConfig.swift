import Foundation
import NephoSupport

/// `$NEPHO_HOME/config.yaml`: extra cloudlet directories (`cloudlet_dirs`) and whatever
/// other sections later features keep there. Writing replaces one section and keeps
/// the others (comments are not kept).
public struct NephoConfig: Sendable {
    public let file: URL
    /// The document as read; an empty mapping when the file does not exist.
    public private(set) var document: YAMLNode

    public static let cloudletDirsKey = "cloudlet_dirs"

    /// Reads `file`; a missing file is an empty configuration.
    public init(file: URL) throws {
        self.file = file
        guard FileManager.default.fileExists(atPath: file.path) else {
            document = YAMLNode(.mapping([]))
            return
        }
        let root = try YAMLParser().parseFile(file)
        if root.isNull {
            document = YAMLNode(.mapping([]))
        } else if root.mapping != nil {
            document = root
        } else {
            throw YAMLError(
                file: file.path, mark: root.mark,
                message: "the configuration must be a mapping, found \(root.kindDescription)")
        }
    }

    /// Extra cloudlet directories, in order.
    public func cloudletDirectories() throws -> [String] {
        guard let node = document[Self.cloudletDirsKey], !node.isNull else { return [] }
        guard let items = node.sequence else {
            throw YAMLError(
                file: file.path, mark: node.mark,
                message: "\"\(Self.cloudletDirsKey)\" must be a list of folders")
        }
        return try items.map { item in
            guard let path = item.scalar, !path.isEmpty else {
                throw YAMLError(
                    file: file.path, mark: item.mark, message: "each cloudlet directory must be a path")
            }
            return path
        }
    }

    /// The value of a top-level section.
    public subscript(key: String) -> YAMLNode? { document[key] }

    /// Replaces (or, with nil, removes) a top-level section.
    public mutating func set(_ key: String, _ value: YAMLNode?) {
        var pairs = document.mapping ?? []
        if let index = pairs.firstIndex(where: { $0.key.scalar == key }) {
            if let value { pairs[index].value = value } else { pairs.remove(at: index) }
        } else if let value {
            pairs.append(YAMLPair(key: .string(key), value: value))
        }
        document.kind = .mapping(pairs)
    }

    /// Writes the configuration atomically.
    public func save() throws {
        try AtomicFile.write(Data(try YAMLEmitter.emit(document).utf8), to: file, mode: 0o644)
    }
}
