import Foundation

/// Short, human reasons for operating-system failures.
public enum SystemError {
    /// "No space left on device" rather than Foundation's long description.
    public static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError,
            underlying.domain == NSPOSIXErrorDomain
        {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        return ns.localizedDescription
    }

    /// The text of the current `errno`.
    public static func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }
}
