// mhd_minimal: the reference for forkpool's poll throughput.
//
// A minimal libmicrohttpd server in forkpool's threading mode: PROCESSES processes
// share one listening socket (bound here to HOST:0, non-blocking, as forkpool's
// supervisor hands it to its front-ends); each runs one daemon with
// MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME on its only thread, driven by an external
// poll(2) loop on the daemon's epoll descriptor with MHD_get_timeout, as forkpool's
// HTTPServer.run does. Every request is answered 200 with the bytes of BODYFILE,
// a response built per request from a copy (MHD_RESPMEM_MUST_COPY) with the same
// headers forkpool adds (Content-Type: application/json, X-Forkpool-Frontend: <pid>).
//
// Prints "listening on http://HOST:PORT" and runs until SIGTERM (or MAX_SECONDS),
// then stops its children and exits 0.
//
// usage: mhd_minimal HOST BODYFILE PROCESSES [MAX_SECONDS]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stopping = 0;
static char *body;
static size_t body_length;
static char pid_text[32];

static void on_signal(int signal_number) { (void)signal_number; stopping = 1; }

static enum MHD_Result answer(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size, void **state) {
    (void)cls; (void)url; (void)method; (void)version; (void)upload_data;
    if (*state == NULL) {  // first call: the head only
        *state = (void *)1;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct MHD_Response *response = MHD_create_response_from_buffer(body_length, body, MHD_RESPMEM_MUST_COPY);
    if (!response) return MHD_NO;
    MHD_add_response_header(response, "Content-Type", "application/json");
    MHD_add_response_header(response, "X-Forkpool-Frontend", pid_text);
    enum MHD_Result result = MHD_queue_response(connection, MHD_HTTP_OK, response);
    MHD_destroy_response(response);
    return result;
}

static int serve(int listen_fd, double deadline) {
    snprintf(pid_text, sizeof pid_text, "%d", (int)getpid());
    struct MHD_Daemon *daemon = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL, answer, NULL,
        MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1024, MHD_OPTION_END);
    if (!daemon) { fprintf(stderr, "mhd_minimal: MHD_start_daemon failed\n"); return 1; }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_EPOLL_FD);
    struct pollfd descriptor = {.fd = info->epoll_fd, .events = POLLIN};
    while (!stopping) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((double)t.tv_sec + t.tv_nsec / 1e9 > deadline) break;
        MHD_UNSIGNED_LONG_LONG milliseconds = 0;
        int timeout = MHD_get_timeout(daemon, &milliseconds) == MHD_YES
            ? (milliseconds > 1000 ? 1000 : (int)milliseconds) : 1000;
        descriptor.revents = 0;
        if (poll(&descriptor, 1, timeout) < 0 && errno != EINTR) break;
        MHD_run(daemon);
    }
    MHD_stop_daemon(daemon);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: mhd_minimal HOST BODYFILE PROCESSES [MAX_SECONDS]\n"); return 2; }
    int processes = atoi(argv[3]);
    double max_seconds = argc > 4 ? atof(argv[4]) : 300;
    if (processes < 1 || processes > 64) return 2;
    FILE *file = fopen(argv[2], "rb");
    if (!file) { perror("mhd_minimal: body"); return 2; }
    body = malloc(1 << 20);
    body_length = fread(body, 1, 1 << 20, file);
    fclose(file);

    int listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t length = sizeof address;
    if (inet_pton(AF_INET, argv[1], &address.sin_addr) != 1 ||
        bind(listen_fd, (struct sockaddr *)&address, sizeof address) != 0 || listen(listen_fd, 1024) != 0 ||
        getsockname(listen_fd, (struct sockaddr *)&address, &length) != 0) {
        perror("mhd_minimal: listen");
        return 1;
    }
    fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);

    struct sigaction action = {0};
    action.sa_handler = on_signal;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    double deadline = (double)t.tv_sec + t.tv_nsec / 1e9 + max_seconds;

    pid_t children[64];
    for (int i = 0; i < processes; i++) {
        children[i] = fork();
        if (children[i] < 0) { perror("mhd_minimal: fork"); stopping = 1; processes = i; break; }
        if (children[i] == 0) _exit(serve(listen_fd, deadline));
    }
    close(listen_fd);
    printf("listening on http://%s:%d\n", argv[1], ntohs(address.sin_port));
    fflush(stdout);
    int failures = 0;
    while (!stopping) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((double)t.tv_sec + t.tv_nsec / 1e9 > deadline) break;
        int status;
        pid_t gone = waitpid(-1, &status, WNOHANG);
        if (gone > 0) { failures++; break; }  // a child died early
        usleep(20000);
    }
    for (int i = 0; i < processes; i++) kill(children[i], SIGTERM);
    for (int i = 0; i < processes; i++) {
        int status = 0;
        while (waitpid(children[i], &status, 0) < 0 && errno == EINTR) {}
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failures++;
    }
    return failures ? 1 : 0;
}
