import Foundation
import NephoSupport

/// Writes scripts that a test then runs.
///
/// Writing an executable from a multi-threaded test process and running it soon after
/// can fail with "Text file busy" (ETXTBSY): a child spawned meanwhile by another test
/// may have inherited the still-open write descriptor. Here a separate `sh` writes the
/// file, so this process never holds a descriptor on it.
public enum ExecutableFile {
    public static func write(_ text: String, to url: URL) async throws {
        _ = try await ProcessRunner.check(
            "sh", ["-c", "cat > \"$1\" && chmod 755 \"$1\"", "sh", url.path], input: Data(text.utf8),
            timeout: 60)
    }
}
