import ArgumentParser
import NephoProtocol

extension Nepho {
    struct ParameterList: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "parameter:list", abstract: "List your parameter values ($NEPHO_HOME/params.yaml).")

        @OptionGroup var global: GlobalOptions

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let result = try await api.call(API.parameterList, NoParams())
            try renderer.emit(result) { out in
                if result.parameters.isEmpty {
                    out.line(out.dim("no parameters set in \(result.path)"))
                }
                out.table(result.parameters.map { [$0.key, $0.value] })
            }
        }
    }

    struct ParameterGet: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "parameter:get", abstract: "Print one of your parameter values.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The parameter's name.", completion: .custom(Completions.parameters)) var key: String

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let parameter = try await api.call(API.parameterGet, ParameterKey(key: key))
            try renderer.emit(parameter) { out in out.line(parameter.value) }
        }
    }

    struct ParameterSet: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "parameter:set",
            abstract: "Set a parameter value for every scenario that takes it.",
            discussion:
                "Values set here override cloudlet and scenario defaults; -p on a command overrides them.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The parameter's name.") var key: String
        @Argument(help: "Its value.") var value: String

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let result = try await api.call(API.parameterSet, UserParameter(key: key, value: value))
            try renderer.emit(result) { out in out.line("\(key) set in \(result.path)") }
        }
    }

    struct ParameterUnset: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "parameter:unset", abstract: "Remove one of your parameter values.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The parameter's name.", completion: .custom(Completions.parameters)) var key: String

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let result = try await api.call(API.parameterUnset, ParameterKey(key: key))
            try renderer.emit(result) { out in out.line("\(key) removed from \(result.path)") }
        }
    }
}
