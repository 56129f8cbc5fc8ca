// Finds the dashboard's folder whether LogStream runs from the repository (`swift run`) or elsewhere.

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
        guard var directory = FileSystem.executablePath else { return nil }
        for _ in 0..<6 {
            guard let slash = directory.lastIndex(of: "/") else { break }
            directory = String(directory[..<slash])
            if hasDashboard(directory + "/static") { return directory + "/static" }
            if hasDashboard(directory + "/share/logstream/static") { return directory + "/share/logstream/static" }
        }
        return nil
    }

    private static func hasDashboard(_ path: String) -> Bool {
        FileSystem.isReadable(path + "/index.html")
    }
}
