import ArgumentParser
import Foundation
import NephoProtocol

extension Nepho {
    struct EventsStatus: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "events:status",
            abstract: "Show how stack events reach the nanny: pushed (SNS, SQS) or polled.")

        @OptionGroup var global: GlobalOptions

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            let status = try await api.call(API.eventsStatus, NoParams())
            try renderer.emit(status) { out in
                out.line(status.summary)
                for channel in status.channels {
                    out.line()
                    out.line(
                        out.bold("\(channel.region ?? "?"): \(channel.mode)")
                            + (channel.current ? " (this command's account and region)" : ""))
                    if let topic = channel.topicArn { out.line("  topic:        \(topic)") }
                    if let queue = channel.queueURL { out.line("  queue:        \(queue)") }
                    if let subscription = channel.subscriptionArn {
                        out.line("  subscription: \(subscription)")
                    }
                    if let rule = channel.ruleArn { out.line("  rule:         \(rule) (EventBridge)") }
                    if let reason = channel.reason {
                        out.line((channel.mode == "push" ? "  note:         " : "  why polled:   ") + reason)
                    }
                    out.line("  set up:       \(channel.checkedAt)")
                    if channel.mode == "push" {
                        out.line(
                            "  last polled:  \(channel.polledAt ?? "never (no daemon has polled it yet)")")
                    }
                    if let waiting = channel.waitingMessages {
                        out.line("  waiting:      \(waiting) message(s)")
                    }
                }
                for warning in status.warnings { out.line(out.yellow("warning: ") + warning) }
            }
        }
    }

    struct EventsRemove: APICommand {
        static let configuration = CommandConfiguration(
            commandName: "events:remove",
            abstract:
                "Remove this nanny's event queue and EventBridge rule (and the topic when no other nanny uses it)."
        )

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Do not ask.") var yes = false

        func run(api: any NephoAPI, renderer: Renderer) async throws {
            guard
                try Confirmation.ask(
                    "Remove the queue, rule (and unused topic) that push stack events to this nanny?",
                    yes: yes)
            else {
                BuildWatcher.say("nothing removed")
                return
            }
            let result = try await api.call(API.eventsRemove, NoParams())
            try renderer.emit(result) { out in
                if result.removed.isEmpty { out.line("nothing to remove") }
                for line in result.removed { out.line("removed \(line)") }
                for warning in result.warnings { out.line(out.yellow("note: ") + warning) }
            }
        }
    }
}
