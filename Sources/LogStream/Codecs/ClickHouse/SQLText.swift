// User text as ClickHouse SQL: the one place a string becomes a literal or an identifier. ClickHouse 18.16 has
// no query parameters, so every value is written into the query; the escaping that is safe on 18.16 and on
// current releases alike (measured, ../shared/CLICKHOUSE.md) is backslash first, then the quote, inside
// single quotes. Doubling quotes is not: it leaves backslashes live. Bytes that are not text (NUL, control
// bytes, invalid UTF-8) go through unchanged: inside the quotes only `\` and `'` mean anything.

public enum SQLText {
    /// `'…'` with `\` and `'` escaped.
    public static func literal(_ text: String) -> String {
        var escaped = "'"
        escaped.reserveCapacity(text.utf8.count + 2)
        for character in text.unicodeScalars {
            switch character {
            case "\\": escaped += "\\\\"
            case "'": escaped += "\\'"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped + "'"
    }

    /// A LIKE pattern that matches `text` literally inside `%…%`: `\`, `%` and `_` escaped, then made a literal.
    public static func likeContaining(_ text: String) -> String {
        var pattern = ""
        for character in text.unicodeScalars {
            if character == "\\" || character == "%" || character == "_" { pattern += "\\" }
            pattern.unicodeScalars.append(character)
        }
        return literal("%" + pattern + "%")
    }

    /// A name in backquotes, with `\` and `` ` `` escaped (ClickHouse's rules for quoted identifiers).
    public static func identifier(_ name: String) -> String {
        var escaped = "`"
        for character in name.unicodeScalars {
            if character == "\\" || character == "`" { escaped += "\\" }
            escaped.unicodeScalars.append(character)
        }
        return escaped + "`"
    }
}
