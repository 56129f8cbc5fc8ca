// Every fuzz target's main: hands its test function to libFuzzer's driver with the program's arguments.
import CFuzzDriver
import Glibc

public typealias FuzzTest = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

public func runFuzzer(_ test: FuzzTest) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, test))
}
