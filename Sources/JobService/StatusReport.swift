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

    /// Prometheus text exposition (version 0.0.4).
    public static func metrics(_ status: TableStatus) -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { out += "\(name)\(sample.labels) \(sample.value)\n" }
        }
        metric("forkpool_jobs_submitted_total", "counter", "Jobs accepted.", [("", "\(status.submittedTotal)")])
        metric("forkpool_jobs_finished_total", "counter", "Jobs finished, by final state.", [
            ("{state=\"succeeded\"}", "\(status.finishedSucceeded)"), ("{state=\"failed\"}", "\(status.finishedFailed)"),
            ("{state=\"canceled\"}", "\(status.finishedCanceled)"),
        ])
        metric("forkpool_jobs", "gauge", "Jobs in the table, by state.", [
            ("{state=\"queued\"}", "\(status.queued)"), ("{state=\"running\"}", "\(status.running)"),
            ("{state=\"succeeded\"}", "\(status.succeeded)"), ("{state=\"failed\"}", "\(status.failed)"),
            ("{state=\"canceled\"}", "\(status.canceled)"),
        ])
        metric("forkpool_jobs_retried_total", "counter", "Attempts started again after a crash or timeout.", [("", "\(status.retriedTotal)")])
        metric("forkpool_jobs_evicted_total", "counter", "Finished jobs removed for retention or space.", [("", "\(status.evictedTotal)")])
        metric("forkpool_queue_depth", "gauge", "Jobs waiting for a worker.", [("", "\(status.queued)")])
        metric("forkpool_queue_capacity", "gauge", "Most jobs that may wait.", [("", "\(status.queueCapacity)")])
        metric("forkpool_workers", "gauge", "Worker processes, by state.", [
            ("{state=\"busy\"}", "\(status.workersBusy)"), ("{state=\"idle\"}", "\(status.workersIdle)"),
        ])
        metric("forkpool_workers_max", "gauge", "Most workers at once.", [("", "\(status.workersMax)")])
        metric("forkpool_frontends", "gauge", "Front-end processes.", [("", "\(status.frontends.filter { $0.pid > 0 }.count)")])
        metric("forkpool_http_requests_total", "counter", "HTTP requests answered, by front-end.",
               status.frontends.map { ("{frontend=\"\($0.index)\"}", "\($0.requests)") })
        metric("forkpool_restarts_total", "counter", "Processes restarted by the supervisor.", [
            ("{kind=\"frontend\"}", "\(status.frontendRestarts)"), ("{kind=\"pool\"}", "\(status.poolRestarts)"),
        ])
        metric("forkpool_segment_bytes", "gauge", "Size of the shared segment.", [("", "\(status.segmentBytes)")])
        metric("forkpool_segment_used_bytes", "gauge", "Bytes of the segment in use.", [("", "\(status.usedBytes)")])
        metric("forkpool_table_recoveries_total", "counter", "Rebuilds after a process died holding the lock.", [("", "\(status.recoveries)")])
        return out
    }
}
