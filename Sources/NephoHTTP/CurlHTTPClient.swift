import CCurl
import Foundation

/// libcurl's entry points, loaded on first use (CCurl/shim.h): a process that makes no
/// request never loads libcurl and its libraries.
/// The table is written once, under a lock, before this pointer is handed out; after
/// that it is only read.
nonisolated(unsafe) let curl = nepho_curl_api_get()!

/// `HTTPClient` over libcurl's easy interface.
///
/// Each request runs `curl_easy_perform` on a thread of its own (a blocking call must
/// not hold one of the concurrency pool's few threads). Easy handles are pooled, so
/// connections are kept alive between requests to the same host. TLS peers and host
/// names are always verified; proxies come from the environment as libcurl reads it
/// (`http_proxy`, `https_proxy`/`HTTPS_PROXY`, `all_proxy`, `no_proxy`); redirects are
/// not followed; only http and https are allowed.
public final class CurlHTTPClient: HTTPClient, @unchecked Sendable {
    public let limits: HTTPLimits
    private let lock = NSLock()
    private var idleHandles: [UnsafeMutableRawPointer] = []
    private static let maxIdleHandles = 8
    /// Loads libcurl (and its TLS libraries) now rather than at the first request: a
    /// process about to fork workers does it once for all of them.
    public static func preload() { _ = curl.pointee.ready }

    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
    }

    deinit {
        for handle in idleHandles { nepho_curl_easy_cleanup(curl, handle) }
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let host = request.hostDescription
        // libcurl is loaded on the first request, not at start-up (CCurl/shim.h).
        if curl.pointee.ready == 0 {
            let problem = withUnsafeBytes(of: curl.pointee.problem) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            throw HTTPError(kind: .other, host: host, reason: problem)
        }
        guard request.body.count <= limits.maxRequestBytes else {
            throw HTTPError(
                kind: .tooLarge, host: host,
                reason:
                    "request body of \(request.body.count) bytes exceeds the limit of \(limits.maxRequestBytes)"
            )
        }
        let transfer = CurlTransfer(request: request, limits: limits)
        try Task.checkCancellation()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<HTTPResponse, Error>) in
                Thread.detachNewThread {
                    let handle = self.takeHandle()
                    let outcome = transfer.perform(on: handle)
                    self.giveBack(handle)
                    continuation.resume(with: outcome)
                }
            }
        } onCancel: {
            transfer.cancel()
        }
    }

    private func takeHandle() -> UnsafeMutableRawPointer {
        if let handle = lock.withLock({ idleHandles.popLast() }) {
            nepho_curl_easy_reset(curl, handle)
            return handle
        }
        return nepho_curl_easy_init(curl)
    }

    private func giveBack(_ handle: UnsafeMutableRawPointer) {
        let kept = lock.withLock {
            guard idleHandles.count < Self.maxIdleHandles else { return false }
            idleHandles.append(handle)
            return true
        }
        if !kept { nepho_curl_easy_cleanup(curl, handle) }
    }
}

/// One request's state while libcurl runs it; reached from libcurl's C callbacks
/// through an unmanaged pointer.
final class CurlTransfer: @unchecked Sendable {
    let request: HTTPRequest
    let limits: HTTPLimits
    private let lock = NSLock()
    private var cancelled = false
    var body = Data()
    var headers: [(name: String, value: String)] = []
    var bodyTooLarge = false

    init(request: HTTPRequest, limits: HTTPLimits) {
        self.request = request
        self.limits = limits
    }

    func cancel() { lock.withLock { cancelled = true } }
    var isCancelled: Bool { lock.withLock { cancelled } }

    func perform(on handle: UnsafeMutableRawPointer) -> Result<HTTPResponse, Error> {
        let host = request.hostDescription
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { nepho_curl_slist_free_all(curl, headerList) }
        for (name, value) in request.headers {
            // "Name;" is libcurl's spelling of a header with an empty value.
            headerList = nepho_curl_slist_append(
                curl, headerList, value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        // No "Expect: 100-continue" round trip for larger bodies.
        headerList = nepho_curl_slist_append(curl, headerList, "Expect:")

        let context = Unmanaged.passUnretained(self).toOpaque()
        let code: CURLcode = request.body.withUnsafeBytes { bodyBytes in
            errorBuffer.withUnsafeMutableBufferPointer { errorPointer in
                nepho_curl_setopt_pointer(curl, handle, CURLOPT_ERRORBUFFER, errorPointer.baseAddress)
                _ = request.url.absoluteString.withCString {
                    nepho_curl_setopt_pointer(curl, handle, CURLOPT_URL, $0)
                }
                _ = "http,https".withCString {
                    nepho_curl_setopt_pointer(curl, handle, CURLOPT_PROTOCOLS_STR, $0)
                }
                nepho_curl_setopt_long(curl, handle, CURLOPT_NOSIGNAL, 1)
                nepho_curl_setopt_cloexec_sockets(curl, handle)
                nepho_curl_setopt_long(curl, handle, CURLOPT_SSL_VERIFYPEER, 1)
                nepho_curl_setopt_long(curl, handle, CURLOPT_SSL_VERIFYHOST, 2)
                nepho_curl_setopt_long(curl, handle, CURLOPT_FOLLOWLOCATION, 0)
                nepho_curl_setopt_long(curl, handle, CURLOPT_TCP_KEEPALIVE, 1)
                nepho_curl_setopt_long(
                    curl, handle, CURLOPT_CONNECTTIMEOUT_MS, Int(limits.connectTimeout * 1000))
                nepho_curl_setopt_long(curl, handle, CURLOPT_TIMEOUT_MS, Int(limits.totalTimeout * 1000))
                nepho_curl_setopt_off_t(
                    curl,
                    handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(limits.maxResponseBytes))
                nepho_curl_setopt_pointer(curl, handle, CURLOPT_HTTPHEADER, headerList)
                setMethod(handle, bodyBytes)
                nepho_curl_setopt_data_callback(curl, handle, CURLOPT_WRITEFUNCTION, curlWriteBody)
                nepho_curl_setopt_pointer(curl, handle, CURLOPT_WRITEDATA, context)
                nepho_curl_setopt_data_callback(curl, handle, CURLOPT_HEADERFUNCTION, curlWriteHeader)
                nepho_curl_setopt_pointer(curl, handle, CURLOPT_HEADERDATA, context)
                nepho_curl_setopt_long(curl, handle, CURLOPT_NOPROGRESS, 0)
                nepho_curl_setopt_progress_callback(curl, handle, CURLOPT_XFERINFOFUNCTION, curlProgress)
                nepho_curl_setopt_pointer(curl, handle, CURLOPT_XFERINFODATA, context)
                let code = nepho_curl_easy_perform(curl, handle)
                // The handle goes back to the pool: drop every pointer into this frame.
                nepho_curl_setopt_pointer(curl, handle, CURLOPT_ERRORBUFFER, nil)
                nepho_curl_setopt_pointer(curl, handle, CURLOPT_HTTPHEADER, nil)
                return code
            }
        }
        guard code == CURLE_OK else {
            let detail = String(
                decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let reason = detail.isEmpty ? String(cString: nepho_curl_easy_strerror(curl, code)) : detail
            return .failure(HTTPError(kind: kind(of: code), host: host, reason: errorReason(code, reason)))
        }
        var status = 0
        nepho_curl_getinfo_long(curl, handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPResponse(status: status, headers: headers, body: body))
    }

    private func setMethod(_ handle: UnsafeMutableRawPointer, _ bodyBytes: UnsafeRawBufferPointer) {
        let method = request.method.uppercased()
        if method == "HEAD" {
            nepho_curl_setopt_long(curl, handle, CURLOPT_NOBODY, 1)
            return
        }
        if method == "GET" && bodyBytes.isEmpty {
            nepho_curl_setopt_long(curl, handle, CURLOPT_HTTPGET, 1)
            return
        }
        if !bodyBytes.isEmpty || method == "POST" || method == "PUT" {
            nepho_curl_setopt_off_t(curl, handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bodyBytes.count))
            nepho_curl_setopt_pointer(
                curl,
                handle, CURLOPT_POSTFIELDS, bodyBytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1))
        }
        if method != "POST" {
            _ = method.withCString { nepho_curl_setopt_pointer(curl, handle, CURLOPT_CUSTOMREQUEST, $0) }
        }
    }

    private func errorReason(_ code: CURLcode, _ detail: String) -> String {
        if bodyTooLarge || code == CURLE_FILESIZE_EXCEEDED {
            return "response body exceeds the limit of \(limits.maxResponseBytes) bytes"
        }
        if code == CURLE_ABORTED_BY_CALLBACK { return "cancelled" }
        return detail
    }

    private func kind(of code: CURLcode) -> HTTPError.Kind {
        if bodyTooLarge { return .tooLarge }
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return .resolve
        case CURLE_COULDNT_CONNECT: return .connect
        case CURLE_OPERATION_TIMEDOUT: return .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CIPHER:
            return .tls
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE:
            return .connectionLost
        case CURLE_FILESIZE_EXCEEDED: return .tooLarge
        case CURLE_ABORTED_BY_CALLBACK: return .cancelled
        default: return .other
        }
    }

    fileprivate func appendBody(_ pointer: UnsafeMutablePointer<CChar>, _ count: Int) -> Int {
        if body.count + count > limits.maxResponseBytes {
            bodyTooLarge = true
            return 0
        }
        pointer.withMemoryRebound(to: UInt8.self, capacity: count) { body.append($0, count: count) }
        return count
    }

    fileprivate func appendHeaderLine(_ line: String) {
        if line.hasPrefix("HTTP/") {
            headers = []  // a new answer: an interim 100, or the final one
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
        let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespacesAndNewlines)
        headers.append((name, value))
    }
}

private let curlWriteBody: nepho_curl_data_callback = { pointer, size, count, context in
    guard let pointer, let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    return transfer.appendBody(pointer, size * count)
}

private let curlWriteHeader: nepho_curl_data_callback = { pointer, size, count, context in
    guard let pointer, let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: pointer, count: size * count)
    transfer.appendHeaderLine(String(decoding: bytes, as: UTF8.self))
    return size * count
}

private let curlProgress: nepho_curl_progress_callback = { context, _, _, _, _ in
    guard let context else { return 0 }
    return Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue().isCancelled ? 1 : 0
}
