// The dashboard's files, read once at startup from the static folder. Only files found there are ever served,
// so no request path can reach outside it.
import Glibc

struct StaticFiles {
    private var files: [String: (contentType: String, body: [UInt8])] = [:]

    var isEmpty: Bool { files.isEmpty }

    /// Loads the regular files directly inside `directory`.
    init(directory: String?) {
        guard let directory, let dir = opendir(directory) else { return }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard !name.hasPrefix("."), let body = Self.readFile("\(directory)/\(name)") else { continue }
            files[name] = (Self.contentType(of: name), body)
        }
    }

    func file(named name: String) -> (contentType: String, body: [UInt8])? { files[name] }

    static func contentType(of name: String) -> String {
        switch name.split(separator: ".").last ?? "" {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "ico": "image/x-icon"
        case "json": "application/json"
        default: "application/octet-stream"
        }
    }

    /// A regular file's bytes; nil for anything else, symbolic links included (one could lead out of the folder).
    private static func readFile(_ path: String) -> [UInt8]? {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let count = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        return count == bytes.count ? bytes : nil
    }
}
