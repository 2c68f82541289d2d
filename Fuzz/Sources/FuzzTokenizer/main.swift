import CharNN
import FuzzSupport

/// libFuzzer entry point: the first byte picks the text options, the rest is a corpus file.
///
/// Beyond "no crash", the text layer's documented contracts are checked on every input:
/// - without `replaceInvalid`, a file is accepted exactly when the standard library says it is
///   UTF-8;
/// - encoding the corpus with the vocabulary built from it gives the same ids;
/// - decoding those ids gives the normalized text, byte for byte;
/// - `DecodedText` (how prime files are read) agrees with the tokenizer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 1 else { return 0 }
    let selector = data[0]
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let options = TextOptions(
        unit: selector & 1 == 0 ? .grapheme : .scalar,
        normalization: [.nfc, .nfkc, .none, .nfc][Int(selector >> 1) & 3],
        minCount: selector & 8 == 0 ? 1 : 2,
        replaceInvalid: selector & 16 != 0)

    let isUTF8 = String(validating: bytes, as: UTF8.self) != nil
    let corpus: TokenizedCorpus
    do { corpus = try Tokenizer.build(bytes: bytes, file: "fuzz", options: options) } catch {
        guard case .invalidUTF8(_, let offset, _) = error else { preconditionFailure("unexpected error \(error)") }
        precondition(!options.replaceInvalid, "replaceInvalid still reported invalid UTF-8")
        precondition(!isUTF8, "valid UTF-8 was refused at byte \(offset)")
        precondition(offset >= 0 && offset < bytes.count, "error offset \(offset) outside the \(bytes.count) bytes")
        return 0
    }
    precondition(isUTF8 || options.replaceInvalid, "invalid UTF-8 was accepted")
    precondition(corpus.tokens.count == corpus.symbolCount, "token count differs from the vocabulary's total")

    let encoding: Encoding
    do { encoding = try corpus.tokenizer.encode(bytes: bytes, file: "fuzz") } catch {
        preconditionFailure("the corpus does not encode with its own vocabulary: \(error)")
    }
    precondition(encoding.tokens == corpus.tokens, "encoding differs from the ids built with the vocabulary")

    let decoded: DecodedText
    do { decoded = try DecodedText(bytes: bytes, file: "fuzz", options: options) } catch {
        preconditionFailure("DecodedText refused what the tokenizer accepted: \(error)")
    }
    if options.minCount == 1 {
        let text = corpus.tokenizer.decode(corpus.tokens)
        precondition(text.utf8.elementsEqual(decoded.text.utf8), "decode(encode(x)) is not the normalized text")
        // Normalizing normalized text changes nothing.
        precondition(corpus.tokenizer.normalize(text).utf8.elementsEqual(text.utf8), "normalization is not idempotent")
    }
    return 0
}

/// The process entry point (see ``runFuzzer(argc:argv:_:)`` for why it is not libFuzzer's `main`).
@_cdecl("FuzzTokenizer_main")
public func main(argc: Int32, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    runFuzzer(argc: argc, argv: argv, fuzzTokenizer)
}
