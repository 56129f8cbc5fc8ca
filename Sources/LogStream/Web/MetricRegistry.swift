// The figures the server reports, each declared once with its name, kind, help text and the function that
// reads it: /metrics renders them in Prometheus' text format, /api/stats (the dashboard's header) those that
// have a key there. A part's figures are registered where the server is wired together.

struct Metric {
    enum Kind: String {
        /// A count since start (its name ends in `_total`).
        case counter
        /// A level that goes up and down.
        case gauge
    }

    enum Reading {
        case integer(Int)
        case number(Double)
        /// One sample per value of `label`.
        case labeled(label: String, [(value: String, count: UInt64)])
    }

    let name: String
    let kind: Kind
    let help: String
    /// Its key in /api/stats, when the dashboard shows it.
    let statsKey: String?
    let read: () -> Reading
}

final class MetricRegistry {
    private(set) var metrics: [Metric] = []

    func counter(_ name: String, _ help: String, stats statsKey: String? = nil, _ read: @escaping () -> Int) {
        add(Metric(name: name, kind: .counter, help: help, statsKey: statsKey) { .integer(read()) })
    }

    func gauge(_ name: String, _ help: String, stats statsKey: String? = nil, _ read: @escaping () -> Int) {
        add(Metric(name: name, kind: .gauge, help: help, statsKey: statsKey) { .integer(read()) })
    }

    func counter(_ name: String, _ help: String, stats statsKey: String? = nil, number read: @escaping () -> Double) {
        add(Metric(name: name, kind: .counter, help: help, statsKey: statsKey) { .number(read()) })
    }

    func gauge(_ name: String, _ help: String, stats statsKey: String? = nil, number read: @escaping () -> Double) {
        add(Metric(name: name, kind: .gauge, help: help, statsKey: statsKey) { .number(read()) })
    }

    /// A counter per value of `label` (records by level, by service).
    func counters(_ name: String, _ help: String, label: String, stats statsKey: String? = nil,
                  _ read: @escaping () -> [(value: String, count: UInt64)]) {
        add(Metric(name: name, kind: .counter, help: help, statsKey: statsKey) { .labeled(label: label, read()) })
    }

    private func add(_ metric: Metric) {
        precondition(!metrics.contains { $0.name == metric.name }, "metric \(metric.name) registered twice")
        precondition((metric.kind == .counter) == metric.name.hasSuffix("_total"), "\(metric.name): counters, and only they, end in _total")
        metrics.append(metric)
    }
}
