import JobStore
import JSON

/// The job object of the contract, written straight to bytes: the stored input
/// and result are raw JSON and go in verbatim.
enum JobRendering {
    static func write(_ job: JobSnapshot, into out: inout [UInt8]) {
        out.append(literal: #"{"id":""#)
        job.id.append(to: &out)
        out.append(literal: #"","task":"#)
        JSONWriter.writeString(job.task, into: &out)
        out.append(literal: #","state":""#)
        out.append(contentsOf: job.state.name.utf8)
        out.append(literal: #"","priority":"#)
        appendInteger(job.priority, to: &out)
        out.append(literal: #","attempts":"#)
        appendDigits(job.attempts, to: &out)
        out.append(literal: #","max_attempts":"#)
        appendDigits(job.maxAttempts, to: &out)
        out.append(literal: #","timeout_ms":"#)
        appendDigits(Int(job.timeoutMs), to: &out)
        if let result = job.result {
            out.append(literal: #","result":"#)
            out.append(contentsOf: result)
        }
        if let message = job.errorMessage {
            out.append(literal: #","error":{"code":"#)
            JSONWriter.writeString(job.errorCode.name, into: &out)
            out.append(literal: #","message":"#)
            JSONWriter.writeString(message, into: &out)
            out.append(UInt8(ascii: "}"))
        }
        if let progress = job.progress {
            out.append(literal: #","progress":{"percent":"#)
            JSONWriter.write(.double(progress.percent), into: &out)
            out.append(literal: #","message":"#)
            JSONWriter.writeString(progress.message, into: &out)
            out.append(UInt8(ascii: "}"))
        }
        if let pid = job.workerPID {
            out.append(literal: #","worker_pid":"#)
            appendInteger(Int(pid), to: &out)
        }
        out.append(literal: #","created_at":""#)
        appendISO8601(milliseconds: job.createdAt, to: &out)
        if let started = job.startedAt {
            out.append(literal: #"","started_at":""#)
            appendISO8601(milliseconds: started, to: &out)
        }
        if let finished = job.finishedAt {
            out.append(literal: #"","finished_at":""#)
            appendISO8601(milliseconds: finished, to: &out)
        }
        out.append(literal: #""}"#)
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
        out.append(literal: #"],"next_cursor":"#)
        if let cursor = page.nextCursor {
            JSONWriter.writeString(cursor, into: &out)
        } else {
            out.append(literal: "null")
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}

extension Array where Element == UInt8 {
    /// Appends a literal's bytes with one copy (a String's UTF-8 view is appended byte by byte).
    mutating func append(literal: StaticString) {
        literal.withUTF8Buffer { append(contentsOf: $0) }
    }
}
