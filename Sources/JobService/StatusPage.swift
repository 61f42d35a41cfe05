import JobStore

/// `GET /`: the status view as one HTML page with no external assets: it refreshes
/// itself every few seconds and reads well on a phone.
enum StatusPage {
    static func html(_ status: TableStatus, _ metrics: MetricsSnapshot, now: Int64 = wallClockMilliseconds()) -> String {
        let finished = status.succeeded + status.failed + status.canceled
        let busyPercent = status.workersMax > 0 ? status.workersBusy * 100 / status.workersMax : 0
        let queuePercent = status.queueCapacity > 0 ? status.queued * 100 / status.queueCapacity : 0
        let segmentPercent = status.segmentBytes > 0 ? Int(Double(status.usedBytes) * 100 / Double(status.segmentBytes)) : 0
        var page = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="refresh" content="5">
            <title>forkpool status</title>
            <style>
            :root { color-scheme: light dark; --accent: #2f6feb; --ok: #1a7f37; --bad: #cf222e; --muted: #6e7781; }
            body { font: 15px/1.45 system-ui, -apple-system, "DejaVu Sans", sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem; }
            h1 { font-size: 1.3rem; margin: 0 0 .2rem; } h2 { font-size: 1.05rem; margin: 1.4rem 0 .5rem; }
            .sub { color: var(--muted); font-size: .85rem; }
            .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(9.5rem, 1fr)); gap: .6rem; margin-top: 1rem; }
            .card { border: 1px solid #8884; border-radius: .6rem; padding: .6rem .8rem; }
            .card b { display: block; font-size: 1.5rem; } .card span { color: var(--muted); font-size: .8rem; }
            .bar { height: .4rem; background: #8883; border-radius: .2rem; margin-top: .4rem; overflow: hidden; }
            .bar i { display: block; height: 100%; background: var(--accent); }
            table { width: 100%; border-collapse: collapse; font-size: .9rem; }
            th, td { text-align: left; padding: .35rem .4rem; border-bottom: 1px solid #8883; }
            td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
            .ok { color: var(--ok); } .bad { color: var(--bad); }
            .scroll { overflow-x: auto; }
            code { font-size: .85em; }
            </style></head><body>
            <h1>forkpool <span class="\(status.draining ? "bad" : "ok")">\(status.draining ? "draining" : "serving")</span></h1>
            <div class="sub">supervisor \(status.supervisorPID) · pool \(status.poolPID) · \(status.frontends.count) front-ends · refreshed every 5 s</div>
            <div class="cards">
            \(card("workers busy", "\(status.workersBusy) / \(status.workersMax)", percent: busyPercent))
            \(card("queued", "\(status.queued)", percent: queuePercent, note: "of \(status.queueCapacity)"))
            \(card("running", "\(status.running)"))
            \(card("succeeded", "\(status.succeeded)"))
            \(card("failed", "\(status.failed)"))
            \(card("segment used", "\(segmentPercent)%", percent: segmentPercent, note: megabytes(status.usedBytes) + " of " + megabytes(status.segmentBytes)))
            </div>
            <h2>Running jobs</h2>
            """
        if status.runningJobs.isEmpty {
            page += "<p class=\"sub\">No job is running.</p>"
        } else {
            page += "<div class=\"scroll\"><table><tr><th>job</th><th>task</th><th class=\"n\">worker</th><th class=\"n\">for</th></tr>"
            for job in status.runningJobs.prefix(50) {
                page += "<tr><td><code>\(escape(job.id.description))</code></td><td>\(escape(job.task))</td>"
                    + "<td class=\"n\">\(job.workerPID)</td><td class=\"n\">\(seconds(now - job.startedAt))</td></tr>"
            }
            page += "</table></div>"
        }
        page += "<h2>Tasks</h2><div class=\"scroll\"><table><tr><th>task</th><th class=\"n\">submitted</th>"
            + "<th class=\"n\">succeeded</th><th class=\"n\">failed</th><th class=\"n\">canceled</th><th class=\"n\">mean run</th></tr>"
        for task in metrics.tasks {
            let mean = task.runTime.count > 0 ? seconds(Int64(task.runTime.sumSeconds * 1000 / Double(task.runTime.count))) : "–"
            page += "<tr><td>\(escape(task.name))</td><td class=\"n\">\(task.submitted)</td><td class=\"n ok\">\(task.succeeded)</td>"
                + "<td class=\"n\(task.failed > 0 ? " bad" : "")\">\(task.failed)</td><td class=\"n\">\(task.canceled)</td>"
                + "<td class=\"n\">\(mean)</td></tr>"
        }
        page += "</table></div><h2>Front-ends</h2><div class=\"scroll\"><table><tr><th>#</th><th class=\"n\">pid</th>"
            + "<th class=\"n\">requests</th><th class=\"n\">long polls</th><th class=\"n\">up</th></tr>"
        for frontend in status.frontends {
            let up = frontend.pid > 0 && frontend.startedAt > 0 ? seconds(now - frontend.startedAt) : "down"
            page += "<tr><td>\(frontend.index)</td><td class=\"n\">\(frontend.pid)</td><td class=\"n\">\(frontend.requests)</td>"
                + "<td class=\"n\">\(frontend.waiting)</td><td class=\"n\">\(up)</td></tr>"
        }
        page += """
            </table></div>
            <p class="sub">\(finished) finished jobs kept (capacity \(status.jobCapacity)), \(status.evictedTotal) evicted, \
            \(status.retriedTotal) retried · restarts: \(status.poolRestarts) pool, \(status.frontendRestarts) front-end · \
            <a href="/metrics">metrics</a> · <a href="/v1/status">JSON</a></p>
            </body></html>
            """
        return page
    }

    private static func card(_ label: String, _ value: String, percent: Int? = nil, note: String? = nil) -> String {
        var html = "<div class=\"card\"><span>\(label)</span><b>\(value)</b>"
        if let note { html += "<span>\(escape(note))</span>" }
        if let percent { html += "<div class=\"bar\"><i style=\"width:\(min(100, max(0, percent)))%\"></i></div>" }
        return html + "</div>"
    }

    private static func megabytes(_ bytes: Int) -> String {
        bytes >= 1 << 20 ? "\(bytes >> 20) MiB" : "\(bytes >> 10) KiB"
    }

    private static func seconds(_ milliseconds: Int64) -> String {
        let value = max(0, milliseconds)
        if value < 1000 { return "\(value) ms" }
        if value < 120_000 { return "\(value / 1000).\(value % 1000 / 100) s" }
        if value < 7_200_000 { return "\(value / 60_000) min" }
        return "\(value / 3_600_000) h"
    }

    /// Text for HTML: the five characters that could start markup are escaped.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
