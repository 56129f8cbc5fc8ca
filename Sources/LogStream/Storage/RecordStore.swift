// Parts beside the ring that keep their own copy of every record (the disk history; next, shippers).

/// A part that keeps its own copy of every record as it is stored (the disk history). Called on the reactor
/// thread, in the turn the record arrived, after the ring gave it its id; ids arrive in increasing order. The
/// record's byte views live only for the call.
public protocol RecordStore: AnyObject {
    func append(_ record: NewRecord, id: UInt64)
    /// Whether it can take more records now (false while its buffer waits for the disk).
    var hasRoom: Bool { get }
}
