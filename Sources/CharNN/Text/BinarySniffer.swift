#if canImport(Glibc)
    import Glibc
#endif

/// Recognizes files that are plainly not UTF-8 text before they are tokenized.
///
/// Without this, an executable or an image fails with "invalid UTF-8 at byte offset 24" and a
/// hint to pass `--replace-invalid`, which would then train on garbage; and UTF-16 text (every
/// other byte NUL for Latin script) is *valid* UTF-8, so it would train silently on nonsense.
/// NUL never occurs in real text files, so any NUL byte marks a file as binary or UTF-16.
enum BinarySniffer {
    /// File signatures worth naming, checked at offset 0.
    private static let signatures: [(bytes: [UInt8], what: String)] = [
        ([0x7F, 0x45, 0x4C, 0x46], "an ELF executable or library"),
        ([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG image"),
        ([0xFF, 0xD8, 0xFF], "a JPEG image"),
        ([0x47, 0x49, 0x46, 0x38], "a GIF image"),
        ([0x25, 0x50, 0x44, 0x46, 0x2D], "a PDF document; extract its text first (e.g. pdftotext)"),
        ([0x50, 0x4B, 0x03, 0x04], "a zip archive (or a .docx/.epub); extract its text first"),
        ([0x1F, 0x8B], "gzip-compressed; decompress it first (gunzip)"),
        ([0x28, 0xB5, 0x2F, 0xFD], "zstd-compressed; decompress it first (unzstd)"),
        ([0xFF, 0xFE, 0x00, 0x00], "UTF-32 text; convert it to UTF-8 first (iconv -f UTF-32 -t UTF-8)"),
        ([0xFF, 0xFE], "UTF-16 text; convert it to UTF-8 first (iconv -f UTF-16 -t UTF-8)"),
        ([0xFE, 0xFF], "UTF-16 text; convert it to UTF-8 first (iconv -f UTF-16 -t UTF-8)"),
    ]

    /// Throws ``TextError/notText(path:reason:)`` for a known binary signature or a NUL byte.
    /// For a piece of a file read in chunks, `offset` and `linesBefore` place it in the file;
    /// signatures are looked for only at the file's start.
    static func check(_ bytes: [UInt8], path: String, offset: Int = 0, linesBefore: Int = 0) throws(TextError) {
        try bytes.withUnsafeBufferPointer { (buffer) throws(TextError) in
            try check(buffer, path: path, offset: offset, linesBefore: linesBefore)
        }
    }

    /// As the array version, for bytes in place (a mapped file).
    static func check(_ bytes: UnsafeBufferPointer<UInt8>, path: String, offset: Int = 0, linesBefore: Int = 0) throws(TextError) {
        for signature in signatures where offset == 0 && bytes.starts(with: signature.bytes) {
            throw .notText(path: path, reason: "it is \(signature.what)")
        }
        // memchr scans at memory speed, so this costs nothing next to tokenizing.
        guard let base = bytes.baseAddress, let hit = memchr(base, 0, bytes.count) else { return }
        let nul = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
        let line = UTF8Validation.lineNumber(of: nul, in: bytes)
        throw .notText(path: path, reason: "NUL byte at byte offset \(offset + nul) (line \(linesBefore + line)): binary data or UTF-16 text, not UTF-8")
    }
}
