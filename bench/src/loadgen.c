// loadgen: a small HTTP/1.1 load generator for forkpool's bench/run.sh.
//
// N threads, each with one keep-alive connection to HOST:PORT, send a fixed
// request (POST /v1/jobs with an echo job; the input is distinct per request:
// {"i":<index>,"p":"<pad>"}) until REQUESTS answers arrived or the time bound
// passed. Every answer's status line and Content-Length are parsed; an answer
// counts as good when its status is the expected one (200 with wait, 202
// without) and, with wait, its body holds "state":"succeeded" and (for every
// SAMPLE-th request) "result":<the exact input>. Per-request latency is kept
// in an array; percentiles are printed at the end as one key=value line:
//
//   ok=N fail=N mismatch=N checked=N retries=N elapsed=S rate=R p50_us=.. p90_us=.. p99_us=.. max_us=..
//
// usage: loadgen -p PORT [-h 127.0.0.1] [-c THREADS] [-n REQUESTS] [-w WARMUP]
//                [-m wait|nowait] [-T MAX_SECONDS] [-s SAMPLE] [-o OFFSET] [-P PADBYTES]
//
// WARMUP requests are sent first (over the same connections) and not counted.
// In nowait mode a 429 (queue full) is retried after 1 ms, at most 10000 times per request.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *host = "127.0.0.1";
static int port = 0;
static int threads = 16;
static long requests = 5000;
static long warmup = 0;
static int wait_mode = 1;
static double max_seconds = 120;
static long sample = 10;
static long offset = 0;
static int pad = 8;

static atomic_long next_index;       // next request index to take
static atomic_long ok_count, fail_count, mismatch_count, checked_count, retry_count;
static atomic_int warm_left;         // threads still warming up
static double *latency_us;           // per request index
static double deadline;              // CLOCK_MONOTONIC seconds
static atomic_long first_failure_reported;

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int connect_to_server(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {.tv_sec = 35, .tv_usec = 0};  // above wait=30
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int write_all(int fd, const char *data, size_t length) {
    while (length > 0) {
        ssize_t n = send(fd, data, length, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        data += n;
        length -= (size_t)n;
    }
    return 0;
}

struct reader {
    char buffer[65536];
    size_t start, end;  // unread bytes are buffer[start..<end]
};

// Reads one answer: returns the status (or -1 on a broken connection); the body is copied
// into body (at most body_capacity - 1 bytes, NUL-terminated), its length in *body_length.
static int read_answer(int fd, struct reader *r, char *body, size_t body_capacity, size_t *body_length) {
    char *head_end = NULL;
    for (;;) {
        if (r->end > r->start) {
            head_end = memmem(r->buffer + r->start, r->end - r->start, "\r\n\r\n", 4);
            if (head_end) break;
        }
        if (r->start > 0) {
            memmove(r->buffer, r->buffer + r->start, r->end - r->start);
            r->end -= r->start;
            r->start = 0;
        }
        if (r->end == sizeof r->buffer) return -1;
        ssize_t n = recv(fd, r->buffer + r->end, sizeof r->buffer - r->end, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        r->end += (size_t)n;
    }
    char *head = r->buffer + r->start;
    size_t head_length = (size_t)(head_end - head) + 4;
    if (head_length < 12 || strncmp(head, "HTTP/1.", 7) != 0) return -1;
    int status = atoi(head + 9);
    long content_length = -1;
    for (char *line = head; line < head_end;) {
        char *newline = memchr(line, '\n', (size_t)(head_end - line));
        if (!newline) break;
        line = newline + 1;
        if (strncasecmp(line, "Content-Length:", 15) == 0) content_length = strtol(line + 15, NULL, 10);
    }
    if (content_length < 0) return -1;  // forkpool always sends Content-Length
    r->start += head_length;
    size_t copied = 0;
    long remaining = content_length;
    while (remaining > 0) {
        if (r->end == r->start) {
            r->start = r->end = 0;
            ssize_t n = recv(fd, r->buffer, sizeof r->buffer, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return -1;
            r->end = (size_t)n;
        }
        size_t take = r->end - r->start;
        if ((long)take > remaining) take = (size_t)remaining;
        size_t room = copied < body_capacity - 1 ? body_capacity - 1 - copied : 0;
        memcpy(body + copied, r->buffer + r->start, take < room ? take : room);
        copied += take < room ? take : room;
        r->start += take;
        remaining -= (long)take;
    }
    body[copied] = 0;
    *body_length = copied;
    return status;
}

static void report_failure(const char *what, long index, int status, const char *body) {
    if (atomic_fetch_add(&first_failure_reported, 1) < 3)
        fprintf(stderr, "loadgen: request %ld: %s (status %d): %.300s\n", index, what, status, body ? body : "");
}

static void *run_thread(void *unused) {
    (void)unused;
    struct reader *r = calloc(1, sizeof *r);
    char *request = malloc(4096), *input = malloc(2048), *body = malloc(65536), *expected = malloc(4096);
    char padding[1025];
    int pad_bytes = pad < 0 ? 0 : pad > 1024 ? 1024 : pad;
    memset(padding, 'x', (size_t)pad_bytes);
    padding[pad_bytes] = 0;
    const char *path = wait_mode ? "/v1/jobs?wait=30" : "/v1/jobs";
    int fd = connect_to_server();
    long warm = warmup;  // every thread sends WARMUP requests, then waits for the others
    int warming = warmup > 0;
    for (;;) {
        long index;
        if (warming) {
            if (warm <= 0) {
                warming = 0;
                atomic_fetch_sub(&warm_left, 1);
                while (atomic_load(&warm_left) > 0) usleep(100);
                continue;
            }
            index = -(warm--);
        } else {
            if (now_seconds() > deadline) break;
            index = atomic_fetch_add(&next_index, 1);
            if (index >= requests) break;
        }
        int input_length = snprintf(input, 2048, "{\"i\":%ld,\"p\":\"%s\"}", index + offset, padding);
        int body_length = snprintf(expected, 4096, "{\"task\":\"echo\",\"input\":%s}", input);
        int request_length = snprintf(request, 4096,
            "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
            path, host, port, body_length, expected);
        int attempts = 0;
        double started = now_seconds();
        int status;
        size_t answer_length = 0;
        for (;;) {
            status = -1;
            if (fd < 0) fd = connect_to_server();
            if (fd >= 0 && write_all(fd, request, (size_t)request_length) == 0)
                status = read_answer(fd, r, body, 65536, &answer_length);
            if (status < 0) {  // broken connection: reconnect, the request failed
                if (fd >= 0) close(fd);
                fd = -1;
                r->start = r->end = 0;
                break;
            }
            if (status == 429 && !wait_mode && attempts++ < 10000 && now_seconds() < deadline) {
                atomic_fetch_add(&retry_count, 1);
                usleep(1000);
                continue;
            }
            break;
        }
        double elapsed_us = (now_seconds() - started) * 1e6;
        if (index < 0) continue;  // warm-up
        latency_us[index] = elapsed_us;
        int good = status == (wait_mode ? 200 : 202) && strstr(body, "\"state\":\"") != NULL;
        if (good && wait_mode && !strstr(body, "\"state\":\"succeeded\"")) good = 0;
        if (!good) {
            atomic_fetch_add(&fail_count, 1);
            report_failure("bad answer", index, status, body);
            continue;
        }
        if (wait_mode && sample > 0 && index % sample == 0) {
            atomic_fetch_add(&checked_count, 1);
            snprintf(expected, 4096, "\"result\":%.*s,", input_length, input);
            if (!strstr(body, expected)) {
                atomic_fetch_add(&mismatch_count, 1);
                report_failure("result differs from input", index, status, body);
                continue;
            }
        }
        atomic_fetch_add(&ok_count, 1);
    }
    if (warming) atomic_fetch_sub(&warm_left, 1);
    if (fd >= 0) close(fd);
    free(r); free(request); free(input); free(body); free(expected);
    return NULL;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int option;
    while ((option = getopt(argc, argv, "h:p:c:n:w:m:T:s:o:P:")) != -1) {
        switch (option) {
        case 'h': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'c': threads = atoi(optarg); break;
        case 'n': requests = atol(optarg); break;
        case 'w': warmup = atol(optarg); break;
        case 'm': wait_mode = strcmp(optarg, "nowait") != 0; break;
        case 'T': max_seconds = atof(optarg); break;
        case 's': sample = atol(optarg); break;
        case 'o': offset = atol(optarg); break;
        case 'P': pad = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: loadgen -p PORT [-h HOST] [-c THREADS] [-n REQUESTS] [-w WARMUP] "
                            "[-m wait|nowait] [-T MAX_SECONDS] [-s SAMPLE] [-o OFFSET] [-P PAD]\n");
            return 2;
        }
    }
    if (port <= 0 || threads < 1 || threads > 1024 || requests < 1 || requests > 50000000) {
        fprintf(stderr, "loadgen: bad arguments\n");
        return 2;
    }
    latency_us = calloc((size_t)requests, sizeof *latency_us);
    if (!latency_us) return 1;
    pthread_t *ids = calloc((size_t)threads, sizeof *ids);
    // Warm-up runs on every thread (WARMUP each) before the timed part starts.
    atomic_store(&warm_left, warmup > 0 ? threads : 0);
    deadline = now_seconds() + max_seconds;
    double started = 0;
    for (int i = 0; i < threads; i++) pthread_create(&ids[i], NULL, run_thread, NULL);
    while (atomic_load(&warm_left) > 0 && now_seconds() < deadline) usleep(50);
    started = now_seconds();
    for (int i = 0; i < threads; i++) pthread_join(ids[i], NULL);
    double elapsed = now_seconds() - started;
    long done = atomic_load(&next_index);
    if (done > requests) done = requests;
    long ok = atomic_load(&ok_count), fail = atomic_load(&fail_count), mismatch = atomic_load(&mismatch_count);
    long answered = ok + fail + mismatch;
    // Percentiles over the answered requests (indices 0..<done with a latency).
    double *sorted = malloc(sizeof(double) * (size_t)(done > 0 ? done : 1));
    long count = 0;
    for (long i = 0; i < done; i++)
        if (latency_us[i] > 0) sorted[count++] = latency_us[i];
    qsort(sorted, (size_t)count, sizeof *sorted, compare_doubles);
#define PCT(p) (count ? sorted[(long)((double)(count - 1) * (p))] : 0.0)
    printf("ok=%ld fail=%ld mismatch=%ld checked=%ld retries=%ld answered=%ld elapsed=%.3f rate=%.1f "
           "p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f\n",
           ok, fail, mismatch, atomic_load(&checked_count), atomic_load(&retry_count), answered, elapsed,
           elapsed > 0 ? (double)answered / elapsed : 0.0, PCT(0.50), PCT(0.90), PCT(0.99),
           count ? sorted[count - 1] : 0.0);
    free(sorted);
    free(ids);
    free(latency_us);
    return (fail == 0 && mismatch == 0 && answered == requests) ? 0 : 1;
}
