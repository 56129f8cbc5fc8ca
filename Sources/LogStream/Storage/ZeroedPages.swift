// Large zero-filled regions for the ring, taken straight from the kernel: pages cost memory only once written
// (a 10,000,000-record ring that holds 10,000 records is small), and transparent huge pages, where the kernel
// offers them, take the first-touch page faults of a filling ring down 512-fold.
import Glibc

struct ZeroedPages: ~Copyable {
    let base: UnsafeMutableRawPointer
    let byteCount: Int

    init(byteCount: Int) {
        self.byteCount = max(byteCount, 1)
        let mapped = mmap(nil, self.byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let mapped, mapped != MAP_FAILED else { fatalError("cannot map \(byteCount) bytes: \(String(cString: strerror(errno)))") }
        _ = madvise(mapped, self.byteCount, MADV_HUGEPAGE)  // advice only: a refusal changes nothing
        base = mapped
    }

    deinit { munmap(base, byteCount) }
}
