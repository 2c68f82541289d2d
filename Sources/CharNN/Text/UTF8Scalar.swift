/// Decoding and encoding one scalar of UTF-8 that is already known to be valid: the inner
/// loops of normalization and segmentation need nothing slower.
enum UTF8Scalar {
    /// The scalar at `i` and its length in bytes. The bytes must be valid UTF-8.
    @inline(__always)
    static func decode(_ p: UnsafePointer<UInt8>, at i: Int) -> (Int32, Int) {
        let b0 = Int32(p[i])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | Int32(p[i + 1] & 0x3F), 2) }
        if b0 < 0xF0 {
            return ((b0 & 0x0F) << 12 | Int32(p[i + 1] & 0x3F) << 6 | Int32(p[i + 2] & 0x3F), 3)
        }
        let v = (b0 & 0x07) << 18 | Int32(p[i + 1] & 0x3F) << 12
            | Int32(p[i + 2] & 0x3F) << 6 | Int32(p[i + 3] & 0x3F)
        return (v, 4)
    }

    /// The length of the scalar whose first byte is `b0`, in valid UTF-8.
    @inline(__always)
    static func length(leadByte b0: UInt8) -> Int {
        b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4
    }

    /// Appends the UTF-8 form of scalar `cp` to `output`.
    @inline(__always)
    static func append(_ cp: Int32, to output: inout [UInt8]) {
        let v = UInt32(bitPattern: cp)
        if v < 0x80 {
            output.append(UInt8(v))
        } else if v < 0x800 {
            output.append(UInt8(0xC0 | v >> 6))
            output.append(UInt8(0x80 | v & 0x3F))
        } else if v < 0x10000 {
            output.append(UInt8(0xE0 | v >> 12))
            output.append(UInt8(0x80 | (v >> 6) & 0x3F))
            output.append(UInt8(0x80 | v & 0x3F))
        } else {
            output.append(UInt8(0xF0 | v >> 18))
            output.append(UInt8(0x80 | (v >> 12) & 0x3F))
            output.append(UInt8(0x80 | (v >> 6) & 0x3F))
            output.append(UInt8(0x80 | v & 0x3F))
        }
    }
}
