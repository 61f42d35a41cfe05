// libmicrohttpd, opened at run time by the processes that serve HTTP.
//
// Linked at build time, libmicrohttpd and the nine TLS libraries it depends on would be
// mapped into every process of the server, the pool included, and each fork of a worker
// copies the pool's mappings. The pool never speaks HTTP, so only the front-ends open it.
#include "CMicroHTTPDShims.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

struct fp_mhd_functions fp_mhd_functions;

static char open_error[512];

#define FP_MHD_RESOLVE(handle, field, symbol)                                                          \
    do {                                                                                               \
        functions.field = (__typeof__(functions.field))dlsym(handle, #symbol);                         \
        if (functions.field == NULL) {                                                                 \
            snprintf(open_error, sizeof open_error, "%s has no %s", FP_MHD_LIBRARY, #symbol);          \
            return open_error;                                                                         \
        }                                                                                              \
    } while (0)

static const char *open_result;

// Runs once per process (pthread_once): test runners start servers on several threads.
static const char *open_library(void) {
    void *handle = dlopen(FP_MHD_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *reason = dlerror();
        snprintf(open_error, sizeof open_error, "%s", reason ? reason : "dlopen failed");
        return open_error;
    }
    struct fp_mhd_functions functions;
    FP_MHD_RESOLVE(handle, start_daemon, MHD_start_daemon);
    FP_MHD_RESOLVE(handle, stop_daemon, MHD_stop_daemon);
    FP_MHD_RESOLVE(handle, quiesce_daemon, MHD_quiesce_daemon);
    FP_MHD_RESOLVE(handle, get_daemon_info, MHD_get_daemon_info);
    FP_MHD_RESOLVE(handle, get_timeout, MHD_get_timeout);
    FP_MHD_RESOLVE(handle, run, MHD_run);
    FP_MHD_RESOLVE(handle, get_connection_info, MHD_get_connection_info);
    FP_MHD_RESOLVE(handle, get_connection_values_n, MHD_get_connection_values_n);
    FP_MHD_RESOLVE(handle, suspend_connection, MHD_suspend_connection);
    FP_MHD_RESOLVE(handle, resume_connection, MHD_resume_connection);
    FP_MHD_RESOLVE(handle, create_response_from_buffer, MHD_create_response_from_buffer);
    FP_MHD_RESOLVE(handle, add_response_header, MHD_add_response_header);
    FP_MHD_RESOLVE(handle, queue_response, MHD_queue_response);
    FP_MHD_RESOLVE(handle, destroy_response, MHD_destroy_response);
    FP_MHD_RESOLVE(handle, get_reason_phrase_for, MHD_get_reason_phrase_for);
    fp_mhd_functions = functions;
    return NULL;
}

static void open_once(void) { open_result = open_library(); }

const char *fp_mhd_open(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, open_once);
    return open_result;
}
