"""What counts as each behaviour: the Android APIs, fields and content URIs that show it.

Each behaviour is found from references in the app's own bytecode (a call, a static field
read, a string constant), and each finding names the calling method and the offset of the
instruction (the call site). Matching is on ``Lclass;->member`` without the descriptor, so
an overload counts too.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Behaviour:
    id: str
    title: str
    methods: frozenset[str] = field(default_factory=frozenset)
    fields: frozenset[str] = field(default_factory=frozenset)
    string_prefixes: tuple[str, ...] = ()
    sensitive: bool = False  # reads the victim's personal data
    sends: bool = False  # moves data off the device


def _b(id: str, title: str, methods: tuple[str, ...] = (), fields: tuple[str, ...] = (),
       strings: tuple[str, ...] = (), sensitive: bool = False, sends: bool = False) -> Behaviour:  # fmt: skip
    return Behaviour(id, title, frozenset(methods), frozenset(fields), strings, sensitive, sends)


_CC = "Landroid/provider/ContactsContract"
BEHAVIOURS: tuple[Behaviour, ...] = (
    _b("reads_contacts", "reads the contact list",
       fields=(*(f"{_CC}{k};->CONTENT_URI" for k in (
           "$Contacts", "$CommonDataKinds$Phone", "$CommonDataKinds$Email", "$Data",
           "$RawContacts", "$PhoneLookup")), "Landroid/provider/Contacts$People;->CONTENT_URI"),
       strings=("content://com.android.contacts", "content://contacts"), sensitive=True),
    _b("reads_sms", "reads text messages",
       methods=("Landroid/telephony/SmsMessage;->createFromPdu",
                "Landroid/provider/Telephony$Sms$Intents;->getMessagesFromIntent"),
       fields=("Landroid/provider/Telephony$Sms;->CONTENT_URI",
               "Landroid/provider/Telephony$Sms$Inbox;->CONTENT_URI",
               "Landroid/provider/Telephony$Mms;->CONTENT_URI"),
       strings=("content://sms", "content://mms"), sensitive=True),
    _b("reads_call_log", "reads the call log",
       fields=("Landroid/provider/CallLog$Calls;->CONTENT_URI",),
       strings=("content://call_log",), sensitive=True),
    _b("reads_accounts", "lists the accounts on the device",
       methods=("Landroid/accounts/AccountManager;->getAccounts",
                "Landroid/accounts/AccountManager;->getAccountsByType"), sensitive=True),
    _b("reads_location", "reads the location",
       methods=("Landroid/location/LocationManager;->getLastKnownLocation",
                "Landroid/location/LocationManager;->requestLocationUpdates",
                "Landroid/location/LocationManager;->requestSingleUpdate",
                "Lcom/google/android/gms/location/FusedLocationProviderClient;->getLastLocation",
                "Lcom/google/android/gms/location/FusedLocationProviderClient;->requestLocationUpdates"),
       sensitive=True),
    _b("uses_camera", "opens the camera",
       methods=("Landroid/hardware/Camera;->open",
                "Landroid/hardware/camera2/CameraManager;->openCamera"), sensitive=True),
    _b("records_audio", "records from the microphone",
       methods=("Landroid/media/AudioRecord;-><init>",
                "Landroid/media/MediaRecorder;->setAudioSource"), sensitive=True),
    _b("captures_screen", "captures the screen",
       methods=("Landroid/media/projection/MediaProjectionManager;->createScreenCaptureIntent",
                "Landroid/media/projection/MediaProjectionManager;->getMediaProjection",
                "Landroid/media/projection/MediaProjection;->createVirtualDisplay"),
       sensitive=True),
    _b("uploads_http", "sends data over HTTP",
       methods=("Ljava/net/HttpURLConnection;->getOutputStream",
                "Ljava/net/URLConnection;->getOutputStream",
                "Ljavax/net/ssl/HttpsURLConnection;->getOutputStream",
                "Lokhttp3/OkHttpClient;->newCall", "Lokhttp3/RequestBody;->create",
                "Lorg/apache/http/client/HttpClient;->execute",
                "Lorg/apache/http/impl/client/DefaultHttpClient;->execute",
                "Lcom/android/volley/RequestQueue;->add"), sends=True),
    _b("uploads_socket", "sends data over a socket",
       methods=("Ljava/net/Socket;->getOutputStream", "Lokhttp3/WebSocket;->send",
                "Ljava/nio/channels/SocketChannel;->write", "Ljava/net/DatagramSocket;->send"),
       sends=True),
    _b("hides_icon", "hides its launcher icon",
       methods=("Landroid/content/pm/PackageManager;->setComponentEnabledSetting",)),
    _b("device_admin", "uses device-administrator powers",
       methods=("Landroid/app/admin/DevicePolicyManager;->lockNow",
                "Landroid/app/admin/DevicePolicyManager;->resetPassword",
                "Landroid/app/admin/DevicePolicyManager;->wipeData")),
    _b("accessibility_abuse", "drives other apps through the accessibility service",
       methods=("Landroid/accessibilityservice/AccessibilityService;->performGlobalAction",
                "Landroid/view/accessibility/AccessibilityNodeInfo;->performAction")),
    _b("dynamic_code_loading", "loads code at run time",
       methods=("Ldalvik/system/DexClassLoader;-><init>", "Ldalvik/system/PathClassLoader;-><init>",
                "Ldalvik/system/InMemoryDexClassLoader;-><init>", "Ldalvik/system/DexFile;->loadDex")),
)  # fmt: skip
BY_ID = {b.id: b for b in BEHAVIOURS}

# Manifest declarations that show a behaviour without any code reference.
MANIFEST_PERMISSION_BEHAVIOURS = {
    "android.permission.BIND_DEVICE_ADMIN": "device_admin",
    "android.permission.BIND_ACCESSIBILITY_SERVICE": "accessibility_abuse",
}

EXFILTRATION = "contacts_exfiltration"
EXFILTRATION_TITLE = "reads the contacts, then sends them (same method or call chain)"
# Personal data read, then sent: the behaviour that reads it -> (id, title).
THEFTS = {
    "reads_contacts": (EXFILTRATION, EXFILTRATION_TITLE),
    "reads_sms": ("sms_exfiltration",
                  "reads text messages, then sends them (same method or call chain)"),
    "reads_call_log": ("call_log_exfiltration",
                       "reads the call log, then sends it (same method or call chain)"),
}  # fmt: skip

# Package names of apps victims know, and the prefixes of the platform's own packages: an app
# that claims one of them and is not the real one (which ringtrace cannot tell apart from the
# certificate alone) is impersonating it.
KNOWN_PACKAGES = {
    "com.whatsapp": "WhatsApp", "com.whatsapp.w4b": "WhatsApp Business",
    "com.facebook.katana": "Facebook", "com.facebook.orca": "Messenger",
    "com.instagram.android": "Instagram", "org.telegram.messenger": "Telegram",
    "com.snapchat.android": "Snapchat", "com.zhiliaoapp.musically": "TikTok",
    "com.ss.android.ugc.trill": "TikTok", "com.tencent.mm": "WeChat",
    "jp.naver.line.android": "LINE", "com.viber.voip": "Viber", "com.skype.raider": "Skype",
    "com.discord": "Discord", "org.thoughtcrime.securesms": "Signal",
    "com.imo.android.imoim": "imo", "com.kakao.talk": "KakaoTalk",
    "us.zoom.videomeetings": "Zoom", "com.tinder": "Tinder", "com.bumble.app": "Bumble",
    "com.grindrapp.android": "Grindr", "com.badoo.mobile": "Badoo",
    "com.google.android.gm": "Gmail", "com.android.chrome": "Chrome",
    "com.android.vending": "Google Play", "com.google.android.gms": "Google Play services",
    "com.google.android.youtube": "YouTube", "com.paypal.android.p2pmobile": "PayPal",
}  # fmt: skip
PLATFORM_PREFIXES = ("android.", "com.android.", "com.google.android.")

# File names that commercial packers leave in an APK.
PACKER_FILES = (
    "libjiagu", "libsecexe", "libsecmain", "libdexhelper", "libshell", "libshella",
    "libexec.so", "libexecmain", "ijiami", "libprotectclass", "libnqshield", "libtup",
    "libbaiduprotect", "libitsec", "libapssec",
)  # fmt: skip
