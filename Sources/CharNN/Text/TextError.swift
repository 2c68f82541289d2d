/// Why text could not be read, validated or encoded.
///
/// Every ``description`` is one line that names the file (when there is one) and the problem,
/// so a command-line tool can print it as it is.
public enum TextError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The bytes are not UTF-8. `byteOffset` counts from 0 at the first byte of the file (a
    /// BOM included); `line` counts from 1 and is one more than the number of LF bytes before
    /// the bad sequence.
    case invalidUTF8(file: String?, byteOffset: Int, line: Int)
    /// Nothing exists at this path.
    case fileNotFound(path: String)
    /// The path names a directory, not a file.
    case isDirectory(path: String)
    /// The file exists but could not be read; `reason` is the system's explanation.
    case unreadable(path: String, reason: String)
    /// The file is binary (an executable, an image, an archive) or UTF-16/32 text, or holds a
    /// NUL byte; `reason` says which.
    case notText(path: String, reason: String)
    /// A minimum count below 1 was asked for.
    case invalidMinCount(Int)
    /// Text holds symbols that a vocabulary without an unknown symbol cannot encode.
    /// `distinct` counts the different symbols; `examples` are the first few, in text order.
    case symbolsNotInVocabulary(file: String?, distinct: Int, examples: [String])
    /// A vocabulary's parts do not fit together (from a damaged or hand-edited checkpoint).
    case invalidVocabulary(reason: String)

    /// One line naming the file (or "text" for in-memory input) and the problem.
    public var description: String {
        switch self {
        case let .invalidUTF8(file, offset, line):
            return "\(file ?? "text"): invalid UTF-8 at byte offset \(offset) (line \(line))"
        case let .fileNotFound(path):
            return "\(path): no such file"
        case let .isDirectory(path):
            return "\(path): is a directory, not a text file"
        case let .unreadable(path, reason):
            return "\(path): cannot read file: \(reason)"
        case let .notText(path, reason):
            return "\(path): not a UTF-8 text file: \(reason)"
        case let .invalidMinCount(n):
            return "minimum count must be at least 1, got \(n)"
        case let .symbolsNotInVocabulary(file, distinct, examples):
            let shown = examples.map(SymbolEscaping.quoted).joined(separator: ", ")
            let noun = distinct == 1 ? "symbol" : "symbols"
            return "\(file ?? "text"): \(distinct) \(noun) not in the vocabulary (\(shown)), "
                + "which has no unknown symbol; rebuild it with a minimum count above 1"
        case let .invalidVocabulary(reason):
            return "invalid vocabulary: \(reason)"
        }
    }
}
