// libmicrohttpd's header, as installed by Debian's libmicrohttpd-dev. Nothing links the
// library: the front-ends open it at run time (CMicroHTTPDShims/library.c says why).
#ifndef CMICROHTTPD_SHIM_H
#define CMICROHTTPD_SHIM_H

#include <microhttpd.h>

#endif
