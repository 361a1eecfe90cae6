// The one header Swift imports from libsodium (Debian: libsodium-dev).
#include <sodium.h>
