import JobStore
import JSON

/// The pool's state as `/v1/status` and `forkpool status` show it.
public enum StatusReport {
    /// The `/v1/status` object of the contract, with a few more fields.
    public static func json(_ status: TableStatus, now: Int64 = wallClockMilliseconds()) -> JSONValue {
        let frontends = status.frontends.map { frontend in
            JSONValue.object(JSONObject([
                ("index", .integer(Int64(frontend.index))), ("pid", .integer(Int64(frontend.pid))),
                ("requests", .integer(Int64(clamping: frontend.requests))), ("waiting", .integer(Int64(frontend.waiting))),
                ("started_at", frontend.startedAt > 0 ? .string(iso8601(milliseconds: frontend.startedAt)) : .null),
            ]))
        }
        let running = status.runningJobs.map { job in
            JSONValue.object(JSONObject([
                ("id", .string(job.id.description)), ("task", .string(job.task)),
                ("worker_pid", .integer(Int64(job.workerPID))),
                ("running_ms", .integer(max(0, now - job.startedAt))),
            ]))
        }
        return .object(JSONObject([
            ("frontends", .array(frontends)),
            ("pool", .object(JSONObject([
                ("pid", .integer(Int64(status.poolPID))),
                ("started_at", status.poolStartedAt > 0 ? .string(iso8601(milliseconds: status.poolStartedAt)) : .null),
                ("workers", .object(JSONObject([
                    ("max", .integer(Int64(status.workersMax))), ("busy", .integer(Int64(status.workersBusy))),
                    ("idle", .integer(Int64(status.workersIdle))),
                ]))),
                ("running", .array(running)),
            ]))),
            ("queue", .object(JSONObject([
                ("depth", .integer(Int64(status.queued))), ("capacity", .integer(Int64(status.queueCapacity))),
            ]))),
            ("jobs", .object(JSONObject([
                ("queued", .integer(Int64(status.queued))), ("running", .integer(Int64(status.running))),
                ("succeeded", .integer(Int64(status.succeeded))), ("failed", .integer(Int64(status.failed))),
                ("canceled", .integer(Int64(status.canceled))), ("capacity", .integer(Int64(status.jobCapacity))),
                ("submitted_total", .integer(Int64(clamping: status.submittedTotal))),
                ("evicted_total", .integer(Int64(clamping: status.evictedTotal))),
                ("retried_total", .integer(Int64(clamping: status.retriedTotal))),
            ]))),
            ("segment", .object(JSONObject([
                ("bytes", .integer(Int64(status.segmentBytes))), ("used_bytes", .integer(Int64(status.usedBytes))),
                ("data_blocks_used", .integer(Int64(status.dataBlocksUsed))),
                ("data_blocks_total", .integer(Int64(status.dataBlocksTotal))),
                ("recoveries", .integer(Int64(status.recoveries))),
            ]))),
            ("supervisor", .object(JSONObject([
                ("pid", .integer(Int64(status.supervisorPID))),
                ("frontend_restarts", .integer(Int64(status.frontendRestarts))),
                ("pool_restarts", .integer(Int64(status.poolRestarts))),
            ]))),
            ("draining", .bool(status.draining)),
        ]))
    }

    /// A php-fpm-like text view for `forkpool status`.
    public static func text(_ status: TableStatus, now: Int64 = wallClockMilliseconds()) -> String {
        var lines: [String] = []
        lines.append("supervisor pid: \(status.supervisorPID)\(status.draining ? " (draining)" : "")")
        lines.append("pool pid:       \(status.poolPID)  restarts: \(status.poolRestarts)")
        lines.append("workers:        \(status.workersBusy) busy, \(status.workersIdle) idle, \(status.workersMax) max")
        lines.append("queue:          \(status.queued) of \(status.queueCapacity)")
        lines.append("jobs:           \(status.queued) queued, \(status.running) running, \(status.succeeded) succeeded, "
            + "\(status.failed) failed, \(status.canceled) canceled (capacity \(status.jobCapacity))")
        lines.append("segment:        \(status.usedBytes) of \(status.segmentBytes) bytes used")
        lines.append("front-ends:     \(status.frontends.count), restarts: \(status.frontendRestarts)")
        for frontend in status.frontends {
            lines.append("  #\(frontend.index) pid \(frontend.pid)  requests \(frontend.requests)  waiting \(frontend.waiting)")
        }
        if !status.runningJobs.isEmpty {
            lines.append("running:")
            for job in status.runningJobs {
                lines.append("  \(job.id)  \(job.task)  worker \(job.workerPID)  for \(max(0, now - job.startedAt)) ms")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Prometheus text exposition (version 0.0.4). Every number comes from the shared
    /// segment, so every front-end gives the same answer.
    public static func metrics(_ status: TableStatus, _ shared: MetricsSnapshot) -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { out += "\(name)\(sample.labels) \(sample.value)\n" }
        }
        func histogram(_ name: String, _ help: String, _ series: [(task: String, histogram: Histogram)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
            for (task, histogram) in series {
                var cumulative: UInt64 = 0
                for (index, count) in histogram.counts.enumerated() {
                    cumulative += count
                    let bound = index < histogram.bounds.count ? prometheusNumber(histogram.bounds[index]) : "+Inf"
                    out += "\(name)_bucket{task=\"\(task)\",le=\"\(bound)\"} \(cumulative)\n"
                }
                out += "\(name)_sum{task=\"\(task)\"} \(prometheusNumber(histogram.sumSeconds))\n"
                out += "\(name)_count{task=\"\(task)\"} \(cumulative)\n"
            }
        }
        let tasks = shared.tasks
        metric("forkpool_jobs_submitted_total", "counter", "Jobs accepted, by task.",
               tasks.map { ("{task=\"\(escape($0.name))\"}", "\($0.submitted)") })
        metric("forkpool_jobs_started_total", "counter", "Attempts started, by task (retries included).",
               tasks.map { ("{task=\"\(escape($0.name))\"}", "\($0.started)") })
        metric("forkpool_jobs_finished_total", "counter", "Jobs finished, by task and final state.", tasks.flatMap { task in
            [("succeeded", task.succeeded), ("failed", task.failed), ("canceled", task.canceled)].map {
                ("{task=\"\(escape(task.name))\",state=\"\($0.0)\"}", "\($0.1)")
            }
        })
        metric("forkpool_jobs_retried_total", "counter", "Attempts started again after a crash or timeout, by task.",
               tasks.map { ("{task=\"\(escape($0.name))\"}", "\($0.retried)") })
        histogram("forkpool_job_run_seconds", "Run time of each attempt, by task.", tasks.map { (escape($0.name), $0.runTime) })
        histogram("forkpool_job_queue_wait_seconds", "Time from submission to the first start, by task.",
                  tasks.map { (escape($0.name), $0.queueWait) })
        metric("forkpool_jobs", "gauge", "Jobs in the table, by state.", [
            ("{state=\"queued\"}", "\(status.queued)"), ("{state=\"running\"}", "\(status.running)"),
            ("{state=\"succeeded\"}", "\(status.succeeded)"), ("{state=\"failed\"}", "\(status.failed)"),
            ("{state=\"canceled\"}", "\(status.canceled)"),
        ])
        metric("forkpool_jobs_evicted_total", "counter", "Finished jobs removed for retention or space.", [("", "\(status.evictedTotal)")])
        metric("forkpool_queue_depth", "gauge", "Jobs waiting for a worker.", [("", "\(status.queued)")])
        metric("forkpool_queue_capacity", "gauge", "Most jobs that may wait.", [("", "\(status.queueCapacity)")])
        metric("forkpool_workers", "gauge", "Worker processes, by state.", [
            ("{state=\"busy\"}", "\(status.workersBusy)"), ("{state=\"idle\"}", "\(status.workersIdle)"),
        ])
        metric("forkpool_workers_max", "gauge", "Most workers at once.", [("", "\(status.workersMax)")])
        metric("forkpool_frontends_up", "gauge", "Front-end processes running.", [("", "\(status.frontends.filter { $0.pid > 0 }.count)")])
        var requests: [(labels: String, value: String)] = []
        for (route, counts) in shared.requests.enumerated() where route < RequestMetrics.routes.count {
            let (method, path) = RequestMetrics.routes[route]
            for (statusIndex, count) in counts.enumerated() where count > 0 {
                requests.append(("{method=\"\(method)\",route=\"\(path)\",status=\"\(RequestMetrics.statusLabel(statusIndex))\"}", "\(count)"))
            }
        }
        metric("forkpool_http_requests_total", "counter", "HTTP requests answered by all front-ends, by route and status.", requests)
        metric("forkpool_restarts_total", "counter", "Processes restarted by the supervisor, by kind.", [
            ("{kind=\"frontend\"}", "\(status.frontendRestarts)"), ("{kind=\"pool\"}", "\(status.poolRestarts)"),
        ])
        metric("forkpool_segment_bytes", "gauge", "Size of the shared segment.", [("", "\(status.segmentBytes)")])
        metric("forkpool_segment_used_bytes", "gauge", "Bytes of the segment in use.", [("", "\(status.usedBytes)")])
        metric("forkpool_job_slots", "gauge", "Job slots of the table, by use.", [
            ("{state=\"used\"}", "\(status.queued + status.running + status.succeeded + status.failed + status.canceled)"),
            ("{state=\"capacity\"}", "\(status.jobCapacity)"),
        ])
        metric("forkpool_data_blocks", "gauge", "Blocks of the data area, by use.", [
            ("{state=\"used\"}", "\(status.dataBlocksUsed)"), ("{state=\"capacity\"}", "\(status.dataBlocksTotal)"),
        ])
        metric("forkpool_table_recoveries_total", "counter", "Rebuilds after a process died holding the lock.", [("", "\(status.recoveries)")])
        return out
    }

    /// A label value with backslashes, quotes and newlines escaped.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// A number as Prometheus writes it: integral values without a fraction.
    static func prometheusNumber(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
