// libmicrohttpd as installed by Debian's libmicrohttpd-dev.
#ifndef CMICROHTTPD_SHIM_H
#define CMICROHTTPD_SHIM_H

#include <microhttpd.h>

#endif
