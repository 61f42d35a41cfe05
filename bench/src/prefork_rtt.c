// prefork_rtt: the bare C reference for "reused workers".
//
// Forks WORKERS workers, each with a socketpair; a worker reads a frame
// (4-byte big-endian length + payload) and writes it back, until EOF. The parent
// keeps one frame outstanding per worker and polls for the answers, ROUNDS round
// trips in all. Prints "rounds=N workers=K elapsed=S rate=R".
//
// usage: prefork_rtt ROUNDS WORKERS
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
#define FRAME (4 + sizeof payload - 1)

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int read_exact(int fd, unsigned char *buffer, size_t length) {
    size_t have = 0;
    while (have < length) {
        ssize_t n = read(fd, buffer + have, length - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        have += (size_t)n;
    }
    return 0;
}

static void worker(int fd) {
    unsigned char frame[4 + 1024];
    for (;;) {
        if (read_exact(fd, frame, 4) != 0) _exit(0);
        uint32_t length;
        memcpy(&length, frame, 4);
        length = ntohl(length);
        if (length > 1024 || read_exact(fd, frame + 4, length) != 0) _exit(1);
        if (write(fd, frame, 4 + length) != (ssize_t)(4 + length)) _exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: prefork_rtt ROUNDS WORKERS\n"); return 2; }
    long rounds = atol(argv[1]);
    int workers = atoi(argv[2]);
    if (rounds < 1 || rounds > 100000000 || workers < 1 || workers > 64) { fprintf(stderr, "prefork_rtt: bad arguments\n"); return 2; }
    struct pollfd fds[64];
    pid_t pids[64];
    unsigned char frame[FRAME];
    uint32_t length = htonl((uint32_t)(sizeof payload - 1));
    memcpy(frame, &length, 4);
    memcpy(frame + 4, payload, sizeof payload - 1);
    for (int i = 0; i < workers; i++) {
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return 1;
        pids[i] = fork();
        if (pids[i] < 0) return 1;
        if (pids[i] == 0) {
            close(pair[0]);
            for (int j = 0; j < i; j++) close(fds[j].fd);
            worker(pair[1]);
        }
        close(pair[1]);
        fds[i].fd = pair[0];
        fds[i].events = POLLIN;
    }
    long sent = 0, done = 0, bad = 0;
    double begin = now_seconds(), deadline = begin + 120;
    for (int i = 0; i < workers && sent < rounds; i++, sent++)
        if (write(fds[i].fd, frame, FRAME) != (ssize_t)FRAME) return 1;
    while (done < rounds) {
        int ready = poll(fds, (nfds_t)workers, 10000);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0 || now_seconds() > deadline) { fprintf(stderr, "prefork_rtt: stuck\n"); break; }
        for (int i = 0; i < workers; i++) {
            if (!fds[i].revents) continue;
            unsigned char answer[FRAME];
            if (read_exact(fds[i].fd, answer, FRAME) != 0) { fprintf(stderr, "prefork_rtt: worker died\n"); return 1; }
            if (memcmp(answer, frame, FRAME) != 0) bad++;
            done++;
            if (sent < rounds) {
                if (write(fds[i].fd, frame, FRAME) != (ssize_t)FRAME) return 1;
                sent++;
            }
        }
    }
    double elapsed = now_seconds() - begin;
    for (int i = 0; i < workers; i++) close(fds[i].fd);
    for (int i = 0; i < workers; i++) while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR) {}
    printf("rounds=%ld workers=%d bad=%ld elapsed=%.3f rate=%.1f\n", done, workers, bad, elapsed, done / elapsed);
    return (bad || done != rounds) ? 1 : 0;
}
