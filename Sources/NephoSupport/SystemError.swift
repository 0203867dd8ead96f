import Foundation

/// Short, human reasons for operating-system failures.
public enum SystemError {
    /// "No space left on device" rather than Foundation's long description.
    /// A Swift error of nepho's own reads as its `description` (or `errorDescription`),
    /// never as Foundation's "The operation could not be completed. (Module.Type error 1.)".
    public static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError,
            underlying.domain == NSPOSIXErrorDomain
        {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        if let localized = error as? LocalizedError, let text = localized.errorDescription { return text }
        // A Swift type bridged to NSError has its qualified type name as the domain.
        if ns.domain == String(reflecting: type(of: error)) { return String(describing: error) }
        return ns.localizedDescription
    }

    /// The text of the current `errno`.
    public static func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }
}
