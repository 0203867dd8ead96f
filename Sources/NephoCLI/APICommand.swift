import ArgumentParser
import NephoProtocol

/// A command that asks `NephoAPI` something and renders the answer. Errors become a
/// message on standard error and an exit status (docs/output.md).
protocol APICommand: AsyncParsableCommand {
    var global: GlobalOptions { get }
    func run(api: any NephoAPI, renderer: Renderer) async throws
}

extension APICommand {
    func run() async throws {
        let renderer = global.renderer
        do {
            // With --foreground the engine runs here: its notices are printed the same way.
            let notices = RequestNotices(deliver: GlobalOptions.showNotice)
            try await RequestNotices.$current.withValue(notices) {
                try await run(api: try await global.api(), renderer: renderer)
            }
        } catch let exit as ExitCode {
            throw exit
        } catch let error as NephoError {
            throw renderer.report(error)
        } catch {
            throw renderer.report(NephoError(.internalError, "\(error)"))
        }
    }
}
