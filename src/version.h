/* version.h -- Our version and the Redis version whose semantics we serve. */
#ifndef VERSION_H
#define VERSION_H

#define REDIS_PUBSUB_VERSION "0.1.0"
#define REDIS_COMPAT_VERSION "7.2.6"

#endif
