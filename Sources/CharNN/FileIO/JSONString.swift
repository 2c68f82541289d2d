// Used by the checkpoint header writer; the CLI's --json output goes through JSONEncoder (CharNNCLI/JSONOutput.swift).

/// A JSON string literal: quotes, backslashes and control characters escaped (and U+2028,
/// U+2029, which JavaScript parsers reject raw); everything else as UTF-8.
package func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        case "\u{2028}", "\u{2029}", "\u{00}"..."\u{1F}":
            let hex = String(scalar.value, radix: 16, uppercase: false)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
