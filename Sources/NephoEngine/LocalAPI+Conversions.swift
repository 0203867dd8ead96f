import Foundation
import NephoCore
import NephoProtocol
import NephoSupport

/// Runs `body`, turning the lower layers' errors into `NephoError`s for the wire.
func translatingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as NephoError {
        throw error
    } catch let error as CloudletError {
        let code: NephoError.Code
        switch error.kind {
        case .notFound: code = .notFound
        case .invalid: code = .invalidInput
        case .conflict: code = .conflict
        case .io: code = .internalError
        }
        throw NephoError(code, error.message, details: error.problems.map(\.description))
    } catch let error as YAMLError {
        throw NephoError(.invalidInput, error.description)
    } catch let error as ParameterError {
        let code: NephoError.Code =
            error.message.hasPrefix("missing") ? .missingParameters : .invalidInput
        throw NephoError(code, error.message, details: error.details)
    } catch let error as FileWriteError {
        throw NephoError(.internalError, error.message)
    } catch {
        throw NephoError(.internalError, "\(error)")
    }
}

extension LocalAPI {
    /// What a secret's value shows as anywhere outside the provider call.
    static let mask = FormationLifecycle.mask

    static func wire(_ value: ResolvedValue) -> ResolvedParameter {
        ResolvedParameter(
            name: value.name, value: value.secret && value.value != nil ? mask : value.value,
            layer: value.source.map(layer), description: value.description,
            defaultValue: value.secret && value.defaultValue != nil ? mask : value.defaultValue,
            allowedValues: value.allowedValues, required: value.required, secret: value.secret)
    }

    static func layer(_ source: ParameterSource) -> ParameterLayer {
        switch source {
        case .template: return .template
        case .cloudlet: return .cloudlet
        case .scenario: return .scenario
        case .user: return .user
        case .commandLine: return .commandLine
        case .prompt: return .prompt
        }
    }

    /// The scenario document with its `parameters` replaced by the merged values.
    static func configuration(_ document: YAMLNode, parameters: [ResolvedParameter]) -> JSONValue {
        guard case .object(var pairs) = json(document) else { return json(document) }
        let merged = JSONValue.object(parameters.map { ($0.name, $0.value.map(JSONValue.string) ?? .null) })
        if let index = pairs.firstIndex(where: { $0.0 == "parameters" }) {
            pairs[index].1 = merged
        } else {
            pairs.append(("parameters", merged))
        }
        return .object(pairs)
    }

    /// A YAML tree as JSON, scalars typed by the core schema.
    static func json(_ node: YAMLNode) -> JSONValue {
        switch node.kind {
        case .sequence(let items): return .array(items.map(json))
        case .mapping(let pairs): return .object(pairs.map { ($0.key.scalar ?? "", json($0.value)) })
        case .scalar(let text, _):
            switch node.resolved {
            case .null: return .null
            case .bool(let flag): return .bool(flag)
            case .int(let number): return .number(Double(number))
            case .float(let number) where number.isFinite: return .number(number)
            default: return .string(text)
            }
        }
    }
}
