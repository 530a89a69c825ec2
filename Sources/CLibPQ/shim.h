#ifndef RESIDENCY_CLIBPQ_SHIM_H
#define RESIDENCY_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
