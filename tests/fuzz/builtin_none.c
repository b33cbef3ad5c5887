/*
 * builtin_none.c: no built-in modules, for the fuzz targets that link
 * the config loader without the rest of the core (the generated
 * modules/builtin.c would pull every module and the request path in).
 */
#include <stddef.h>

#include "module.h"

const te_module *const te_builtin_modules[] = {NULL};
const char *const te_default_chain[] = {NULL};
