import Foundation

/// Any JSON value, decoded without a schema, so that a request's fields can be checked one by one
/// and each problem named by its field: a wrong type, an unknown field, a value out of range.
enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    /// An integer that fits in Int64.
    case integer(Int64)
    /// An integer above Int64's range that fits in UInt64 (a seed).
    case unsigned(UInt64)
    /// Any other number.
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(UInt64.self) {
            self = .unsigned(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Parses `bytes` as one JSON object; anything else is a ``RequestError`` on the field `body`.
    static func object(from bytes: Data) throws(RequestError) -> [String: JSONValue] {
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: bytes) } catch {
            throw RequestError(field: "body", message: "body is not valid JSON")
        }
        guard case .object(let fields) = value else { throw RequestError(field: "body", message: "body must be a JSON object") }
        return fields
    }

    /// The JSON type's name, for messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .unsigned: "an integer"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A request the server refuses: the HTTP status and a one-line message naming the field.
struct RequestError: Error, Equatable {
    /// 400 unless another status says more (413 for a body over the limit, 503 when busy).
    var status = 400
    /// The request field at fault, or `body` for the request as a whole.
    var field: String
    var message: String
}

/// Reads a request's fields by name and type, remembering which were read so that the rest can be
/// refused as unknown.
struct FieldReader {
    let fields: [String: JSONValue]

    /// Refuses any field not in `known`, naming the first in alphabetical order.
    func rejectUnknown(_ known: Set<String>) throws(RequestError) {
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw RequestError(field: unknown, message: "unknown field \"\(unknown)\"; known fields: \(known.sorted().joined(separator: ", "))")
        }
    }

    func string(_ name: String) throws(RequestError) -> String? {
        switch fields[name] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let other?: throw wrongType(name, "a string", other)
        }
    }

    func bool(_ name: String) throws(RequestError) -> Bool? {
        switch fields[name] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case let other?: throw wrongType(name, "a boolean", other)
        }
    }

    func integer(_ name: String) throws(RequestError) -> Int? {
        switch fields[name] {
        case nil, .null?: return nil
        case .integer(let value)?:
            guard let value = Int(exactly: value) else { throw RequestError(field: name, message: "\(name) is out of range") }
            return value
        case .unsigned?: throw RequestError(field: name, message: "\(name) is out of range")
        case let other?: throw wrongType(name, "an integer", other)
        }
    }

    func unsigned(_ name: String) throws(RequestError) -> UInt64? {
        switch fields[name] {
        case nil, .null?: return nil
        case .integer(let value)?:
            guard value >= 0 else { throw RequestError(field: name, message: "\(name) must be 0 or more, got \(value)") }
            return UInt64(value)
        case .unsigned(let value)?: return value
        case let other?: throw wrongType(name, "an integer from 0 to \(UInt64.max)", other)
        }
    }

    func number(_ name: String) throws(RequestError) -> Double? {
        switch fields[name] {
        case nil, .null?: return nil
        case .integer(let value)?: return Double(value)
        case .unsigned(let value)?: return Double(value)
        case .number(let value)?: return value
        case let other?: throw wrongType(name, "a number", other)
        }
    }

    private func wrongType(_ name: String, _ expected: String, _ value: JSONValue) -> RequestError {
        RequestError(field: name, message: "\(name) must be \(expected), got \(value.typeName)")
    }
}
