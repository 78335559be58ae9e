"""Which strings in an app are network endpoints, whose they are, and which may link reports.

A string is an endpoint when it is used as one: a URL; a host or IP in code that reaches a
network API (directly, through up to three calls into the app's own methods, or through a
field the constant is stored in); a host in the manifest, the network security config, a
configuration resource or a configuration asset; a URL in native code that imports network
functions. Names of source files, classes, packages, fields, properties and native libraries
are never hosts, whatever their suffix (``R.java``, ``libc.so``, ``android.intent.extra.EMAIL``):
the DEX's own type, field and method tables say what is an identifier.

Each endpoint keeps every place it was seen (file, class and method, resource name), how it
was used (``network``, ``configuration``, ``native``, ``string``) and a confidence. Only
confident (high or medium) endpoints of the app itself become link keys; SDK and platform
hosts (``thirdparty``) and low-confidence strings are shown as context.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ringtrace.apk.dex import Dex, Method, index_pattern
from ringtrace.apk.thirdparty import ThirdParty
from ringtrace.apk.thirdparty import builtin as builtin_third_party
from ringtrace.indicators.hosts import normalise_ip, normalise_url, registrable_domain
from ringtrace.indicators.warninglist import Warninglist, ip_reason
from ringtrace.indicators.warninglist import builtin as builtin_warninglist

HIGH, MEDIUM, LOW = "high", "medium", "low"
_RANK = {LOW: 1, MEDIUM: 2, HIGH: 3}
LINKING_CONFIDENCE = frozenset({HIGH, MEDIUM})

# Calls that take a URL, host or address and talk to it (Lclass;->name, any overload).
NETWORK_APIS = frozenset({
    "Ljava/net/URL;-><init>", "Ljava/net/URL;->openConnection", "Ljava/net/URL;->openStream",
    "Ljava/net/Socket;-><init>", "Ljava/net/Socket;->connect",
    "Ljava/net/InetSocketAddress;-><init>", "Ljava/net/InetSocketAddress;->createUnresolved",
    "Ljava/net/InetAddress;->getByName", "Ljava/net/InetAddress;->getAllByName",
    "Ljavax/net/SocketFactory;->createSocket", "Ljavax/net/ssl/SSLSocketFactory;->createSocket",
    "Ljava/net/DatagramPacket;-><init>",
    "Lokhttp3/Request$Builder;->url", "Lokhttp3/HttpUrl;->parse", "Lokhttp3/HttpUrl;->get",
    "Lokhttp3/HttpUrl$Companion;->parse", "Lokhttp3/HttpUrl$Companion;->get",
    "Lokhttp3/CertificatePinner$Builder;->add", "Lcom/squareup/okhttp/Request$Builder;->url",
    "Lretrofit2/Retrofit$Builder;->baseUrl", "Lretrofit/RestAdapter$Builder;->setEndpoint",
    "Landroid/webkit/WebView;->loadUrl", "Landroid/webkit/WebView;->postUrl",
    "Landroid/webkit/WebView;->loadDataWithBaseURL",
    "Lorg/apache/http/client/methods/HttpGet;-><init>",
    "Lorg/apache/http/client/methods/HttpPost;-><init>",
    "Lorg/apache/http/client/methods/HttpPut;-><init>",
    "Lorg/apache/http/client/methods/HttpDelete;-><init>", "Lorg/apache/http/HttpHost;-><init>",
    "Lcom/android/volley/toolbox/StringRequest;-><init>",
    "Lcom/android/volley/toolbox/JsonObjectRequest;-><init>",
    "Lcom/android/volley/toolbox/JsonArrayRequest;-><init>",
    "Lcom/android/volley/toolbox/ImageRequest;-><init>", "Lcom/android/volley/Request;-><init>",
    "Lcom/loopj/android/http/AsyncHttpClient;->get",
    "Lcom/loopj/android/http/AsyncHttpClient;->post",
    "Lio/socket/client/IO;->socket",
    "Lcom/google/firebase/database/FirebaseDatabase;->getInstance",
    "Lcom/google/firebase/database/FirebaseDatabase;->getReferenceFromUrl",
    "Lcom/google/firebase/storage/FirebaseStorage;->getInstance",
    "Lcom/google/firebase/storage/FirebaseStorage;->getReferenceFromUrl",
    "Lorg/eclipse/paho/client/mqttv3/MqttClient;-><init>",
    "Lorg/eclipse/paho/client/mqttv3/MqttAsyncClient;-><init>",
    "Lorg/eclipse/paho/android/service/MqttAndroidClient;-><init>",
    "Lorg/java_websocket/client/WebSocketClient;-><init>",
    "Landroid/app/DownloadManager$Request;-><init>",
})  # fmt: skip

# Resource names that hold configuration (server_url, api_host, firebase_database_url...).
_CONFIG_NAME = re.compile(
    r"(?i)(url|uri|host|server|domain|endpoint|api|base|socket|ws_|_ws|gate|panel|backend|"
    r"firebase|bucket|c2|cnc|upload|address|addr|link|site|web)"
)
CONFIG_ASSET = re.compile(r"(?i)\.(json|xml|properties|conf|cfg|ini|ya?ml|plist|env)$")
# Code shipped as an asset (a React Native bundle, a Cordova or WebView page): its URLs are
# mostly its libraries' (documentation, licences), so only one handed to a network call counts.
SCRIPT_ASSET = re.compile(r"(?i)\.(js|mjs|bundle|html?)$")
# Licence and notice files list every library's home page: never configuration.
NOTICE_ASSET = re.compile(
    r"(?i)licen[cs]e|notice|copying|third.?party|open.?source|\boss\b|credits|attribution|acknowledg"
)
_SCRIPT_CALL = re.compile(
    r"(?:\bfetch|\baxios(?:\.(?:get|post|put|patch|delete|request))?|\.open|new\s+WebSocket|"
    r"\bio(?:\.connect)?|\$\.(?:ajax|get|post|getJSON)|\bbaseURL\s*:|\bloadUrl|"
    r"\bendpoint\s*[:=]|\bapiUrl\s*[:=]|\bserverUrl\s*[:=])\s*\(?\s*(?:[\w$.]+\s*,\s*)?"
    r"[`'\"]((?:https?|wss?)://[^`'\"\s]+)[`'\"]"
)
# Symbols a native library imports to talk to the network.
_NATIVE_NET = frozenset({
    "connect", "getaddrinfo", "gethostbyname", "gethostbyname_r", "curl_easy_perform",
    "SSL_connect", "sendto", "inet_addr", "inet_pton",
})  # fmt: skip

_URL = re.compile(
    r"(?i)\b(https?|wss?|tcp|udp|ftp|mqtts?|rtmp|rtsp|ssl|tls)://"
    r"([^\s\"'<>\\^`{|}()\[\]]*[^\s\"'<>\\^`{|}()\[\].,;:!?])"
)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_BARE_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})+(?::\d{{1,5}})?")
_WWW = re.compile(rf"(?<![\w.-])www\.{_LABEL}(?:\.{_LABEL})+", re.I)
# A Telegram bot token (<bot id>:<35 characters, starting AA>) and a Discord webhook URL.
TELEGRAM_TOKEN = re.compile(r"(?<![\d:])(\d{8,11}):AA[A-Za-z0-9_-]{33}(?![\w-])")
DISCORD_WEBHOOK = re.compile(r"discord(?:app)?\.com/api/webhooks/(\d{17,20})/")
BOT_BYTES = re.compile(rb"\d{8,11}:AA[A-Za-z0-9_-]{33}|discord(?:app)?\.com/api/webhooks/")


def _bot_matches(text: str) -> list[tuple[str, str, str]]:
    out = [("Telegram bot", "telegram-bot", m.group(1)) for m in TELEGRAM_TOKEN.finditer(text)]
    out += [("Discord webhook", "discord-webhook", m.group(1))
            for m in DISCORD_WEBHOOK.finditer(text)]  # fmt: skip
    return out


# Warninglist reasons that mean "not a server anyone runs": reserved, loopback, private...
_NOT_A_SERVER = ("a reserved", "a loopback", "the unspecified", "a private", "a link-local",
                 "a documentation", "a multicast")  # fmt: skip
_SO_NAME = re.compile(r"[\w.+-]+\.so(?:\.\d+)*")
_TEMPLATE = re.compile(r"[%{}$<>]")
_FILE_EXT = frozenset({
    "java", "kt", "kts", "smali", "class", "so", "dll", "dylib", "a", "o", "png", "jpg", "jpeg",
    "gif", "webp", "bmp", "svg", "ico", "xml", "json", "txt", "html", "htm", "js", "css",
    "properties", "dex", "jar", "apk", "aar", "zip", "gz", "tgz", "bz2", "xz", "7z", "rar",
    "db", "sqlite", "sqlite3", "mp3", "mp4", "m4a", "aac", "ogg", "wav", "webm", "mkv", "avi",
    "mov", "flv", "ttf", "otf", "woff", "woff2", "bin", "dat", "cfg", "conf", "ini", "yaml",
    "yml", "pem", "crt", "cer", "der", "key", "p12", "pfx", "bks", "jks", "keystore", "pb",
    "tflite", "onnx", "proto", "md", "csv", "log", "tmp", "bak", "lock", "pid", "sh", "py",
    "rb", "pl", "php", "jsp", "asp", "aspx", "cgi", "exe", "bat", "cmd", "kotlin_module",
    "version", "pro", "gradle", "toml", "plist", "nib", "storyboard", "lproj", "strings", "ogv",
    "arsc",
})  # fmt: skip
# First labels of Java and Android property keys and of Java packages or app ids
# (``ro.build.version``, ``com.whatsapp``): always keys, never hosts.
_KEY_FIRST = frozenset({
    "java", "javax", "jdk", "sun", "jvm", "kotlin", "kotlinx", "android", "androidx", "dalvik",
    "ro", "persist", "com", "org", "net", "edu", "gov", "io",
})  # fmt: skip
# First labels that are keys in a two-label string (``os.name``, ``file.encoding``,
# ``cn.google``) but ordinary subdomains in a longer host (``file.ring-c2.top``).
_KEY_FIRST_SHORT = frozenset({
    "os", "user", "file", "line", "path", "http", "https", "ftp", "socks", "sys", "debug", "log",
    "vendor", "cn", "de", "uk", "fr", "ru", "me", "co", "info", "biz", "jp", "kr", "in", "br",
    "tv", "mobi", "app", "dev", "ae", "au", "ca", "ch", "es", "it", "nl", "pl", "se", "tw",
    "vn", "id", "my", "sg", "th", "ph", "hk", "mx", "ar", "tr", "ir", "pk", "ua",
})  # fmt: skip


class Hit(NamedTuple):
    host: str
    url: str | None  # the normalised URL, when the string holds one
    raw: str
    whole: bool  # the whole string is this URL or host (not a mention inside text)


def _url_hit(scheme: str, rest: str, raw: str) -> tuple[str, str] | None:
    scheme = scheme.lower()
    if _TEMPLATE.search(rest.split("/", 1)[0]):
        return None
    if scheme in ("http", "https", "ftp"):
        return normalise_url(raw)
    m = re.match(r"^(?:[^/?#@]*@)?(\[[^\]]+\]|[^/?#:]+)(?::(\d{1,5}))?(.*)$", rest, re.S)
    if not m:
        return None
    host = m.group(1).lower().strip("[]").rstrip(".")
    if normalise_ip(host) is None and registrable_domain(host) is None:
        return None
    port = f":{m.group(2)}" if m.group(2) else ""
    return f"{scheme}://{host}{port}{m.group(3) or ''}", host


def find_hits(text: str) -> list[Hit]:
    """URLs and hosts a string holds, each saying whether it is the whole string."""
    s = text.strip()
    out: list[Hit] = []
    for m in _URL.finditer(s):
        got = _url_hit(m.group(1), m.group(2), m.group(0))
        if got is not None:
            whole = m.start() == 0 and m.end() == len(s)
            out.append(Hit(got[1], got[0], m.group(0), whole))
    if out or "://" in s:
        return out
    if _BARE_HOST.fullmatch(s):
        host = s.rsplit(":", 1)[0] if re.search(r":\d+$", s) else s
        if normalise_ip(host) is not None:
            if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", host):
                return [Hit(host, None, s, True)]
            return []
        if registrable_domain(host) is not None:
            return [Hit(host, None, s, True)]
        return []
    for m in _WWW.finditer(s):
        host = m.group(0).lower()
        if registrable_domain(host) is not None:
            out.append(Hit(host, None, m.group(0), False))
    return out


def not_a_host(text: str, dex: Dex | None = None, index: int | None = None) -> str | None:
    """Why a host-looking string is an identifier or a file name, or None if it may be a
    host. Only for strings without a scheme."""
    s = text.strip()
    if "://" in s or " " in s or "." not in s:
        return None
    if dex is not None and index is not None and index in dex.source_files:
        return "source_file"
    labels = s.split(".")
    last = labels[-1].lower()
    if re.search(r"\.so(\.\d+)*$", s):
        return "native_library"
    if last in ("java", "kt", "smali", "class", "scala", "groovy"):
        return "source_file"
    if last in _FILE_EXT:
        return "file_name"
    if dex is not None:
        names = dex.dotted_names
        if s in names or ".".join(labels[:2]) in names:
            return "identifier"  # a type or a package (com.google, android.hardware.type)
        if labels[0] in names and labels[-1] in dex.member_names:
            return "identifier"  # Class.member
        if any(lab in names for lab in labels if any(c.isupper() for c in lab)):
            return "identifier"
    if any(c.isupper() for c in s):
        return "identifier"  # code writes hosts in lower case; Java names are mixed case
    if labels[0] in _KEY_FIRST or (len(labels) == 2 and labels[0] in _KEY_FIRST_SHORT):
        return "property_or_package"
    return None


# -- sightings and the collection ---------------------------------------------------------


@dataclass
class Sighting:
    file: str
    usage: str  # network | configuration | native | string
    confidence: str
    method: str | None = None
    resource: str | None = None
    via: str | None = None
    sdk: str | None = None  # the SDK whose code holds the string

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"file": self.file, "usage": self.usage}
        for k in ("method", "resource", "via", "sdk"):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        return d


@dataclass
class _Entry:
    type: str
    value: str
    hosts: set[str] = field(default_factory=set)
    urls: dict[str, str] = field(default_factory=dict)  # url -> best confidence
    where: list[Sighting] = field(default_factory=list)
    seen_as: list[str] = field(default_factory=list)
    confidence: str = LOW
    usage: str = "string"
    owner: str = "app"
    service: str | None = None
    reason: str | None = None  # for an ignored value


@dataclass
class Collector:
    third_party: ThirdParty = field(default_factory=builtin_third_party)
    warninglist: Warninglist = field(default_factory=builtin_warninglist)
    entries: dict[tuple[str, str], _Entry] = field(default_factory=dict)
    not_hosts: Counter[str] = field(default_factory=Counter)
    not_host_examples: dict[str, list[str]] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def bots(self, text: str, where: str, method: str | None = None) -> None:
        """Messaging bots the app reports to (a Telegram bot token, a Discord webhook): one
        ring's account on a shared platform, so a link key. Only the bot's or webhook's
        number is kept, never the secret token."""
        for service, prefix, m in _bot_matches(text):
            key = f"{prefix}:{m}"
            entry = self.accounts.setdefault(key, {"service": service, "key": key, "value": m,
                                                   "found_in": []})  # fmt: skip
            place = f"{where} {method}" if method else where
            if place not in entry["found_in"] and len(entry["found_in"]) < 10:
                entry["found_in"].append(place)

    def skip(self, kind: str, text: str) -> None:
        self.not_hosts[kind] += 1
        ex = self.not_host_examples.setdefault(kind, [])
        if len(ex) < 5 and text not in ex:
            ex.append(text)

    def add(self, hit: Hit, seen: Sighting) -> None:
        host = hit.host
        ip = normalise_ip(host)
        reason: str | None = None
        owner, service = "app", None
        if ip is not None:
            typ, value = "ip", ip
            reason = ip_reason(ip)
            who = self.third_party.host(ip)
            if who.kind == "third_party":
                owner, service = "third_party", who.service
        else:
            who = self.third_party.host(host)
            domain = registrable_domain(host) or host
            typ, value = "domain", domain
            if who.kind == "tenant" and who.value:
                value = who.value
                service = who.service
            elif who.kind == "third_party":
                owner, service = "third_party", who.service
            listed = self.warninglist.reason("domain", domain)
            if listed and listed.startswith("a reserved"):
                reason = listed
            elif listed and owner == "app" and who.kind != "tenant":
                owner, service = "third_party", listed
        if seen.sdk is not None and owner == "app":
            owner, service = "third_party", f"{seen.sdk} (a constant in the SDK's own code)"
        if hit.url is not None and reason is None:
            listed = self.warninglist.reason("url", hit.url)
            if listed and listed.startswith(_NOT_A_SERVER):
                reason = listed
        e = self.entries.setdefault((typ, value), _Entry(typ, value))
        if reason is not None:
            e.reason = reason
        # Once anything says the host is everybody's (an SDK's code, the list), it stays so:
        # a wrong "third party" loses a link, a wrong "app" makes one.
        if e.owner == "app":
            e.owner, e.service = owner, service
        e.hosts.add(host)
        if hit.url is not None:
            best = e.urls.get(hit.url, LOW)
            e.urls[hit.url] = max(best, seen.confidence, key=_RANK.__getitem__)
        if _RANK[seen.confidence] > _RANK[e.confidence]:
            e.confidence, e.usage = seen.confidence, seen.usage
        elif _RANK[seen.confidence] == _RANK[e.confidence] and e.usage == "string":
            e.usage = seen.usage
        if len(e.where) < 12 and seen not in e.where:
            e.where.append(seen)
        if hit.raw not in e.seen_as and len(e.seen_as) < 10:
            e.seen_as.append(hit.raw)

    def results(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        found, ignored = [], []
        for e in self.entries.values():
            d: dict[str, Any] = {
                "type": e.type, "value": e.value, "hosts": sorted(e.hosts),
                "urls": [{"url": u, "confidence": c} for u, c in sorted(e.urls.items())],
                "found_in": list(dict.fromkeys(w.file for w in e.where)),
                "where": [w.to_dict() for w in e.where], "seen_as": e.seen_as,
                "usage": e.usage, "confidence": e.confidence, "owner": e.owner,
                "service": e.service,
            }  # fmt: skip
            if e.reason is not None:
                d["reason"] = e.reason
                d["link_key"] = False
                ignored.append(d)
                continue
            d["link_key"] = e.owner == "app" and e.confidence in LINKING_CONFIDENCE
            if not d["link_key"]:
                d["why_not_linked"] = (
                    f"a third-party service: {e.service}" if e.owner != "app"
                    else f"{e.confidence} confidence: seen only as {e.usage}"
                )  # fmt: skip
            found.append(d)
        key = lambda d: (not d["link_key"], d["owner"] != "app", d["type"], d["value"])  # noqa: E731
        return sorted(found, key=key), sorted(ignored, key=key)

    def summary(self) -> dict[str, Any]:
        return {
            k: {"count": n, "examples": self.not_host_examples.get(k, [])}
            for k, n in sorted(self.not_hosts.items())
        }


# -- code: which strings reach the network --------------------------------------------------


class CodeUse:
    """Where a DEX's code uses its strings, and whether that use reaches a network API."""

    def __init__(
        self, dex: Dex, third_party: ThirdParty, depth: int = 3, budget: int = 20_000
    ) -> None:
        self.dex = dex
        self.budget = budget  # methods decoded at most
        self.third_party = third_party
        self.depth = depth
        self._calls: dict[int, list[int]] = {}
        self._puts: dict[int, list[int]] = {}
        self._net: dict[tuple[int, int], str | None] = {}
        self._fields: dict[tuple[int, int], str | None] = {}
        self._api_ids = set(dex.find_methods(set(NETWORK_APIS)))

    def _decode(self, m: Method) -> None:
        calls, puts = [], []
        for ref in self.dex.refs(m):
            if ref.kind == "method":
                calls.append(ref.index)
            elif ref.kind == "field_put":
                puts.append(ref.index)
        self._calls[m.index] = calls
        self._puts[m.index] = puts

    def calls(self, m: Method) -> list[int]:
        if m.index not in self._calls:
            self._decode(m)
        return self._calls[m.index]

    def network(self, m: Method, depth: int | None = None) -> str | None:
        """The network API ``m`` reaches through at most ``depth`` calls into code of this
        file, as ``caller -> ... -> API``; None if none is reached."""
        depth = self.depth if depth is None else depth
        key = (m.index, depth)
        if key in self._net:
            return self._net[key]
        self._net[key] = None  # a recursive call reaches nothing new
        if len(self._calls) > self.budget:
            return None  # enough decoding for one file: an unreached string stays a string
        found: str | None = None
        callees = self.calls(m)
        for c in callees:
            if c in self._api_ids:
                found = self.dex.method(c)
                break
        if found is None and depth > 0:
            code = self.dex.code_by_index
            for c in dict.fromkeys(callees):
                target = code.get(c)
                if target is not None and target.index != m.index:
                    sub = self.network(target, depth - 1)
                    if sub is not None:
                        found = f"{self.dex.method(c)} -> {sub}"
                        break
        self._net[key] = found
        return found

    def through_fields(self, m: Method, depth: int = 1) -> str | None:
        """A network API reached by code that reads a field ``m`` writes (a constant kept in
        a field, then used elsewhere)."""
        if (m.index, depth) not in self._fields:
            self._fields[(m.index, depth)] = self._through_fields(m, depth)
        return self._fields[(m.index, depth)]

    def _through_fields(self, m: Method, depth: int) -> str | None:
        if m.index not in self._puts:
            self._decode(m)
        fields = set(self._puts[m.index])
        pattern = index_pattern("field_get", fields)
        if pattern is None:
            return None
        for reader in self.dex.methods_containing(pattern)[:50]:
            reached = self.network(reader, depth)
            if reached is not None:
                return f"{self.dex.method(reader.index)} -> {reached}"
        return None

    def users(self, indices: Iterable[int]) -> dict[int, list[Method]]:
        """For each string index, the methods that load it (const-string)."""
        wanted = set(indices)
        out: dict[int, list[Method]] = {}
        pattern = index_pattern("string", wanted)
        if pattern is None:
            return out
        for m in self.dex.methods_containing(pattern):
            for ref in self.dex.refs(m):
                if ref.kind == "string" and ref.index in wanted:
                    lst = out.setdefault(ref.index, [])
                    if m not in lst:
                        lst.append(m)
        return out


def scan_bots(dex: Dex, name: str, out: Collector) -> None:
    """Bot tokens and webhooks among a DEX's strings, with the methods that load them."""
    found = {i: dex.string(i) for i in dex.strings_matching(BOT_BYTES)}
    if not found:
        return
    users = CodeUse(dex, out.third_party).users(found)
    for i, text in found.items():
        callers: list[str | None] = [dex.method(m.index) for m in users.get(i, [])[:3]]
        for caller in callers or [None]:
            out.bots(text, name, caller)


def scan_dex(dex: Dex, name: str, candidates: list[int], out: Collector) -> None:
    """Endpoints among a DEX's strings, each with the methods that use it and how."""
    strings: dict[int, list[Hit]] = {}
    for i in candidates:
        text = dex.string(i)
        if len(text) > 4000:
            continue
        hits = find_hits(text)
        kept = []
        for h in hits:
            why = None if h.url is not None or not h.whole else not_a_host(text, dex, i)
            if why is not None:
                out.skip(why, text)
            else:
                kept.append(h)
        if kept:
            strings[i] = kept
        elif not hits:
            why = not_a_host(text, dex, i)
            if why is not None and re.fullmatch(r"[\w$.-]+", text.strip()):
                out.skip(why, text)
    if not strings:
        return
    use = CodeUse(dex, out.third_party)
    users = use.users(strings)
    for i, hits in strings.items():
        methods = users.get(i, [])
        for h in hits:
            if not methods:
                conf = LOW
                out.add(h, Sighting(name, "string", conf))
                continue
            for m in methods[:5]:
                caller = dex.method(m.index)
                sdk = out.third_party.code(caller)
                # A URL may travel through helpers; a bare host must meet the API itself.
                depth = None if h.url is not None else 0
                reach = use.network(m, depth) or use.through_fields(m, 1 if depth is None else 0)
                via = reach if h.whole else None
                if via is not None:
                    seen = Sighting(name, "network", HIGH, caller, via=via, sdk=sdk)
                elif h.whole and h.url is not None:
                    seen = Sighting(name, "string", MEDIUM, caller, sdk=sdk)
                else:
                    seen = Sighting(name, "string", LOW, caller, sdk=sdk)
                out.add(h, seen)


def scan_text(strings: Iterable[str], name: str, out: Collector, *, config: bool) -> None:
    """Strings of an asset: a URL or a host that is a whole value in a configuration file is
    configuration; anything else (prose, binary data) is a plain string."""
    for s in strings:
        out.bots(s, name)
        for h in find_hits(s):
            if h.url is None and not_a_host(h.raw) is not None:
                out.skip(not_a_host(h.raw) or "identifier", h.raw)
                continue
            if config and h.url is not None:
                out.add(h, Sighting(name, "configuration", HIGH))
            elif config and h.whole:
                out.add(h, Sighting(name, "configuration", MEDIUM))
            else:
                out.add(h, Sighting(name, "string", LOW))


# A value filled in at run time (a lookup template: "https://dict.example/?q=%1$s").
_RUNTIME_TEMPLATE = re.compile(r"%(?:\d+\$)?[sdx]|\{\d*\}|\$\{[^}]*\}|\{\{[^}]*\}\}")
# Keys that describe the file or its authors, not where the app connects.
_METADATA_KEY = re.compile(
    r"(?i)^(author|authors|maintainer|copyright|licen[cs]e|homepage|home_?page|website|"
    r"description|contact|e?mail|credits?|about|docs?|documentation|help|issues?|repository|"
    r"repo|source|vendor|publisher|url_?template|option|dict(ionary)?)$"
)
# ``key: value``, ``key = value``, ``"key": "value"``, ``<x name="key">value</x>``.
_KEYED = re.compile(
    r"""(?m)^[ \t-]*["']?([\w.-]{1,60})["']?[ \t]*[:=][ \t]*(.+)$"""
    r"""|name=["']([\w.-]{1,60})["'][^>]*>([^<\n]{3,300})<"""
)


# Words of a key that name where an app connects (whole words: "Zdic2" is not "c2").
_SERVER_WORDS = frozenset({
    "url", "uri", "host", "hostname", "server", "domain", "endpoint", "api", "base", "socket",
    "ws", "wss", "gate", "gateway", "panel", "backend", "firebase", "bucket", "c2", "cnc",
    "upload", "address", "addr", "link", "site", "web", "baseurl", "apiurl", "serverurl",
})  # fmt: skip


def _key_words(key: str) -> list[str]:
    """``apiBaseURL`` -> api, base, url; ``c2_server`` -> c2, server."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key)
    return [w.lower() for w in re.split(r"[\s_.\-]+", spaced) if w]


def _config_key(key: str, value: str) -> bool:
    """Whether ``value`` under ``key`` is configuration of where the app connects: a
    server-like key always is; a metadata key never; a run-time template only under a
    server-like key."""
    last = key.rsplit(".", 1)[-1]
    if _SERVER_WORDS & set(_key_words(last)) and not _METADATA_KEY.match(last):
        return True
    return not _METADATA_KEY.match(last) and not _RUNTIME_TEMPLATE.search(value)


def scan_config(text: str, name: str, out: Collector) -> None:
    """A configuration asset: its values are configuration, except those under keys that
    describe the file (author, homepage) and run-time templates under keys that do not name
    a server; anything else it mentions (in a comment, say) is a plain string."""
    plain: list[str] = []
    for m in _KEYED.finditer(text):
        key, value = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        if not _config_key(key, value):
            plain.append(value)
            text = text.replace(m.group(0), "", 1)
    tokens = config_tokens(text)
    scan_text(tokens, name, out, config=True)
    seen = {h.host for t in tokens for h in find_hits(t)}
    rest = [h.raw for h in find_hits(text) if h.host not in seen]
    rest += [h.raw for v in plain for h in find_hits(v)]
    scan_text(rest, name, out, config=False)


def scan_script(text: str, name: str, out: Collector) -> None:
    """Code shipped as an asset: a URL handed to fetch, axios, XMLHttpRequest.open, a
    WebSocket or Socket.IO (or set as a base URL) is a network call; other URLs are plain
    strings."""
    called = set()
    for m in _SCRIPT_CALL.finditer(text):
        for h in find_hits(m.group(1)):
            called.add(h.raw)
            out.add(h, Sighting(name, "network", HIGH, via=text[m.start() : m.start(1)].strip()))
    rest = [h.raw for h in find_hits(text) if h.raw not in called]
    scan_text(rest, name, out, config=False)


def config_tokens(text: str) -> list[str]:
    """Values of a configuration file: quoted strings, and what follows ``=`` or ``:``."""
    vals = re.findall(r"\"([^\"\n]{3,300})\"|'([^'\n]{3,300})'|[=:]\s*([^\s,;\"'<>]{3,300})", text)
    out = [a or b or c for a, b, c in vals]
    out += re.findall(r">([^<>\n]{3,300})</", text)
    return out


def scan_native(strings: list[str], name: str, out: Collector) -> None:
    """A native library: URLs are endpoints, with medium confidence when the library imports
    network functions; anything else in it is at most a plain string."""
    networked = any(s in _NATIVE_NET for s in strings)
    for s in strings:
        if "://" not in s and not s.startswith("www."):
            if _SO_NAME.fullmatch(s):
                out.skip("native_library", s)  # a library it links against: a file
            continue
        if "clang version" in s or "GCC:" in s:
            continue  # the compiler's own identification string
        for h in find_hits(s):
            if h.url is not None and h.whole and networked:
                out.add(h, Sighting(name, "native", MEDIUM, via="imports network functions"))
            else:
                out.add(h, Sighting(name, "native", LOW))


def scan_resources(values: dict[str, str], out: Collector) -> None:
    """String resources by name: a host or URL under a configuration name (server_url,
    firebase_database_url, google_storage_bucket) is configuration."""
    for rname, raw in values.items():
        value = html.unescape(raw)
        out.bots(value, "resources.arsc", f"string/{rname}")
        config = bool(_CONFIG_NAME.search(rname))
        for h in find_hits(value):
            if h.url is None and h.whole and not_a_host(h.raw) is not None:
                out.skip(not_a_host(h.raw) or "identifier", h.raw)
                continue
            res = f"string/{rname}"
            if config and h.whole:
                out.add(h, Sighting("resources.arsc", "configuration", HIGH, resource=res))
            elif h.whole and h.url is not None:
                out.add(h, Sighting("resources.arsc", "configuration", MEDIUM, resource=res))
            else:  # a mention in a sentence, whatever the resource is called
                out.add(h, Sighting("resources.arsc", "string", LOW, resource=res))


_PROJECT_ID = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
_PLACEHOLDER = re.compile(r"your|example|placeholder|sample|changeme|xxxx")


def cloud_projects(named: dict[str, str]) -> list[dict[str, str]]:
    """The app's own Firebase / Google Cloud project, from the string resources the
    google-services plugin writes (``project_id``, ``gcm_defaultSenderId``, ``google_app_id``):
    specific to the app's owner, so a link key. The API key is left out: it is a credential."""
    out: list[dict[str, str]] = []
    pid = html.unescape(named.get("project_id", "")).strip()
    if _PROJECT_ID.fullmatch(pid) and not _PLACEHOLDER.search(pid):
        out.append({"service": "Firebase / Google Cloud", "key": f"firebase:{pid}",
                    "value": pid, "resource": "string/project_id"})  # fmt: skip
    number = named.get("gcm_defaultSenderId", "").strip()
    app_id = re.fullmatch(r"1:(\d{6,15}):android:[0-9a-f]+", named.get("google_app_id", "").strip())
    resource = "string/gcm_defaultSenderId"
    if not re.fullmatch(r"\d{6,15}", number) and app_id:
        number, resource = app_id.group(1), "string/google_app_id"
    if re.fullmatch(r"\d{6,15}", number):
        out.append({"service": "Firebase / Google Cloud", "key": f"google-project:{number}",
                    "value": number, "resource": resource})  # fmt: skip
    return out


def scan_declared(values: list[tuple[str, str]], file: str, out: Collector) -> None:
    """Hosts the manifest or the network security config declares (``element``, value)."""
    for element, value in values:
        for h in find_hits(value):
            if h.url is None and not_a_host(h.raw) is not None:
                continue
            out.add(h, Sighting(file, "configuration", HIGH, resource=element))
