import Foundation

/// The checksum over a checkpoint's `__metadata__`, stored in the metadata itself under
/// `metadata_crc32c` (format version 2 on).
///
/// The tensor CRC covers only the data section, so before version 2 a flipped bit in the header
/// that still parsed (a digit of the step count, of a vocabulary count, of Adam's beta) loaded
/// silently. This second checksum covers every metadata entry but itself, in a canonical form
/// that any language reproduces without a JSON library: for each key in code-point order,
/// the key's UTF-8 bytes, a 0x00 byte, the value's UTF-8 bytes, a 0x00 byte. In Python:
/// `b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k in sorted(meta) if k != "metadata_crc32c")`.
/// The tensor entries of the header (dtype, shape, offsets) need no checksum: the container
/// checks them against each other and the data size, and the tensor CRC checks the bytes.
@_spi(Internals) public enum MetadataChecksum {
    /// The metadata key that holds the checksum.
    public static let key = CheckpointKey.metadataChecksum

    /// The checksum of `metadata` with its own entry left out, as 8 lowercase hex digits.
    public static func compute(_ metadata: [String: String]) -> String {
        var crc = CRC32C()
        // UTF-8 byte order is code-point order, which is what Python's sorted() uses for str.
        let keys = metadata.keys.filter { $0 != key }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for k in keys {
            crc.update(Array(k.utf8) + [0] + Array(metadata[k]!.utf8) + [0])
        }
        return String(format: "%08x", crc.value)
    }

    /// `metadata` with its checksum entry set (replacing any stale one).
    public static func sealed(_ metadata: [String: String]) -> [String: String] {
        var sealed = metadata
        sealed[key] = compute(metadata)
        return sealed
    }

    /// The CRC-32C of all tensor bytes in file order, as 8 lowercase hex digits (`tensor_crc32c`).
    public static func tensorChecksum(_ tensors: [(name: String, tensor: SafeTensorsFile.Tensor)]) -> String {
        var crc = CRC32C()
        for (_, tensor) in tensors { crc.update(tensor.bytes) }
        return String(format: "%08x", crc.value)
    }
}
