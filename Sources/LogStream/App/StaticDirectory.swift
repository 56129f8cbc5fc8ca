// Finds the dashboard's folder whether LogStream runs from the repository (`swift run`) or elsewhere.
import Glibc

enum StaticDirectory {
    /// `./static`, else a `static` folder beside the executable or up to five levels above it
    /// (`.build/<triple>/release/logstream` sits four levels below the repository).
    static func find() -> String? {
        if hasDashboard("static") { return "static" }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        var directory = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for _ in 0..<6 {
            guard let slash = directory.lastIndex(of: "/") else { break }
            directory = String(directory[..<slash])
            if hasDashboard(directory + "/static") { return directory + "/static" }
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
