import Foundation

/// The one way charnn writes JSON to standard output (`--json` of every subcommand): keys in
/// snake_case, like log.jsonl, sorted so the output is stable and diffable; one object per line.
enum JSONOutput {
    /// The shared encoder: camelCase property names become snake_case keys (`checksumMatches` →
    /// `checksum_matches`); keys that are already snake_case stay as they are.
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// `value` as one line of JSON, without the newline.
    static func line(_ value: some Encodable) throws -> String {
        String(decoding: try encoder().encode(value), as: UTF8.self)
    }

    /// Prints `value` as one line of JSON on standard output.
    static func print(_ value: some Encodable) throws {
        Swift.print(try line(value))
    }

    /// `value` when it is finite, else nil (written as `null`): JSON has no NaN or infinity.
    static func finite(_ value: Double?) -> Double? {
        value.flatMap { $0.isFinite ? $0 : nil }
    }
}

/// An optional that JSON output writes as `null` when absent. JSONEncoder leaves a nil optional's
/// key out; with this every object of a kind has the same keys, so the output's shape never varies.
@propertyWrapper
struct Nullable<Value: Encodable>: Encodable {
    var wrappedValue: Value?

    // Explicit, so memberwise initializers take the optional itself.
    init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}
