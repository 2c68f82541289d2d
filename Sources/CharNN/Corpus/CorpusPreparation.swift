import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `charnn prepare`: tokenizes text files once into a ``PreparedCorpus`` directory.
///
/// Memory stays bounded whatever the input's size: each input file is mapped read-only (its
/// pages are the file's, dropped again under pressure) and cut one window at a time. Two passes
/// over the inputs: the first counts symbols to build the vocabulary, the second encodes each
/// window with it and appends the ids to `tokens.bin`. The result is the same as tokenizing the
/// inputs' concatenation as one text, provided each file ends where a symbol ends (a file that
/// ends with a newline always does): each file is cut on its own, so no symbol spans two files,
/// and a byte-order mark at the start of any file is dropped.
///
/// Nothing is written in place: the directory is built under a temporary name beside `--out`
/// and renamed into place when complete, so a failure or a crash leaves no half-written corpus.
public enum CorpusPreparation {
    /// Bytes of input encoded at a time in the second pass; the ids of one window are the only
    /// buffer that grows with the input (2 bytes per byte of window at most).
    static let windowBytes = 16 << 20

    /// What a preparation did.
    public struct Report: Sendable {
        /// The corpus as written.
        public var info: PreparedCorpusInfo
        /// Bytes of input, each file counted once (both passes read it).
        public var inputBytes: Int
        /// Wall-clock seconds for the whole preparation.
        public var seconds: Double
    }

    /// The files `inputs` stand for, in the order they are prepared: each argument in turn; a
    /// directory is replaced by every regular file under it, recursively, sorted by path
    /// (byte order of the UTF-8 path relative to the directory), skipping names that start
    /// with a dot. Symbolic links to files are followed, links to directories are not.
    ///
    /// - Throws: ``TextError/fileNotFound(path:)`` for a missing input and
    ///   ``PreparedCorpusError/noInputFiles(path:)`` for a directory without files.
    public static func inputFiles(_ inputs: [String]) throws -> [String] {
        var files: [String] = []
        for input in inputs {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
                throw TextError.fileNotFound(path: input)
            }
            guard isDirectory.boolValue else { files.append(input); continue }
            let found = try filesUnder(input)
            if found.isEmpty { throw PreparedCorpusError.noInputFiles(path: input) }
            files += found
        }
        return files
    }

    private static func filesUnder(_ directory: String) throws -> [String] {
        var relative: [String] = []
        func walk(_ sub: String) throws {
            let here = sub.isEmpty ? directory : directory + "/" + sub
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: here) } catch {
                throw TextError.unreadable(path: here, reason: "cannot list the directory")
            }
            for name in names where !name.hasPrefix(".") {
                let rel = sub.isEmpty ? name : sub + "/" + name
                var info = stat()
                // lstat: a link to a directory is not descended into (no cycles).
                guard lstat(directory + "/" + rel, &info) == 0 else { continue }
                switch info.st_mode & S_IFMT {
                case S_IFDIR: try walk(rel)
                case S_IFREG: relative.append(rel)
                case S_IFLNK:
                    var target = stat()
                    if stat(directory + "/" + rel, &target) == 0 && target.st_mode & S_IFMT == S_IFREG { relative.append(rel) }
                default: continue
                }
            }
        }
        try walk("")
        return relative.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }.map { directory + "/" + $0 }
    }

    /// Prepares `inputs` (files and directories, see ``inputFiles(_:)``) into the directory
    /// `output`, cutting text with `options`. An existing `output` is refused unless `force`,
    /// which replaces it only once the new corpus is complete.
    ///
    /// - Throws: ``TextError`` for an input that is missing, unreadable, not text or invalid
    ///   UTF-8; ``PreparedCorpusError`` for an empty input or an output that cannot be written.
    public static func prepare(inputs: [String], output: String, options: TextOptions, force: Bool = false) throws -> Report {
        try prepare(inputs: inputs, output: output, options: options, force: force, windowBytes: windowBytes)
    }

    /// As ``prepare(inputs:output:options:force:)``, encoding `windowBytes` of input at a time
    /// (tests use tiny windows to cross many window boundaries).
    package static func prepare(inputs: [String], output: String, options: TextOptions, force: Bool,
                                windowBytes: Int) throws -> Report {
        let started = ContinuousClock.now
        guard options.minCount >= 1 else { throw TextError.invalidMinCount(options.minCount) }
        let files = try inputFiles(inputs)
        if FileManager.default.fileExists(atPath: output) && !force { throw PreparedCorpusError.outputExists(path: output) }

        // Pass 1: the vocabulary. Every input is checked here, before anything is written.
        var builder = VocabularyBuilder(keepTokens: false, reservation: 0)
        var replaced = 0
        var sizes: [Int] = []
        for file in files {
            let mapping = try TokenMapping(path: file, width: 1)
            let bytes = UnsafeBufferPointer(start: mapping.base.assumingMemoryBound(to: UInt8.self), count: mapping.byteCount)
            try BinarySniffer.check(bytes, path: file)
            replaced += try TextPipeline.run(bytes, options: options, file: file, dropByteOrderMark: true, into: &builder)
            sizes.append(mapping.byteCount)
        }
        let vocabulary = builder.finish(minCount: options.minCount).0
        guard vocabulary.totalCount > 0 else { throw PreparedCorpusError.empty(path: files.count == 1 ? files[0] : inputs.joined(separator: ", ")) }
        let tokenizer = Tokenizer(options: options, vocabulary: vocabulary)
        let width = PreparedCorpusInfo.width(forVocabularySize: vocabulary.count)

        // Pass 2: the ids, into a directory beside the output, renamed into place at the end.
        let staging = stagingPath(for: output)
        if FileManager.default.fileExists(atPath: staging) { try? FileManager.default.removeItem(atPath: staging) }
        guard mkdir(staging, 0o755) == 0 else {
            throw PreparedCorpusError.cannotWrite(path: output, reason: String(cString: strerror(errno)).lowercased())
        }
        do {
            let writer = try TokenFileWriter(path: staging + "/" + PreparedCorpus.tokensFile, width: width)
            var inputsInfo: [PreparedCorpusInfo.Input] = []
            for (file, size) in zip(files, sizes) {
                let before = writer.count
                try encode(file: file, tokenizer: tokenizer, windowBytes: windowBytes, into: writer)
                inputsInfo.append(.init(path: file, bytes: size, symbols: writer.count - before))
            }
            try writer.close()
            let info = PreparedCorpusInfo(
                format: PreparedCorpusInfo.formatName, version: PreparedCorpusInfo.currentVersion, tokenizer: tokenizer,
                tokenWidth: width, symbolCount: writer.count, tokensCRC32C: writer.checksum, inputs: inputsInfo,
                replacedSequences: replaced)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            try AtomicFile.write(Array(try encoder.encode(info)) + [UInt8(ascii: "\n")], to: staging + "/" + PreparedCorpus.infoFile)
            try moveIntoPlace(staging, output: output)
            return Report(info: info, inputBytes: sizes.reduce(0, +), seconds: secondsSince(started))
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            if let error = error as? FileWriteError { throw PreparedCorpusError.cannotWrite(path: output, reason: error.reason) }
            throw error
        }
    }

    /// Encodes one file window by window into `writer`.
    private static func encode(file: String, tokenizer: Tokenizer, windowBytes: Int, into writer: TokenFileWriter) throws {
        let mapping = try TokenMapping(path: file, width: 1)
        let n = mapping.byteCount
        guard n > 0 else { return }
        let p = mapping.base.assumingMemoryBound(to: UInt8.self)
        var start = 0
        while start < n {
            // A window ends where a chunk of the text pipeline may end: cutting there changes nothing.
            let end = TextPipeline.chunkEnd(p, from: start + max(1, windowBytes), count: n)
            let window = UnsafeBufferPointer(start: p + start, count: end - start)
            var encoder = VocabularyEncoder(vocabulary: tokenizer.vocabulary, reservation: window.count)
            _ = try TextPipeline.run(window, options: tokenizer.options, file: file, dropByteOrderMark: start == 0, into: &encoder)
            var tokens = encoder.tokens
            try writer.append(tokens.take())
            start = end
        }
    }

    private static func secondsSince(_ start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    private static func stagingPath(for output: String) -> String {
        let url = URL(fileURLWithPath: output)
        let parent = url.deletingLastPathComponent().path
        return parent + "/." + url.lastPathComponent + ".preparing-\(getpid())"
    }

    /// Renames the finished directory to `output`; an existing `output` (with --force) is moved
    /// aside first and removed only after the new one is in place.
    private static func moveIntoPlace(_ staging: String, output: String) throws {
        var aside: String?
        if FileManager.default.fileExists(atPath: output) {
            let old = stagingPath(for: output) + ".replaced"
            guard rename(output, old) == 0 else {
                throw PreparedCorpusError.cannotWrite(path: output, reason: "cannot move the old directory aside: " + String(cString: strerror(errno)).lowercased())
            }
            aside = old
        }
        guard rename(staging, output) == 0 else {
            let reason = String(cString: strerror(errno)).lowercased()
            if let aside { _ = rename(aside, output) }
            throw PreparedCorpusError.cannotWrite(path: output, reason: reason)
        }
        if let aside { try? FileManager.default.removeItem(atPath: aside) }
    }
}

