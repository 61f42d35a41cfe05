#if canImport(Glibc)
import Glibc
#endif
import CForkPoolShims
import ProcessPool
import SystemV

/// Starts a command with fork and execve. Only from a single-threaded process (the worker).
///
/// ```
/// child:  setpgid(0, 0) -> PR_SET_PDEATHSIG(SIGKILL) -> descriptors 0 1 2 3 (+ 4: the report pipe, close-on-exec)
///         -> close everything from 5 -> default signal dispositions, empty mask -> chdir -> execve
/// parent: reads the report pipe: end of stream once execve succeeded, else | stage i32 | errno i32 |
/// ```
enum CommandSpawner {
    /// Where a child failed before it became the command.
    private enum Stage: Int32 {
        case setUp = 1, workingDirectory, execute
    }

    /// The first descriptor the child does not keep (0-3 for the command, 4 for the report).
    private static let firstClosedDescriptor: Int32 = 5

    /// Forks and executes `path`; returns the pid, which is also the command's process group.
    /// - Parameter descriptors: what becomes the command's descriptors 0, 1, 2 and 3.
    static func spawn(path: String, arguments: [String], environment: [String], workingDirectory: String?,
                      descriptors: [Int32]) throws -> pid_t {
        precondition(descriptors.count == 4, "a command gets exactly descriptors 0 to 3")
        let report = try Syscall.pipe()
        defer { Syscall.close(report.read) }
        // Everything the child needs exists before the fork: between fork and execve it only makes system calls.
        guard let cPath = strdup(path) else { throw TaskError("cannot start \(path): out of memory") }
        let cArguments = arguments.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup($0) } + [nil]
        let cDirectory = workingDirectory.map { strdup($0) }
        let sources = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 5)
        let moved = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 5)
        defer {
            free(cPath)
            for pointer in cArguments + cEnvironment { free(pointer) }
            if let cDirectory { free(cDirectory) }
            sources.deallocate()
            moved.deallocate()
        }
        for (index, fd) in descriptors.enumerated() { sources[index] = fd }
        sources[4] = report.write
        let parent = getpid()

        let pid: pid_t
        do {
            pid = try Syscall.fork()
        } catch {
            Syscall.close(report.write)
            throw TaskError("cannot start \(path): \(error)")
        }
        if pid == 0 {
            cArguments.withUnsafeBufferPointer { argv in
                cEnvironment.withUnsafeBufferPointer { envp in
                    child(path: cPath, argv: argv.baseAddress!, envp: envp.baseAddress!, directory: cDirectory ?? nil,
                          sources: sources, moved: moved, parent: parent)
                }
            }
        }
        Syscall.close(report.write)
        // The child does the same; whichever runs first, the group exists before anyone signals it.
        _ = setpgid(pid, pid)

        var words: (Int32, Int32) = (0, 0)
        let count = withUnsafeMutableBytes(of: &words) { buffer in readFully(report.read, buffer) }
        guard count == MemoryLayout<(Int32, Int32)>.size else { return pid }
        _ = try? Syscall.reap(pid)
        let reason = errnoText(words.1)
        switch Stage(rawValue: words.0) {
        case .execute?:
            throw TaskError("cannot run \(path): \(reason)")
        case .workingDirectory?:
            throw TaskError("cannot change to the working directory \(workingDirectory ?? ""): \(reason)")
        default:
            throw TaskError("cannot set up the process for \(path): \(reason)")
        }
    }

    /// The child between fork and execve: system calls only, no allocation.
    private static func child(path: UnsafePointer<CChar>, argv: UnsafePointer<UnsafeMutablePointer<CChar>?>,
                              envp: UnsafePointer<UnsafeMutablePointer<CChar>?>, directory: UnsafePointer<CChar>?,
                              sources: UnsafeMutableBufferPointer<Int32>, moved: UnsafeMutableBufferPointer<Int32>,
                              parent: pid_t) -> Never {
        var reportDescriptor = sources[4]
        func fail(_ stage: Stage) -> Never {
            var words: (Int32, Int32) = (stage.rawValue, errno)
            withUnsafeBytes(of: &words) { _ = write(reportDescriptor, $0.baseAddress, $0.count) }
            _exit(127)
        }
        _ = setpgid(0, 0)
        // The command must not outlive a worker that is killed outright.
        if fp_set_parent_death_signal(SIGKILL) != 0 { fail(.setUp) }
        if getppid() != parent { _exit(127) }
        // Out of the way first, so no source is overwritten by another's target.
        for index in 0..<5 {
            moved[index] = fcntl(sources[index], F_DUPFD_CLOEXEC, 10)
            if moved[index] < 0 { fail(.setUp) }
        }
        for index in 0..<5 where dup2(moved[index], Int32(index)) < 0 { fail(.setUp) }
        reportDescriptor = 4
        _ = fcntl(4, F_SETFD, FD_CLOEXEC)
        if fp_close_range(UInt32(firstClosedDescriptor), UInt32.max) != 0 {
            var fd = firstClosedDescriptor
            while fd < 65536 {
                _ = close(fd)
                fd += 1
            }
        }
        var signal: Int32 = 1
        while signal < 65 {
            if signal != SIGKILL && signal != SIGSTOP { _ = fp_signal_default(signal) }
            signal += 1
        }
        var empty = sigset_t()
        sigemptyset(&empty)
        _ = sigprocmask(SIG_SETMASK, &empty, nil)
        if let directory, chdir(directory) != 0 { fail(.workingDirectory) }
        _ = execve(path, argv, envp)
        fail(.execute)
    }

    /// Reads until `buffer` is full or the stream ends; the bytes read.
    private static func readFully(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
        var total = 0
        while total < buffer.count {
            let count = read(fd, buffer.baseAddress! + total, buffer.count - total)
            if count > 0 {
                total += count
            } else if count == 0 || errno != EINTR {
                break
            }
        }
        return total
    }
}
