/// Progress a request reports while it runs (git's clone progress during
/// `cloudlet.install`), for a person watching a terminal. A request asks for it (its params
/// say `progress: true`); whoever runs the request sets `report` around it: nephod sends
/// each piece to the client as a `request.progress` notification, the client hands it to
/// its own `report`, and `--foreground` reports straight to the terminal.
public enum RequestProgress {
    /// Takes one line of progress; a line ending in `\r` is redrawn by the next one.
    @TaskLocal public static var report: (@Sendable (String) -> Void)?
}

/// The `params` of a `request.progress` notification: one line of progress of the
/// request `id` on this connection.
public struct ProgressNote: Codable, Sendable, Equatable {
    public var id: RPCID?
    public var text: String

    public init(id: RPCID?, text: String) {
        self.id = id
        self.text = text
    }
}
