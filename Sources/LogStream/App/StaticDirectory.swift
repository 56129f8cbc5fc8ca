// Finds the dashboard's folder whether LogStream runs from the repository (`swift run`) or elsewhere.
import Glibc

enum StaticDirectory {
    /// `./static`; else a `static` folder beside the executable or up to five levels above it
    /// (`.build/<triple>/release/logstream` sits four levels below the repository); else an installed copy in
    /// `<prefix>/share/logstream/static` beside `<prefix>/bin/logstream`, or in /usr/local or /usr.
    static func find() -> String? {
        if hasDashboard("static") { return "static" }
        if let found = besideExecutable() { return found }
        return ["/usr/local/share/logstream/static", "/usr/share/logstream/static"].first(where: hasDashboard)
    }

    private static func besideExecutable() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        var directory = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for _ in 0..<6 {
            guard let slash = directory.lastIndex(of: "/") else { break }
            directory = String(directory[..<slash])
            if hasDashboard(directory + "/static") { return directory + "/static" }
            if hasDashboard(directory + "/share/logstream/static") { return directory + "/share/logstream/static" }
        }
        return nil
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    private static func hasDashboard(_ path: String) -> Bool {
        access(path + "/index.html", R_OK) == 0
    }
}
