/// Text as the tokenizer sees it, before it is cut: a leading BOM dropped, invalid UTF-8
/// rejected or replaced, and normalized.
public struct DecodedText: Sendable {
    /// The text after BOM removal, validation or repair, and normalization.
    public var text: String
    /// How many ill-formed sequences became U+FFFD (0 unless `replaceInvalid` was set).
    public var replacedSequences: Int

    /// Decodes the bytes of a file. `file` names it in errors; `options.unit` and
    /// `options.minCount` play no part.
    ///
    /// - Throws: ``TextError/invalidUTF8(file:byteOffset:line:)`` unless
    ///   `options.replaceInvalid` is set.
    public init(bytes: some Collection<UInt8>, file: String? = nil, options: TextOptions = TextOptions())
        throws(TextError)
    {
        var sink = ByteCollectingSink()
        var scalarOptions = options
        scalarOptions.unit = .scalar  // the cheapest cut; the bytes are the same either way
        replacedSequences = try TextPipeline.run(
            bytes, options: scalarOptions, file: file, dropByteOrderMark: true, into: &sink)
        text = String(decoding: sink.bytes, as: UTF8.self)
    }

    /// Reads and decodes the file at `path`, or standard input for `-` (see ``init(bytes:file:options:)``).
    public init(contentsOfFile path: String, options: TextOptions = TextOptions()) throws(TextError) {
        try self.init(bytes: try TextFile.readText(atPath: path), file: TextFile.displayName(path), options: options)
    }
}

extension DecodedText: Equatable {
    /// Equal when the texts are equal byte for byte (not merely canonically equivalent).
    public static func == (a: DecodedText, b: DecodedText) -> Bool {
        a.replacedSequences == b.replacedSequences && a.text.utf8.elementsEqual(b.text.utf8)
    }
}
