#if canImport(Glibc)
import Glibc
#endif
import JobService
import Tasks

/// The `forkpool` command line, for the `forkpool` executable and for programs
/// that embed forkpool with tasks of their own:
///
/// ```swift
/// import ForkPoolServer
/// import Tasks
///
/// var tasks = TaskCatalog.builtIn()
/// try tasks.register(TaskDefinition(name: "reverse", description: "...", inputSchema: ..., handler: ...))
/// ForkPool.main(tasks: tasks)
/// ```
///
/// Handlers run in forked workers, so the catalog must be complete before `main`.
public enum ForkPool {
    static let usage = """
        usage: forkpool serve [flags]     run the job service (forkpool serve --help)
               forkpool status [flags]    show a running server (forkpool status --help)
               forkpool healthcheck       GET /healthz of a local server; exit 0 when healthy
        """

    /// A subcommand: its flags, a line for `--help`, and what it does with them (returns the exit code).
    struct Subcommand {
        let summary: String
        let specs: [FlagSpec]
        let run: (ParsedFlags, [String: String]) throws -> Int32
    }

    static func subcommands(tasks: TaskCatalog) -> [String: Subcommand] {
        [
            "serve": Subcommand(summary: "Runs the job service until SIGTERM or SIGINT.", specs: ServeFlags.specs) { flags, environment in
                let settings = try ServeFlags.settings(from: flags)
                let catalog = try ServeFlags.catalog(from: flags, adding: tasks, environment: environment)
                return Supervisor(settings: settings, catalog: catalog).run()
            },
            "status": Subcommand(summary: "Shows a running server's front-ends, workers, queue and jobs.",
                                 specs: StatusCommand.specs) { flags, _ in try StatusCommand.run(flags) },
            "healthcheck": Subcommand(summary: "GET /healthz; exit 0 when it answers 200 (for container health checks).",
                                      specs: HealthcheckCommand.specs) { flags, _ in try HealthcheckCommand.run(flags) },
        ]
    }

    /// Runs `forkpool serve`, `status` or `healthcheck` with `arguments` (the process's own by default) and exits.
    public static func main(arguments: [String] = Array(CommandLine.arguments.dropFirst()),
                            tasks: TaskCatalog = .builtIn()) -> Never {
        let environment = ProcessEnvironment.current
        // The token must not reach any child's environment.
        ProcessEnvironment.scrub("FORKPOOL_TOKEN")
        do {
            guard let name = arguments.first else { throw UsageError(usage) }
            if ["--help", "-h", "help"].contains(name) {
                printNow(usage)
                exit(0)
            }
            guard let command = subcommands(tasks: tasks)[name] else {
                throw UsageError("unknown command \"\(name)\"\n\(usage)")
            }
            let rest = Array(arguments.dropFirst())
            if rest.contains("--help") || rest.contains("-h") {
                printNow(helpText(command: name, summary: command.summary, specs: command.specs))
                exit(0)
            }
            exit(try command.run(ParsedFlags(rest, specs: command.specs, environment: environment), environment))
        } catch let error as UsageError {
            logLine("cli", error.description)
            exit(2)
        } catch {
            logLine("cli", "\(error)")
            exit(1)
        }
    }
}
