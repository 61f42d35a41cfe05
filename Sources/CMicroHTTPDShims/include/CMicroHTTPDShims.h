// The libmicrohttpd calls Swift cannot make directly. Each function says why it is C.
#ifndef CMICROHTTPD_SHIMS_H
#define CMICROHTTPD_SHIMS_H

#include <stddef.h>
#include <sys/socket.h>
#include <microhttpd.h>

/// Receives one libmicrohttpd log message, already formatted.
typedef void (*fp_mhd_log_sink)(void *context, const char *message);

/// Where a daemon's own messages go; must outlive the daemon.
struct fp_mhd_logger {
    fp_mhd_log_sink sink;
    void *context;
};

/// What fp_mhd_start_daemon passes to MHD_start_daemon as options.
struct fp_mhd_settings {
    /// MHD_OPTION_LISTEN_SOCKET: a listening, bound socket; the daemon closes it at MHD_stop_daemon.
    int listen_fd;
    /// MHD_OPTION_CONNECTION_TIMEOUT in seconds; 0 = none.
    unsigned int connection_timeout_seconds;
    /// MHD_OPTION_CONNECTION_LIMIT; 0 = libmicrohttpd's default.
    unsigned int connection_limit;
    /// MHD_OPTION_PER_IP_CONNECTION_LIMIT; 0 = none.
    unsigned int per_ip_connection_limit;
    /// MHD_OPTION_CONNECTION_MEMORY_LIMIT in bytes; 0 = libmicrohttpd's default.
    size_t connection_memory_limit;
    MHD_AccessHandlerCallback access_handler;
    void *access_context;
    /// MHD_OPTION_NOTIFY_COMPLETED.
    MHD_RequestCompletedCallback completed;
    void *completed_context;
    /// MHD_OPTION_NOTIFY_CONNECTION: told when a connection is accepted and when it is freed.
    MHD_NotifyConnectionCallback connection_notified;
    void *connection_notified_context;
    /// MHD_OPTION_EXTERNAL_LOGGER, through fp_mhd_format_log.
    struct fp_mhd_logger *logger;
};

// MHD_start_daemon is variadic. Starts a daemon in external-epoll mode
// (MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG): no thread of its own.
struct MHD_Daemon *fp_mhd_start_daemon(const struct fp_mhd_settings *settings);

// MHD_get_daemon_info is variadic. The daemon's epoll descriptor, or -1.
int fp_mhd_daemon_epoll_fd(struct MHD_Daemon *daemon);

// MHD_get_daemon_info is variadic. Connections open now (suspended ones included).
unsigned int fp_mhd_daemon_connection_count(struct MHD_Daemon *daemon);

// MHD_get_connection_info is variadic. The peer's address, or NULL.
const struct sockaddr *fp_mhd_connection_client_address(struct MHD_Connection *connection);

// MHD_get_connection_info is variadic. The connection's socket, or -1.
int fp_mhd_connection_fd(struct MHD_Connection *connection);

// MHD_get_connection_info is variadic. What MHD_OPTION_NOTIFY_CONNECTION's callback stored
// in *socket_context when the connection started, or NULL.
void *fp_mhd_connection_socket_context(struct MHD_Connection *connection);

// libmicrohttpd is opened at run time (library.c says why). The file name it is opened by:
// Debian's libmicrohttpd12, the runtime package of libmicrohttpd-dev.
#define FP_MHD_LIBRARY "libmicrohttpd.so.12"

/// Opens libmicrohttpd once per process; NULL when it is open, else why it cannot be.
/// Nothing below may be called before it succeeded.
const char *fp_mhd_open(void);

/// The library's functions, found by dlsym in fp_mhd_open.
struct fp_mhd_functions {
    __typeof__(&MHD_start_daemon) start_daemon;
    __typeof__(&MHD_stop_daemon) stop_daemon;
    __typeof__(&MHD_quiesce_daemon) quiesce_daemon;
    __typeof__(&MHD_get_daemon_info) get_daemon_info;
    __typeof__(&MHD_get_timeout) get_timeout;
    __typeof__(&MHD_run) run;
    __typeof__(&MHD_get_connection_info) get_connection_info;
    __typeof__(&MHD_get_connection_values_n) get_connection_values_n;
    __typeof__(&MHD_suspend_connection) suspend_connection;
    __typeof__(&MHD_resume_connection) resume_connection;
    __typeof__(&MHD_create_response_from_buffer) create_response_from_buffer;
    __typeof__(&MHD_add_response_header) add_response_header;
    __typeof__(&MHD_queue_response) queue_response;
    __typeof__(&MHD_destroy_response) destroy_response;
    __typeof__(&MHD_get_reason_phrase_for) get_reason_phrase_for;
};
extern struct fp_mhd_functions fp_mhd_functions;

// What Swift calls: the libmicrohttpd functions of the same names, through the table.
static inline void fp_mhd_stop_daemon(struct MHD_Daemon *daemon) { fp_mhd_functions.stop_daemon(daemon); }
static inline MHD_socket fp_mhd_quiesce_daemon(struct MHD_Daemon *daemon) { return fp_mhd_functions.quiesce_daemon(daemon); }
static inline enum MHD_Result fp_mhd_get_timeout(struct MHD_Daemon *daemon, MHD_UNSIGNED_LONG_LONG *timeout) {
    return fp_mhd_functions.get_timeout(daemon, timeout);
}
static inline enum MHD_Result fp_mhd_run(struct MHD_Daemon *daemon) { return fp_mhd_functions.run(daemon); }
static inline int fp_mhd_get_connection_values_n(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                                                 MHD_KeyValueIteratorN iterator, void *iterator_cls) {
    return fp_mhd_functions.get_connection_values_n(connection, kind, iterator, iterator_cls);
}
static inline void fp_mhd_suspend_connection(struct MHD_Connection *connection) { fp_mhd_functions.suspend_connection(connection); }
static inline void fp_mhd_resume_connection(struct MHD_Connection *connection) { fp_mhd_functions.resume_connection(connection); }
static inline struct MHD_Response *fp_mhd_create_response_from_buffer(size_t size, void *buffer, enum MHD_ResponseMemoryMode mode) {
    return fp_mhd_functions.create_response_from_buffer(size, buffer, mode);
}
static inline enum MHD_Result fp_mhd_add_response_header(struct MHD_Response *response, const char *header, const char *content) {
    return fp_mhd_functions.add_response_header(response, header, content);
}
static inline enum MHD_Result fp_mhd_queue_response(struct MHD_Connection *connection, unsigned int status_code,
                                                    struct MHD_Response *response) {
    return fp_mhd_functions.queue_response(connection, status_code, response);
}
static inline void fp_mhd_destroy_response(struct MHD_Response *response) { fp_mhd_functions.destroy_response(response); }
static inline const char *fp_mhd_get_reason_phrase_for(unsigned int code) { return fp_mhd_functions.get_reason_phrase_for(code); }

#endif
