import JobStore
import JSON

/// The job object of the contract, written straight to bytes: the stored input
/// and result are raw JSON and go in verbatim.
enum JobRendering {
    static func write(_ job: JobSnapshot, into out: inout [UInt8]) {
        out.append(contentsOf: #"{"id":""#.utf8)
        job.id.append(to: &out)
        out.append(contentsOf: #"","task":"#.utf8)
        JSONWriter.writeString(job.task, into: &out)
        out.append(contentsOf: #","state":""#.utf8)
        out.append(contentsOf: job.state.name.utf8)
        out.append(contentsOf: #"","priority":"#.utf8)
        appendInteger(job.priority, to: &out)
        out.append(contentsOf: #","attempts":"#.utf8)
        appendDigits(job.attempts, to: &out)
        out.append(contentsOf: #","max_attempts":"#.utf8)
        appendDigits(job.maxAttempts, to: &out)
        out.append(contentsOf: #","timeout_ms":"#.utf8)
        appendDigits(Int(job.timeoutMs), to: &out)
        if let result = job.result {
            out.append(contentsOf: #","result":"#.utf8)
            out.append(contentsOf: result)
        }
        if let message = job.errorMessage {
            out.append(contentsOf: #","error":{"code":"#.utf8)
            JSONWriter.writeString(job.errorCode.name, into: &out)
            out.append(contentsOf: #","message":"#.utf8)
            JSONWriter.writeString(message, into: &out)
            out.append(UInt8(ascii: "}"))
        }
        if let progress = job.progress {
            out.append(contentsOf: #","progress":{"percent":"#.utf8)
            JSONWriter.write(.double(progress.percent), into: &out)
            out.append(contentsOf: #","message":"#.utf8)
            JSONWriter.writeString(progress.message, into: &out)
            out.append(UInt8(ascii: "}"))
        }
        if let pid = job.workerPID {
            out.append(contentsOf: #","worker_pid":"#.utf8)
            appendInteger(Int(pid), to: &out)
        }
        out.append(contentsOf: #","created_at":""#.utf8)
        appendISO8601(milliseconds: job.createdAt, to: &out)
        if let started = job.startedAt {
            out.append(contentsOf: #"","started_at":""#.utf8)
            appendISO8601(milliseconds: started, to: &out)
        }
        if let finished = job.finishedAt {
            out.append(contentsOf: #"","finished_at":""#.utf8)
            appendISO8601(milliseconds: finished, to: &out)
        }
        out.append(contentsOf: #""}"#.utf8)
    }

    static func encode(_ job: JobSnapshot) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + (job.result?.count ?? 0))
        write(job, into: &out)
        return out
    }

    static func encode(_ page: JobPage) -> [UInt8] {
        var out: [UInt8] = Array(#"{"jobs":["#.utf8)
        for (index, job) in page.jobs.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            write(job, into: &out)
        }
        out.append(contentsOf: #"],"next_cursor":"#.utf8)
        if let cursor = page.nextCursor {
            JSONWriter.writeString(cursor, into: &out)
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
