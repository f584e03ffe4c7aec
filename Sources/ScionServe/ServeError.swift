import HTTPTypes

/// An error answered as `{"error": message}` with its HTTP status.
public struct ServeError: Error, CustomStringConvertible, Sendable {
    public let status: HTTPResponse.Status
    public let message: String

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { message }

    static func badRequest(_ message: String) -> ServeError { ServeError(.badRequest, message) }
    static func notFound(_ message: String) -> ServeError { ServeError(.notFound, message) }
    static func tooLarge(_ message: String) -> ServeError { ServeError(.contentTooLarge, message) }
    static func unavailable(_ message: String) -> ServeError { ServeError(.serviceUnavailable, message) }
}
