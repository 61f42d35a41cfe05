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

#endif
