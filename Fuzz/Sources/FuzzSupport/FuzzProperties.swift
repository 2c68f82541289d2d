@_spi(Internals) import CharNN

// Shared by the libFuzzer targets (which crash on a failure, so libFuzzer saves the input) and by
// Tests/CharNNTests/Robustness/FuzzRegressionTests.swift (a symbolic link to this file), which
// replays the seeds and every input that ever failed. Each function returns nil when `bytes`
// behaves as documented, or what went wrong.

/// The properties the fuzz targets check, one function per target.
public enum FuzzProperties {
    /// Any bytes as a checkpoint file: refused with an error, or loaded; what loads survives a
    /// write and a read unchanged. The same for the bare safetensors container. Also run on the
    /// bytes resealed (both checksums recomputed), so mutations reach the checks behind them.
    public static func checkpoint(_ bytes: [UInt8]) -> String? {
        if let container = try? SafeTensorsFile(bytes: bytes) {
            let again = try? SafeTensorsFile(bytes: container.serialized())
            if again?.metadata != container.metadata { return "safetensors metadata changed in a round trip" }
            if again?.tensors.map(\.tensor) != container.tensors.map(\.tensor) { return "safetensors tensors changed in a round trip" }
        }
        if let failure = roundTrip(bytes) { return failure }
        guard var file = try? SafeTensorsFile(bytes: bytes) else { return nil }
        file.metadata["tensor_crc32c"] = MetadataChecksum.tensorChecksum(file.tensors)
        return roundTrip(SafeTensorsFile(tensors: file.tensors, metadata: MetadataChecksum.sealed(file.metadata)).serialized())
    }

    private static func roundTrip(_ bytes: [UInt8]) -> String? {
        guard let checkpoint = try? Checkpoint(bytes: bytes, path: "fuzz") else { return nil }
        let reloaded: Checkpoint
        do { reloaded = try Checkpoint(bytes: checkpoint.serialized(), path: "fuzz") } catch {
            return "a checkpoint that loaded does not load once rewritten: \(error)"
        }
        let same = reloaded.model == checkpoint.model && reloaded.tokenizer == checkpoint.tokenizer
            && reloaded.optimizer == checkpoint.optimizer && reloaded.training == checkpoint.training
            && reloaded.carriedState == checkpoint.carriedState
        return same ? nil : "a checkpoint changed in a round trip"
    }

    /// The first byte picks the text options, the rest is a corpus file. Without
    /// `replaceInvalid` a file is accepted exactly when the standard library says it is UTF-8
    /// (and has no NUL byte, which the file readers refuse before tokenizing); encoding with the
    /// built vocabulary gives the same ids; decoding them gives the normalized text byte for
    /// byte; normalizing that again changes nothing; `DecodedText` agrees.
    public static func tokenizer(_ input: [UInt8]) -> String? {
        guard let selector = input.first else { return nil }
        let bytes = Array(input.dropFirst())
        let options = TextOptions(
            unit: selector & 1 == 0 ? .grapheme : .scalar,
            normalization: [.nfc, .nfkc, .none, .nfc][Int(selector >> 1) & 3],
            minCount: selector & 8 == 0 ? 1 : 2,
            replaceInvalid: selector & 16 != 0)
        let isUTF8 = String(validating: bytes, as: UTF8.self) != nil
        let corpus: TokenizedCorpus
        do { corpus = try Tokenizer.build(bytes: bytes, file: "fuzz", options: options) } catch {
            guard case .invalidUTF8(_, let offset, _) = error else { return "unexpected error \(error)" }
            if options.replaceInvalid { return "replaceInvalid still reported invalid UTF-8" }
            if isUTF8 { return "valid UTF-8 was refused at byte \(offset)" }
            return offset >= 0 && offset < bytes.count ? nil : "error offset \(offset) outside the \(bytes.count) bytes"
        }
        if !isUTF8 && !options.replaceInvalid { return "invalid UTF-8 was accepted" }
        if corpus.tokens.count != corpus.symbolCount { return "token count differs from the vocabulary's total" }
        let encoding: Encoding
        do { encoding = try corpus.tokenizer.encode(bytes: bytes, file: "fuzz") } catch {
            return "the corpus does not encode with its own vocabulary: \(error)"
        }
        if encoding.tokens != corpus.tokens { return "encoding differs from the ids built with the vocabulary" }
        let decoded: DecodedText
        do { decoded = try DecodedText(bytes: bytes, file: "fuzz", options: options) } catch {
            return "DecodedText refused what the tokenizer accepted: \(error)"
        }
        guard options.minCount == 1 else { return nil }
        let text = corpus.tokenizer.decode(corpus.tokens)
        if !text.utf8.elementsEqual(decoded.text.utf8) { return "decode(encode(x)) is not the normalized text" }
        if !corpus.tokenizer.normalize(text).utf8.elementsEqual(text.utf8) { return "normalization is not idempotent" }
        return nil
    }

    /// Any bytes as a `--time` argument: refused with a one-line error, or a duration in
    /// (0, 1 year] whose description parses back to within half a second of it.
    public static func duration(_ bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        let duration: TrainingDuration
        do { duration = try TrainingDuration(parsing: text) } catch {
            return error.description.contains("\n") ? "a multi-line error for \(text.debugDescription)" : nil
        }
        guard duration.seconds > 0 && duration.seconds <= TrainingDuration.maximumSeconds else {
            return "accepted \(duration.seconds) s from \(text.debugDescription)"
        }
        let shown = duration.description
        guard let again = try? TrainingDuration(parsing: shown) else {
            return "\(duration.seconds) s from \(text.debugDescription) is shown as \(shown.debugDescription), which does not parse"
        }
        guard abs(again.seconds - duration.seconds) <= 0.5 + 1e-9 * duration.seconds else {
            return "\(text.debugDescription) → \(shown) → \(again.seconds) s"
        }
        return nil
    }
}
