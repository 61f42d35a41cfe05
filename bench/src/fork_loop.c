// fork_loop: the bare C reference for "fork per task".
//
// Runs TASKS tasks, INFLIGHT at a time. Each task: socketpair, fork; the child
// writes a 4-byte big-endian length and a small payload to its end and _exits;
// the parent polls the in-flight sockets, reads the frame, reads to EOF, closes,
// and reaps the child with waitpid. Prints "tasks=N inflight=K elapsed=S rate=R".
//
// usage: fork_loop TASKS INFLIGHT
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char payload[] = "trivial";

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int start_task(pid_t *pid) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return -1;
    pid_t child = fork();
    if (child < 0) { close(pair[0]); close(pair[1]); return -1; }
    if (child == 0) {
        close(pair[0]);
        unsigned char frame[4 + sizeof payload - 1];
        uint32_t length = htonl((uint32_t)(sizeof payload - 1));
        memcpy(frame, &length, 4);
        memcpy(frame + 4, payload, sizeof payload - 1);
        ssize_t written = write(pair[1], frame, sizeof frame);
        _exit(written == (ssize_t)sizeof frame ? 0 : 1);
    }
    close(pair[1]);
    *pid = child;
    return pair[0];
}

// Reads the frame and the EOF; 0 when the payload is right.
static int finish_task(int fd, pid_t pid) {
    unsigned char buffer[64];
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buffer + have, sizeof buffer - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        have += (size_t)n;
        if (have == sizeof buffer) break;
    }
    close(fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    uint32_t length;
    if (have < 4) return -1;
    memcpy(&length, buffer, 4);
    length = ntohl(length);
    return (length == sizeof payload - 1 && have == 4 + length && memcmp(buffer + 4, payload, length) == 0 &&
            WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: fork_loop TASKS INFLIGHT\n"); return 2; }
    long tasks = atol(argv[1]);
    int inflight = atoi(argv[2]);
    if (tasks < 1 || tasks > 10000000 || inflight < 1 || inflight > 256) { fprintf(stderr, "fork_loop: bad arguments\n"); return 2; }
    struct pollfd fds[256];
    pid_t pids[256];
    int active = 0;
    long started = 0, finished = 0, failed = 0;
    double begin = now_seconds(), deadline = begin + 120;
    while (finished < tasks) {
        while (active < inflight && started < tasks) {
            int fd = start_task(&pids[active]);
            if (fd < 0) { perror("fork_loop: start"); return 1; }
            fds[active].fd = fd;
            fds[active].events = POLLIN;
            active++;
            started++;
        }
        int ready = poll(fds, (nfds_t)active, 10000);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0 || now_seconds() > deadline) { fprintf(stderr, "fork_loop: stuck\n"); return 1; }
        for (int i = 0; i < active;) {
            if (fds[i].revents) {
                if (finish_task(fds[i].fd, pids[i]) != 0) failed++;
                finished++;
                active--;
                fds[i] = fds[active];
                pids[i] = pids[active];
            } else {
                i++;
            }
        }
    }
    double elapsed = now_seconds() - begin;
    printf("tasks=%ld inflight=%d failed=%ld elapsed=%.3f rate=%.1f\n", tasks, inflight, failed, elapsed, tasks / elapsed);
    return failed ? 1 : 0;
}
