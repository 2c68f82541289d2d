import CUTF8Proc

/// Readable spellings of symbols for tables and messages, where a bare newline, tab or
/// zero-width joiner would be invisible or break the layout.
package enum SymbolEscaping {
    /// The symbol in double quotes, with invisible and layout-breaking scalars escaped:
    /// `"\n"`, `"\t"`, `"\r\n"`, `" "`, `"\u{200D}"`, and a combining mark with no base before
    /// it as `"\u{301}"`. Quotes and backslashes are escaped; everything else is shown as is.
    package static func quoted(_ symbol: String) -> String {
        var out = "\""
        var first = true
        for scalar in symbol.unicodeScalars {
            out += escaped(scalar, atStart: first)
            first = false
        }
        return out + "\""
    }

    private static func escaped(_ s: Unicode.Scalar, atStart: Bool) -> String {
        switch s {
        case "\n": return "\\n"
        case "\t": return "\\t"
        case "\r": return "\\r"
        case "\"": return "\\\""
        case "\\": return "\\\\"
        case " ": return " "
        default: break
        }
        let category = utf8proc_category(Int32(bitPattern: s.value))
        switch category {
        case UTF8PROC_CATEGORY_CC, UTF8PROC_CATEGORY_CF, UTF8PROC_CATEGORY_ZS,
            UTF8PROC_CATEGORY_ZL, UTF8PROC_CATEGORY_ZP, UTF8PROC_CATEGORY_CO,
            UTF8PROC_CATEGORY_CN, UTF8PROC_CATEGORY_CS:
            return hex(s)
        case UTF8PROC_CATEGORY_MN, UTF8PROC_CATEGORY_ME, UTF8PROC_CATEGORY_MC:
            // A mark with nothing before it would draw on the opening quote.
            return atStart ? hex(s) : String(s)
        default:
            return String(s)
        }
    }

    private static func hex(_ s: Unicode.Scalar) -> String {
        "\\u{" + String(s.value, radix: 16, uppercase: true) + "}"
    }
}
