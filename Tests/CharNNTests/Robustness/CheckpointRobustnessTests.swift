@_spi(Internals) import CharNN
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Rows "Checkpoints" of docs/robustness.md, at the library level: every damaged, foreign or
/// hostile file is refused with a `CheckpointError` naming the path, never a trap, a hang or a
/// huge allocation. `CheckpointCLIRobustnessTests` checks what the user sees.
@Suite("Robustness: damaged and hostile checkpoints")
struct CheckpointRobustnessTests {
    static func bytes() throws -> [UInt8] { try CheckpointTests.fullCheckpoint().serialized() }

    static func headerLength(_ bytes: [UInt8]) -> Int {
        bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    }

    /// A safetensors file with `header` (padded) as its JSON header and `data` after it.
    static func container(header: String, data: [UInt8] = []) -> [UInt8] {
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        return (0..<8).map { UInt8(truncatingIfNeeded: h.count >> (8 * $0)) } + h + data
    }

    /// `file` with its metadata edited by `edit` and both checksums recomputed: damage that the
    /// checksums cannot see, as a buggy or hostile writer would make it.
    static func resealed(_ bytes: [UInt8], edit: (inout SafeTensorsFile) throws -> Void) throws -> [UInt8] {
        var file = try SafeTensorsFile(bytes: bytes)
        try edit(&file)
        file.metadata["tensor_crc32c"] = MetadataChecksum.tensorChecksum(file.tensors)
        return SafeTensorsFile(tensors: file.tensors, metadata: MetadataChecksum.sealed(file.metadata)).serialized()
    }

    private func expectInvalid(_ bytes: [UInt8], _ reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(sourceLocation: sourceLocation) { try Checkpoint(bytes: bytes, path: "p.safetensors") } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("p.safetensors: ") && text.contains(reason) && !text.contains("\n")
        }
    }

    @Test("truncated at every byte offset: refused, never loaded or crashed")
    func truncationSweep() throws {
        let bytes = try Self.bytes()
        for length in 0..<bytes.count {
            #expect(throws: CheckpointError.self, "length \(length)") { try Checkpoint(bytes: Array(bytes[..<length]), path: "t") }
        }
    }

    @Test("a flipped bit anywhere in the header is refused (the metadata checksum, format version 2)")
    func headerBitFlips() throws {
        let original = try Self.bytes()
        let end = 8 + Self.headerLength(original)
        var undetected: [Int] = []
        var bytes = original
        for index in 8..<end {
            for bit in [index % 8, (index + 3) % 8] {
                bytes[index] ^= 1 << UInt8(bit)
                if (try? Checkpoint(bytes: bytes, path: "h")) != nil { undetected.append(index) }
                bytes[index] = original[index]
            }
        }
        #expect(undetected.isEmpty, "flips at header bytes \(undetected.prefix(10)) loaded")
    }

    @Test("a flipped metadata value that still parses is named as header damage")
    func metadataFlip() throws {
        var bytes = try Self.bytes()
        // The step count's digits: "step":3 → "step":2 still parses as JSON and as a number.
        let header = String(decoding: bytes[8..<(8 + Self.headerLength(bytes))], as: UTF8.self)
        let range = try #require(header.range(of: #"\"step\":3"#))
        let index = 8 + header.utf8.distance(from: header.startIndex, to: range.upperBound) - 1
        bytes[index] ^= 0x01
        #expect { try Checkpoint(bytes: bytes, path: "m") } throws: { error in
            guard case CheckpointError.metadataChecksumMismatch(path: "m", _, _) = error else { return false }
            return "\(error)".contains("metadata is damaged")
        }
    }

    @Test("a flipped bit in the tensor data fails the tensor checksum, wherever it is")
    func dataBitFlips() throws {
        let original = try Self.bytes()
        var bytes = original
        for index in stride(from: 8 + Self.headerLength(original), to: original.count, by: 3) {
            bytes[index] ^= 1 << UInt8(index % 8)
            #expect { try Checkpoint(bytes: bytes, path: "d") } throws: { error in
                guard case CheckpointError.checksumMismatch = error else { return false }
                return true
            }
            bytes[index] = original[index]
        }
    }

    /// `file` as format versions 1 and 2 wrote it: the model's shape repeated in the training
    /// options (`shape` overrides it, to make the copy disagree) and no Unicode version.
    static func asBeforeVersion3(_ file: SafeTensorsFile, config: ModelConfig, shape: [String: Any] = [:]) throws -> SafeTensorsFile {
        var file = file
        var training = try #require(JSONSerialization.jsonObject(with: Data(file.metadata["training"]!.utf8)) as? [String: Any])
        var options = try #require(training["options"] as? [String: Any])
        options["layers"] = config.layers
        options["hiddenSize"] = config.hiddenSize
        options["embeddingSize"] = config.embeddingSize
        options["dropout"] = config.dropout
        options.merge(shape) { $1 }
        training["options"] = options
        file.metadata["training"] = String(decoding: try JSONSerialization.data(withJSONObject: training), as: UTF8.self)
        file.metadata["unicode_version"] = nil
        return file
    }

    @Test("version 1 and 2 files (the shape repeated in the options, no Unicode version) still load")
    func olderVersions() throws {
        let original = try CheckpointTests.fullCheckpoint()
        let current = try SafeTensorsFile(bytes: original.serialized())
        #expect(current.metadata["unicode_version"] == Tokenizer.unicodeVersion)
        #expect(!current.metadata["training"]!.contains("hiddenSize"), "the shape is stored once, in model")
        var file = try Self.asBeforeVersion3(current, config: original.model.config)
        file.metadata["format_version"] = "2"
        file.metadata = MetadataChecksum.sealed(file.metadata)
        var loaded = try Checkpoint(bytes: file.serialized())
        #expect(loaded.model == original.model && loaded.training == original.training && loaded.unicodeVersion == nil)
        file.metadata["format_version"] = "1"
        file.metadata[MetadataChecksum.key] = nil
        loaded = try Checkpoint(bytes: file.serialized())
        #expect(loaded.model == original.model && loaded.training == original.training)
        // But a version 2 file without its checksum is refused: a flip in the key cannot disable the check.
        file.metadata["format_version"] = "2"
        expectInvalid(file.serialized(), "missing metadata_crc32c")
        // And an old file whose copy of the shape disagrees with the model is refused.
        var disagreeing = try Self.asBeforeVersion3(current, config: original.model.config,
                                                    shape: ["hiddenSize": original.model.config.hiddenSize + 1])
        disagreeing.metadata["format_version"] = "2"
        disagreeing.metadata = MetadataChecksum.sealed(disagreeing.metadata)
        expectInvalid(disagreeing.serialized(), "disagree with the model config")
    }

    @Test("header length 2^63, past the file, or over 64 MiB: refused after reading 8 bytes")
    func headerLengths() throws {
        let dir = try temporaryDirectory("header-length")
        for (length, size) in [(UInt64(1) << 63, 16), (UInt64.max, 16), (UInt64(1000), 100)] {
            let path = dir + "/h\(length).safetensors"
            let bytes = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) } + [UInt8](repeating: 0x20, count: size - 8)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect { try Checkpoint.load(from: path) } throws: { "\($0)".contains("header length \(length) does not fit") }
        }
        // A sparse 8 GiB file that claims a 4 GiB header: refused before any of it is read (reading
        // it whole would take 8 GiB of memory).
        let sparse = dir + "/sparse.safetensors"
        let fd = open(sparse, O_WRONLY | O_CREAT, 0o644)
        var header = (0..<8).map { UInt8(truncatingIfNeeded: (UInt64(4) << 30) >> (8 * UInt64($0))) }
        _ = write(fd, &header, 8)
        ftruncate(fd, 8 << 30)
        close(fd)
        defer { unlink(sparse) }
        #expect { try Checkpoint.load(from: sparse) } throws: { "\($0)".contains("does not fit") }
    }

    @Test("a deeply nested or huge JSON header is refused cleanly")
    func hostileJSON() throws {
        for depth in [1_000, 100_000, 1_000_000] {
            let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            expectInvalid(Self.container(header: #"{"a":"# + nested + "}"), "not a JSON object")
            // Nesting inside a metadata value, parsed by the second JSON decoder.
            let meta = try Self.resealed(Self.bytes()) { $0.metadata["model"] = nested }
            expectInvalid(meta, "metadata model is malformed")
        }
        // 1 MiB of tensor entries pointing at nothing.
        let entries = (0..<20_000).map { #""t\#($0)":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"# }.joined(separator: ",")
        expectInvalid(Self.container(header: "{" + entries + "}"), "data_offsets lie outside")
        // A header over the 64 MiB limit is refused by its length alone.
        let limit = SafeTensorsFile.maximumHeaderLength
        expectInvalid(Self.container(header: "{}" + String(repeating: " ", count: limit)), "header length \(limit + 8) does not fit")
    }

    @Test("tensors whose shapes disagree with the config or the vocabulary are named")
    func shapes() throws {
        let bytes = try Self.bytes()
        // The embedding with one row too few for the vocabulary.
        let embedding = try Self.resealed(bytes) { file in
            let i = try #require(file.tensors.firstIndex { $0.name == "embedding.weight" })
            let t = file.tensors[i].tensor
            file.tensors[i].tensor = .init([Float](repeating: 0, count: (t.shape[0] - 1) * t.shape[1]), shape: [t.shape[0] - 1, t.shape[1]])
        }
        expectInvalid(embedding, "tensor embedding.weight is F32")
        // The config claims a bigger model than the tensors hold.
        let config = try Self.resealed(bytes) { file in
            file.metadata["model"] = file.metadata["model"]!.replacingOccurrences(of: #""hidden_size":5"#, with: #""hidden_size":6"#)
        }
        expectInvalid(config, "lstm.")
        // A vocabulary that does not match vocab_size.
        let vocabulary = try Self.resealed(bytes) { file in
            file.metadata["model"] = file.metadata["model"]!.replacingOccurrences(of: #""vocab_size":"#, with: #""vocab_size":1"#)
        }
        expectInvalid(vocabulary, "vocabulary has")
    }

    @Test("sizes, counts and values no run can have are refused before use")
    func hostileValues() throws {
        let bytes = try Self.bytes()
        // A config asking for terabytes: refused before allocating, from the file's size.
        let huge = try Self.resealed(bytes) { file in
            file.metadata["model"] = #"{"dropout":0,"embedding_size":1000000,"hidden_size":2000000,"num_layers":1000,"vocab_size":17}"#
        }
        expectInvalid(huge, "out of range")
        let big = try Self.resealed(bytes) { file in
            file.metadata["model"] = #"{"dropout":0,"embedding_size":4000,"hidden_size":4000,"num_layers":8,"vocab_size":17}"#
        }
        expectInvalid(big, "needs at least")
        // NaN weights.
        let nan = try Self.resealed(bytes) { file in
            let i = try #require(file.tensors.firstIndex { $0.name == "head.bias" })
            var values = file.tensors[i].tensor.floats()
            values[0] = .nan
            file.tensors[i].tensor = .init(values, shape: file.tensors[i].tensor.shape)
        }
        expectInvalid(nan, "non-finite")
        // A negative stream position and a step count at Int.max.
        for (from, to) in [(#""position":"#, #""position":-"#), (#""step":3"#, #""step":9223372036854775807"#)] {
            let state = try Self.resealed(bytes) { file in
                file.metadata["training"] = file.metadata["training"]!.replacingOccurrences(of: from, with: to)
            }
            expectInvalid(state, "training state out of range")
        }
        let options = try Self.resealed(bytes) { file in
            file.metadata["training"] = file.metadata["training"]!.replacingOccurrences(of: #""batch":2"#, with: #""batch":0"#)
        }
        expectInvalid(options, "stored training options")
    }

    @Test("stored session options beyond today's limits (threads, epochs) do not make a checkpoint unloadable")
    func oldSessionOptions() throws {
        let bytes = try Self.resealed(Self.bytes()) { file in
            var training = file.metadata["training"]!
            // evalEvery and epochs are absent by default (automatic, no epoch budget): add them.
            training = training.replacingOccurrences(of: #""threads":2"#, with: #""threads":1000,"evalEvery":0,"epochs":2000000000"#)
            file.metadata["training"] = training
        }
        let loaded = try Checkpoint(bytes: bytes)
        #expect(loaded.training?.options.threads == 1000 && loaded.training?.options.epochs == 2_000_000_000)
    }

    @Test("a future format version, a foreign safetensors file and non-checkpoints are told apart")
    func foreign() throws {
        let future = try Self.resealed(Self.bytes()) { $0.metadata["format_version"] = "5" }
        expectInvalid(future, "format version 5 is newer than this charnn reads")
        let plain = SafeTensorsFile(tensors: [("w", .init([1, 2], shape: [2]))], metadata: ["framework": "pt"]).serialized()
        expectInvalid(plain, "without charnn's metadata")
        expectInvalid(Array("just some text, not a checkpoint at all".utf8), "header length")
        expectInvalid([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0], "header length")
    }

    @Test("a directory, a FIFO and a device are refused without reading them", .timeLimit(.minutes(3)),
          arguments: ["dir", "fifo", "/dev/zero"])  // opening a FIFO for reading blocks: a regression must fail, not hang
    func notRegularFiles(kind: String) throws {
        let dir = try temporaryDirectory("special")
        var path = kind
        if kind == "dir" { path = dir }
        if kind == "fifo" {
            path = dir + "/pipe.safetensors"
            try #require(mkfifo(path, 0o644) == 0)
        }
        #expect { try Checkpoint.load(from: path) } throws: { error in
            "\(error)".hasPrefix(path + ": cannot read checkpoint: ") && ("\(error)".contains("regular file") || "\(error)".contains("directory"))
        }
    }
}
