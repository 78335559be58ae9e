/* Synthetic fixture: a native library that only carries the relay address as a string. */
const char relay_host[] = "tcp://gate.chat-priv.top:7000";
const char *relay(void) { return relay_host; }
