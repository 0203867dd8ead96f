import CYAML
import Foundation

/// Writes `YAMLNode` trees as YAML text through libyaml's emitter.
///
/// Strings that would read back as another type (`"true"`, `"42"`, `""`) are quoted,
/// multi-line strings use the literal block style, and tags such as `!Ref` are kept.
public enum YAMLEmitter {
    public static func emit(_ node: YAMLNode) throws -> String {
        var emitter = yaml_emitter_t()
        guard yaml_emitter_initialize(&emitter) == 1 else { throw emitError("out of memory") }
        defer { yaml_emitter_delete(&emitter) }
        let sink = Sink()
        let context = Unmanaged.passUnretained(sink).toOpaque()
        yaml_emitter_set_output(
            &emitter,
            { context, buffer, size in
                let sink = Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue()
                sink.data.append(buffer!, count: size)
                return 1
            }, context)
        yaml_emitter_set_unicode(&emitter, 1)
        yaml_emitter_set_width(&emitter, 120)
        yaml_emitter_set_indent(&emitter, 2)

        var event = yaml_event_t()
        yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING)
        try send(&emitter, &event)
        yaml_document_start_event_initialize(&event, nil, nil, nil, 1)
        try send(&emitter, &event)
        try emitNode(node, &emitter)
        yaml_document_end_event_initialize(&event, 1)
        try send(&emitter, &event)
        yaml_stream_end_event_initialize(&event)
        try send(&emitter, &event)
        return String(decoding: sink.data, as: UTF8.self)
    }

    private final class Sink {
        var data = Data()
    }

    private static func emitNode(_ node: YAMLNode, _ emitter: inout yaml_emitter_t) throws {
        var event = yaml_event_t()
        let tag = node.tag
        switch node.kind {
        case .scalar(let text, let requested):
            let style = scalarStyle(text, requested: requested, tag: tag)
            let plainImplicit: Int32 = tag == nil ? 1 : 0
            let quotedImplicit: Int32 = tag == nil ? 1 : 0
            let ok = withOptionalCString(tag) { tagPointer in
                text.withCString { value in
                    yaml_scalar_event_initialize(
                        &event, nil, tagPointer,
                        UnsafeMutableRawPointer(mutating: value).assumingMemoryBound(to: UInt8.self),
                        Int32(text.utf8.count), plainImplicit, quotedImplicit, style)
                }
            }
            guard ok == 1 else { throw emitError("cannot emit scalar") }
            try send(&emitter, &event)
        case .sequence(let items):
            let ok = withOptionalCString(tag) { tagPointer in
                yaml_sequence_start_event_initialize(
                    &event, nil, tagPointer, tag == nil ? 1 : 0,
                    items.isEmpty ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE)
            }
            guard ok == 1 else { throw emitError("cannot emit sequence") }
            try send(&emitter, &event)
            for item in items { try emitNode(item, &emitter) }
            yaml_sequence_end_event_initialize(&event)
            try send(&emitter, &event)
        case .mapping(let pairs):
            let ok = withOptionalCString(tag) { tagPointer in
                yaml_mapping_start_event_initialize(
                    &event, nil, tagPointer, tag == nil ? 1 : 0,
                    pairs.isEmpty ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE)
            }
            guard ok == 1 else { throw emitError("cannot emit mapping") }
            try send(&emitter, &event)
            for pair in pairs {
                try emitNode(pair.key, &emitter)
                try emitNode(pair.value, &emitter)
            }
            yaml_mapping_end_event_initialize(&event)
            try send(&emitter, &event)
        }
    }

    /// Keeps the node's style; multi-line text uses the literal block style. libyaml
    /// itself falls back to quoting where a plain scalar cannot hold the text.
    private static func scalarStyle(_ text: String, requested: YAMLNode.ScalarStyle, tag: String?)
        -> yaml_scalar_style_t
    {
        switch requested {
        case .singleQuoted: return YAML_SINGLE_QUOTED_SCALAR_STYLE
        case .doubleQuoted: return YAML_DOUBLE_QUOTED_SCALAR_STYLE
        case .literal, .folded, .plain:
            if text.contains("\n") { return YAML_LITERAL_SCALAR_STYLE }
            return requested == .plain ? YAML_PLAIN_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE
        }
    }

    private static func send(_ emitter: inout yaml_emitter_t, _ event: inout yaml_event_t) throws {
        guard yaml_emitter_emit(&emitter, &event) == 1 else {
            throw emitError(emitter.problem.map { String(cString: $0) } ?? "cannot emit YAML")
        }
    }

    private static func emitError(_ message: String) -> YAMLError {
        YAMLError(file: nil, mark: YAMLMark(line: 0, column: 0), message: message)
    }
}

private func withOptionalCString<R>(_ string: String?, _ body: (UnsafeMutablePointer<UInt8>?) -> R) -> R {
    guard let string else { return body(nil) }
    return string.withCString {
        body(UnsafeMutableRawPointer(mutating: $0).assumingMemoryBound(to: UInt8.self))
    }
}
