import CCurl
import Foundation
import Yams

/// Where and how the report is mailed, from a YAML file; the password only from the environment.
///
/// ```yaml
/// smtp:
///   url: smtp://mail.example.com:587   # smtps://… for TLS from the first byte
///   starttls: required                 # required (default) | optional | none
///   username: reports                  # optional: authenticate (AUTH) when given
///   password_env: STRATA_SMTP_PASSWORD # the variable holding the password
///   ca_file: /etc/ssl/certs/mail-ca.pem # optional: a CA to trust beyond the system's
///   timeout_seconds: 30
/// from: churn-reports@example.com
/// to: [marketing@example.com]
/// subject: "Weekly churn report {as_of}"  # optional; {as_of} is replaced
/// ```
public struct EmailConfig: Sendable, Equatable {
    public enum TLS: String, Sendable { case required, optional, none }
    public var url: String
    public var tls: TLS
    public var username: String?
    public var password: String?
    public var caFile: String?
    public var timeoutSeconds: Int
    public var from: String
    public var to: [String]
    public var subject: String

    /// Reads and checks `path`; `environment` supplies the password variable. Every problem is an error
    /// naming the key, before anything is computed or sent.
    public static func load(_ path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> EmailConfig {
        func bad(_ message: String) -> ReportError { ReportError("email config \(path): \(message)") }
        let root = try ConfigFile.mapping(path, what: "email config", known: ["smtp", "from", "to", "subject"]) { ReportError($0) }
        guard let smtp = root["smtp"] as? [String: Any] else { throw bad("smtp must be a mapping with at least url") }
        if smtp["password"] != nil { throw bad("a password is never written in the file: name the environment variable that holds it with password_env") }
        let unknownSMTP = Set(smtp.keys).subtracting(["url", "starttls", "username", "password_env", "ca_file", "timeout_seconds"])
        guard unknownSMTP.isEmpty else { throw bad("unknown smtp key\(unknownSMTP.count == 1 ? "" : "s") \(unknownSMTP.sorted().joined(separator: ", ")) (known: url, starttls, username, password_env, ca_file, timeout_seconds)") }
        guard let url = smtp["url"] as? String, let authority = smtpAuthority(url) else {
            throw bad("smtp.url must be smtp://HOST[:PORT] or smtps://HOST[:PORT] (a port in 1...65535, nothing after it)")
        }
        guard !authority.contains("@") else {
            throw bad("smtp.url holds a user name or password: give smtp.username, and the password through password_env, never in the file")
        }
        let tlsText = smtp["starttls"].map { "\($0)" } ?? "required"
        guard let tls = TLS(rawValue: tlsText) else { throw bad("smtp.starttls must be required, optional or none (got \(tlsText))") }
        if url.hasPrefix("smtp://") && tls != .required && smtp["username"] != nil {
            throw bad("smtp.username with starttls: \(tls.rawValue) could send the password in clear text (a server, or anyone between, may skip STARTTLS); "
                + "use starttls: required or smtps://")
        }
        let username = smtp["username"] as? String
        var password: String?
        if let variable = smtp["password_env"] {
            guard let name = variable as? String, !name.isEmpty else { throw bad("smtp.password_env must name an environment variable") }
            guard let value = environment[name] else { throw bad("smtp.password_env names \(name), which is not set in the environment") }
            password = value
        }
        if username != nil && password == nil { throw bad("smtp.username needs smtp.password_env (the variable holding the password)") }
        let caFile = smtp["ca_file"] as? String
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) { throw bad("smtp.ca_file \(caFile) cannot be read") }
        let timeout = smtp["timeout_seconds"].map { $0 as? Int } ?? 30
        guard let timeout, (1...600).contains(timeout) else { throw bad("smtp.timeout_seconds must be a whole number of seconds in 1...600") }
        guard let from = root["from"] as? String, isAddress(from) else { throw bad("from must be one email address (name@domain)") }
        let recipients: [String]
        if let one = root["to"] as? String { recipients = [one] } else if let list = root["to"] as? [Any] { recipients = list.map { "\($0)" } } else { recipients = [] }
        guard !recipients.isEmpty, recipients.count <= 100, recipients.allSatisfy(isAddress) else { throw bad("to must be an email address or a list of up to 100 (name@domain each)") }
        let subject = (root["subject"] as? String) ?? "Weekly churn report {as_of}"
        guard !subject.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }), subject.utf8.count <= 200 else {
            throw bad("subject must be one line of at most 200 bytes, without control characters")
        }
        return EmailConfig(url: url, tls: tls, username: username, password: password, caFile: caFile, timeoutSeconds: timeout, from: from,
                           to: recipients, subject: subject)
    }

    /// `HOST[:PORT]` of an smtp:// or smtps:// URL with nothing after it, or nil.
    static func smtpAuthority(_ url: String) -> String? {
        guard let scheme = ["smtp://", "smtps://"].first(where: url.hasPrefix) else { return nil }
        var authority = String(url.dropFirst(scheme.count))
        if authority.hasSuffix("/") { authority.removeLast() }
        guard !authority.isEmpty, !authority.contains("/"), !authority.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value >= 0x7F }) else { return nil }
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let port = Int(authority[authority.index(after: colon)...]), (1...65535).contains(port), colon != authority.startIndex else { return nil }
        }
        return authority
    }

    static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && text.count <= 254
            && !text.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "," || $0 == "\"" || $0.asciiValue == nil })
    }
}

/// The report as a MIME message: multipart/mixed of (multipart/related of (multipart/alternative of
/// text and HTML) and the charts as PNG parts the HTML names by Content-ID) and the CSV attached.
public enum ReportMessage {
    public static func build(_ report: WeeklyReport, from: String, to: [String], subject: String, boundarySeed: String) throws -> [UInt8] {
        let charts = report.charts
        let images = try charts.map { (id: "chart-\($0.id)@strata", name: "\($0.id).png", bytes: try $0.png()) }
        let html = report.html { chart in
            "<img src=\"cid:chart-\(chart.id)@strata\" alt=\"\(Charts.escape(chart.title))\" width=\"\(Charts.width)\">"
        }
        let mixed = "strata-mixed-" + boundarySeed
        let related = "strata-related-" + boundarySeed
        let alternative = "strata-alternative-" + boundarySeed
        var message = headers(from: from, to: to, subject: subject.replacingOccurrences(of: "{as_of}", with: report.asOfText),
                              messageID: "report-\(report.asOfText)-\(report.fingerprint)")
        message += "Content-Type: multipart/mixed; boundary=\"\(mixed)\"\r\n\r\n"
        message += "--\(mixed)\r\nContent-Type: multipart/related; boundary=\"\(related)\"; type=\"multipart/alternative\"\r\n\r\n"
        message += "--\(related)\r\nContent-Type: multipart/alternative; boundary=\"\(alternative)\"\r\n\r\n"
        message += part(contentType: "text/plain; charset=utf-8", body: Array(report.plainText().utf8), boundary: alternative)
        message += part(contentType: "text/html; charset=utf-8", body: Array(html.utf8), boundary: alternative)
        message += "--\(alternative)--\r\n"
        for image in images {
            message += part(contentType: "image/png", body: image.bytes, boundary: related,
                            extra: "Content-ID: <\(image.id)>\r\nContent-Disposition: inline; filename=\"\(image.name)\"\r\n")
        }
        message += "--\(related)--\r\n"
        message += part(contentType: "text/csv; charset=utf-8", body: Array(report.csv().utf8), boundary: mixed,
                        extra: "Content-Disposition: attachment; filename=\"\(report.fileStem).csv\"\r\n")
        message += "--\(mixed)--\r\n"
        return Array(message.utf8)
    }

    /// A plain-text message (the pipeline's alerts), with the same headers as the report's.
    public static func plain(subject: String, text: String, from: String, to: [String], messageID: String) -> [UInt8] {
        var message = headers(from: from, to: to, subject: subject, messageID: messageID)
        message += "Content-Type: multipart/mixed; boundary=\"strata-plain-\(messageID)\"\r\n\r\n"
        message += part(contentType: "text/plain; charset=utf-8", body: Array(text.utf8), boundary: "strata-plain-\(messageID)")
        message += "--strata-plain-\(messageID)--\r\n"
        return Array(message.utf8)
    }

    static func headers(from: String, to: [String], subject: String, messageID: String) -> String {
        "From: \(from)\r\nTo: \(to.joined(separator: ", "))\r\nSubject: \(encodedHeader(subject))\r\nDate: \(rfc2822Date(Date()))\r\n"
            + "Message-ID: <\(messageID)@strata>\r\nMIME-Version: 1.0\r\n"
    }

    static func part(contentType: String, body: [UInt8], boundary: String, extra: String = "") -> String {
        var text = "--\(boundary)\r\nContent-Type: \(contentType)\r\nContent-Transfer-Encoding: base64\r\n\(extra)\r\n"
        let encoded = Data(body).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        text += encoded + "\r\n"
        return text
    }

    /// RFC 2047 for a header with non-ASCII text: encoded words of at most 75 characters (whole characters
    /// of at most 45 bytes each), folded onto lines of their own.
    static func encodedHeader(_ text: String) -> String {
        guard !text.allSatisfy(\.isASCII) else { return text }
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 45 && !chunk.isEmpty {
                words.append("=?utf-8?B?" + Data(chunk).base64EncodedString() + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?utf-8?B?" + Data(chunk).base64EncodedString() + "?=") }
        return words.joined(separator: "\r\n ")
    }

    static func rfc2822Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }
}

/// Sends a message over SMTP with the system's libcurl: STARTTLS (or SMTPS), authentication, the envelope
/// from the config; an error names what failed (connection, TLS, login, a refused recipient).
public enum SMTPSender {
    public static func send(_ message: [UInt8], config: EmailConfig) throws {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        guard let handle = curl_easy_init() else { throw ReportError("libcurl could not start a session") }
        defer { curl_easy_cleanup(handle) }
        final class Source {
            let bytes: [UInt8]
            var offset = 0
            init(_ bytes: [UInt8]) { self.bytes = bytes }
        }
        let source = Source(message)
        let retained = Unmanaged.passRetained(source)
        defer { retained.release() }
        var recipients: UnsafeMutablePointer<curl_slist>?
        for address in config.to { recipients = curl_slist_append(recipients, "<\(address)>") }
        defer { curl_slist_free_all(recipients) }
        var codes: [CURLcode] = []
        codes.append(strata_curl_set_string(handle, CURLOPT_URL, config.url))
        codes.append(strata_curl_set_string(handle, CURLOPT_MAIL_FROM, "<\(config.from)>"))
        codes.append(strata_curl_set_pointer(handle, CURLOPT_MAIL_RCPT, recipients))
        codes.append(strata_curl_set_long(handle, CURLOPT_UPLOAD, 1))
        codes.append(strata_curl_set_long(handle, CURLOPT_INFILESIZE_LARGE, Int(message.count)))
        codes.append(strata_curl_set_read(handle) { buffer, size, count, user in
            let source = Unmanaged<Source>.fromOpaque(user!).takeUnretainedValue()
            let length = min(size * count, source.bytes.count - source.offset)
            guard length > 0, let buffer else { return 0 }
            source.bytes.withUnsafeBufferPointer { bytes in
                UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + source.offset, byteCount: length)
            }
            source.offset += length
            return length
        })
        codes.append(strata_curl_set_pointer(handle, CURLOPT_READDATA, retained.toOpaque()))
        let useSSL: Int = switch config.tls { case .required: Int(CURLUSESSL_ALL.rawValue); case .optional: Int(CURLUSESSL_TRY.rawValue); case .none: Int(CURLUSESSL_NONE.rawValue) }
        codes.append(strata_curl_set_long(handle, CURLOPT_USE_SSL, useSSL))
        if let caFile = config.caFile { codes.append(strata_curl_set_string(handle, CURLOPT_CAINFO, caFile)) }
        if let username = config.username { codes.append(strata_curl_set_string(handle, CURLOPT_USERNAME, username)) }
        if let password = config.password { codes.append(strata_curl_set_string(handle, CURLOPT_PASSWORD, password)) }
        codes.append(strata_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT, config.timeoutSeconds))
        codes.append(strata_curl_set_long(handle, CURLOPT_TIMEOUT, config.timeoutSeconds * 4))
        codes.append(strata_curl_set_long(handle, CURLOPT_NOSIGNAL, 1))
        if let failed = codes.first(where: { $0 != CURLE_OK }) {
            throw ReportError("libcurl refused an SMTP option: \(String(cString: curl_easy_strerror(failed)))")
        }
        if let detail = CurlSession.perform(handle) {
            throw ReportError("sending the report to \(config.url) failed: \(detail) (check smtp.url, starttls, the login and ca_file in the email config)")
        }
    }
}

enum CurlSession {
    /// Runs the transfer; nil when it succeeded, else libcurl's own description of what failed.
    static func perform(_ handle: UnsafeMutableRawPointer) -> String? {
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let (code, detail) = errorBuffer.withUnsafeMutableBufferPointer { buffer -> (CURLcode, String) in
            _ = strata_curl_set_pointer(handle, CURLOPT_ERRORBUFFER, buffer.baseAddress)
            let code = curl_easy_perform(handle)
            _ = strata_curl_set_pointer(handle, CURLOPT_ERRORBUFFER, nil)
            return (code, String(cString: buffer.baseAddress!))
        }
        guard code != CURLE_OK else { return nil }
        return detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
    }
}

/// Posts a JSON body to a webhook (http or https only) with libcurl; anything but a 2xx answer is an error.
public enum WebhookSender {
    public static func post(_ body: [UInt8], to url: String, timeoutSeconds: Int = 10) throws {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        guard let handle = curl_easy_init() else { throw ReportError("libcurl could not start a session") }
        defer { curl_easy_cleanup(handle) }
        var headers: UnsafeMutablePointer<curl_slist>?
        headers = curl_slist_append(headers, "Content-Type: application/json")
        defer { curl_slist_free_all(headers) }
        var codes: [CURLcode] = []
        codes.append(strata_curl_set_string(handle, CURLOPT_URL, url))
        codes.append(strata_curl_set_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"))
        codes.append(strata_curl_set_pointer(handle, CURLOPT_HTTPHEADER, headers))
        codes.append(strata_curl_set_long(handle, CURLOPT_POSTFIELDSIZE, body.count))
        codes.append(strata_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT, timeoutSeconds))
        codes.append(strata_curl_set_long(handle, CURLOPT_TIMEOUT, timeoutSeconds * 3))
        codes.append(strata_curl_set_long(handle, CURLOPT_NOSIGNAL, 1))
        if let failed = codes.first(where: { $0 != CURLE_OK }) {
            throw ReportError("libcurl refused a webhook option: \(String(cString: curl_easy_strerror(failed)))")
        }
        // The answer's body is not needed: a write function that takes it all and keeps nothing.
        _ = strata_curl_discard_body(handle)
        // COPYPOSTFIELDS copies the body now, so the pointer need not outlive this call.
        _ = body.withUnsafeBufferPointer { strata_curl_set_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress)) }
        if let detail = CurlSession.perform(handle) { throw ReportError("posting to the webhook \(url) failed: \(detail)") }
        var status = 0
        _ = strata_curl_response_code(handle, &status)
        guard (200..<300).contains(status) else { throw ReportError("the webhook \(url) answered HTTP \(status)") }
    }
}
