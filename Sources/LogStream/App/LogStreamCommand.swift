public enum LogStreamCommand { public static func main() {} }
