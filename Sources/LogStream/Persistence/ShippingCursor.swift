// How far shipping to ClickHouse has got, kept in the data directory so that it resumes there after a restart
// or a crash: the first id not shipped yet. Written by the shipping worker after each batch ClickHouse has
// taken, so that a crash ships at most one batch again (which the table merges away), never skips one.

public struct ShippingCursor: Sendable {
    let directory: DataDirectory

    /// The stored cursor; nil before the first batch ever shipped from this directory.
    public func load() -> UInt64? { directory.readShippedUpTo() }

    public func store(_ next: UInt64) throws(SystemError) { try directory.writeShippedUpTo(next) }
}

extension DiskHistory {
    public var shippingCursor: ShippingCursor { ShippingCursor(directory: directory) }
}
