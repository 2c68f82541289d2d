import CKernels

/// CRC-32C (Castagnoli) checksums, as used for checkpoint tensor bytes. Incremental: feed the
/// bytes in any number of pieces.
package struct CRC32C: Sendable, Equatable {
    package private(set) var value: UInt32 = 0

    package init() {}

    package mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        value = ck_crc32c_update(value, base, bytes.count)
    }

    package mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The checksum of one byte array.
    package static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }
}
