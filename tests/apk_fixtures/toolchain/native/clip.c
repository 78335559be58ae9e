/* Synthetic fixture: what a native library built with the NDK carries (the names of the
   libraries it links against, the compiler's identification with its source site) and one
   relay address used next to network calls. Built and parsed, never run. */
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char compiler_id[] =
    "Android (7019983 based on r365631c3) clang version 9.0.9 "
    "(https://android.googlesource.com/toolchain/llvm-project a2a1e703c0ed)";
const char needed[] = "libc.so";
const char needed_dl[] = "libdl.so";
const char relay_url[] = "tcp://relay.clip-share.top:7001";

int relay(void) {
    struct addrinfo *ai = 0;
    if (getaddrinfo("relay.clip-share.top", "7001", 0, &ai) != 0) return -1;
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    int ok = connect(fd, ai->ai_addr, ai->ai_addrlen);
    close(fd);
    freeaddrinfo(ai);
    return ok;
}
