// forkpool-example: forkpool with one task of its own.
//
// A program embeds forkpool by building a task catalog (the built-ins plus its
// own tasks, registered the same way) and handing it to `ForkPool.main`, which
// runs the same `serve` and `status` commands as the `forkpool` binary:
//
//   forkpool-example serve --port 8080
//   curl -s -X POST 'localhost:8080/v1/jobs?wait=5' -H 'Content-Type: application/json' \
//     -d '{"task": "reverse", "input": {"text": "stressed"}}'
import ForkPoolServer
import JSON
import ProcessPool
import Tasks

/// Reverses a string, reporting progress half-way, to show every part of a task.
let reverse = TaskDefinition(
    name: "reverse",
    description: "Reverses the characters of `text`; returns {\"reversed\": ...}.",
    inputSchema: try! JSONSchema(JSONParser.parse(#"""
        {"type": "object", "required": ["text"], "additionalProperties": false,
         "properties": {"text": {"type": "string", "maxLength": 10000}}}
        """#))
) { input, context in
    // Handlers run in a forked worker: the input was validated against the schema before the job was accepted.
    guard case let .object(fields) = try JSONParser.parse(input), case let .string(text)? = fields["text"] else {
        throw TaskError("input needs a string \"text\"")
    }
    try context.reportProgress(percent: 50, message: "reversing \(text.count) characters")
    return JSONWriter.encode(.object(JSONObject([("reversed", .string(String(text.reversed())))])))
}

var tasks = TaskCatalog.builtIn()
do {
    try tasks.register(reverse)
} catch {
    fatalError("\(error)")
}
ForkPool.main(tasks: tasks)
