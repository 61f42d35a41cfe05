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

    /// Runs `forkpool serve` or `forkpool status` with `arguments` (the process's own by default) and exits.
    public static func main(arguments: [String] = Array(CommandLine.arguments.dropFirst()),
                            tasks: TaskCatalog = .builtIn()) -> Never {
        let environment = ProcessEnvironment.current
        // The token must not reach any child's environment.
        ProcessEnvironment.scrub("FORKPOOL_TOKEN")
        do {
            switch arguments.first {
            case "serve":
                let rest = Array(arguments.dropFirst())
                if rest.contains("--help") || rest.contains("-h") {
                    printNow(helpText(command: "serve", summary: "Runs the job service until SIGTERM or SIGINT.", specs: ServeFlags.specs))
                    exit(0)
                }
                let flags = try ParsedFlags(rest, specs: ServeFlags.specs, environment: environment)
                let settings = try ServeFlags.settings(from: flags)
                let catalog = try ServeFlags.catalog(from: flags, adding: tasks, environment: environment)
                exit(Supervisor(settings: settings, catalog: catalog).run())
            case "status":
                let rest = Array(arguments.dropFirst())
                if rest.contains("--help") || rest.contains("-h") {
                    printNow(helpText(command: "status", summary: "Shows a running server's front-ends, workers, queue and jobs.",
                                      specs: StatusCommand.specs))
                    exit(0)
                }
                exit(try StatusCommand.run(ParsedFlags(rest, specs: StatusCommand.specs, environment: environment)))
            case "healthcheck":
                let rest = Array(arguments.dropFirst())
                if rest.contains("--help") || rest.contains("-h") {
                    printNow(helpText(command: "healthcheck", summary: "GET /healthz; exit 0 when it answers 200 (for container health checks).",
                                      specs: HealthcheckCommand.specs))
                    exit(0)
                }
                exit(try HealthcheckCommand.run(ParsedFlags(rest, specs: HealthcheckCommand.specs, environment: environment)))
            case "--help", "-h", "help":
                printNow(usage)
                exit(0)
            default:
                throw UsageError(arguments.first.map { "unknown command \"\($0)\"\n\(usage)" } ?? usage)
            }
        } catch let error as UsageError {
            logLine("cli", error.description)
            exit(2)
        } catch {
            logLine("cli", "\(error)")
            exit(1)
        }
    }
}
