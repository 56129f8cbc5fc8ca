// The dashboard's files, read once at startup from the static folder. Only files found there are ever served,
// so no request path can reach outside it.

struct StaticFiles {
    private var files: [String: (contentType: String, body: [UInt8])] = [:]

    var isEmpty: Bool { files.isEmpty }

    /// Loads the regular files directly inside `directory`; symbolic links are left out (one could lead out of
    /// the folder), as are files that cannot be read.
    init(directory: String?) {
        guard let directory, let names = try? FileSystem.entries(of: directory) else { return }
        for name in names where !name.hasPrefix(".") {
            let path = "\(directory)/\(name)"
            guard FileSystem.kind(of: path) == .regularFile, let body = Self.contents(of: path) else { continue }
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

    private static func contents(of path: String) -> [UInt8]? {
        guard let file = try? File(path, for: .reading), let size = try? file.size() else { return nil }
        var bytes = [UInt8](repeating: 0, count: size)
        let count = try? bytes.withUnsafeMutableBytes { raw in Result { () throws(SystemError) in try file.read(into: raw, at: 0) } }.get()
        return count == size ? bytes : nil
    }
}
