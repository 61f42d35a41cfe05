#include "CMicroHTTPDShims.h"

#include <stdarg.h>
#include <stdio.h>

// MHD hands its logger a printf format and a va_list: formatting needs vsnprintf, so it is C.
static void fp_mhd_format_log(void *cls, const char *format, va_list arguments) {
    const struct fp_mhd_logger *logger = cls;
    char message[1024];
    vsnprintf(message, sizeof message, format, arguments);
    logger->sink(logger->context, message);
}

struct MHD_Daemon *fp_mhd_start_daemon(const struct fp_mhd_settings *settings) {
    struct MHD_OptionItem options[8];
    size_t count = 0;
    options[count++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, settings->listen_fd, NULL};
    options[count++] = (struct MHD_OptionItem){
        MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)settings->connection_timeout_seconds, NULL};
    if (settings->connection_limit > 0)
        options[count++] = (struct MHD_OptionItem){
            MHD_OPTION_CONNECTION_LIMIT, (intptr_t)settings->connection_limit, NULL};
    if (settings->per_ip_connection_limit > 0)
        options[count++] = (struct MHD_OptionItem){
            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)settings->per_ip_connection_limit, NULL};
    if (settings->connection_memory_limit > 0)
        options[count++] = (struct MHD_OptionItem){
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)settings->connection_memory_limit, NULL};
    options[count++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

    // The logger goes first, so that messages about the other options reach it too.
    return fp_mhd_functions.start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
                            0, NULL, NULL,
                            settings->access_handler, settings->access_context,
                            MHD_OPTION_EXTERNAL_LOGGER, fp_mhd_format_log, settings->logger,
                            MHD_OPTION_NOTIFY_COMPLETED, settings->completed, settings->completed_context,
                            MHD_OPTION_NOTIFY_CONNECTION, settings->connection_notified,
                            settings->connection_notified_context,
                            MHD_OPTION_ARRAY, options,
                            MHD_OPTION_END);
}

int fp_mhd_daemon_epoll_fd(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = fp_mhd_functions.get_daemon_info(daemon, MHD_DAEMON_INFO_EPOLL_FD);
    return info == NULL ? -1 : info->epoll_fd;
}

unsigned int fp_mhd_daemon_connection_count(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = fp_mhd_functions.get_daemon_info(daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info == NULL ? 0 : info->num_connections;
}

const struct sockaddr *fp_mhd_connection_client_address(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info =
        fp_mhd_functions.get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return info == NULL ? NULL : info->client_addr;
}

int fp_mhd_connection_fd(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info =
        fp_mhd_functions.get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info == NULL ? -1 : info->connect_fd;
}

void *fp_mhd_connection_socket_context(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info =
        fp_mhd_functions.get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info == NULL ? NULL : info->socket_context;
}
