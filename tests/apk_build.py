"""Build the test APKs from source with Debian's Android tools (never committed binaries).

smali assembles the classes, aapt packages the manifest, resources and assets against
Debian's framework-res.apk, gcc builds the native library, zipalign aligns and apksigner signs
(v1, v2 and v3) with keys made here by keytool. The apps are synthetic, static fixtures: they
are built and parsed, never installed or run.

Used by tests/test_apk.py (cached per session) and benchmarks/apk.py.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent / "apk_fixtures"
FRAMEWORK = Path("/usr/share/android-framework-res/framework-res.apk")
TOOLS = ("aapt", "apksigner", "zipalign", "smali", "keytool", "gcc")
DEBIAN_PACKAGES = ("aapt", "apksigner", "zipalign", "android-framework-res", "libsmali-java")
STOREPASS = "ringtrace-fixture"

# A sibling of the stealer: another app of the same ring (other package, other server),
# signed with the same key.
SIBLING = {
    "com.privatechat.app": "com.securevid.player",
    "com/privatechat/app": "com/securevid/player",
    "chat-priv.top": "vid-secure.live",
    "PrivateChat": "SecureVid",
    "5012345678:AAFixtureOnly": "7098765432:AAFixtureOnly",  # its own Telegram bot
}


# Another author's app built with the same libraries and toolchain: its own package, servers
# and Firebase project, its own key. It must share no link key with the first.
OTHER_AUTHOR = {
    "com.clipshare.app": "org.snapvault.gallery",
    "com/clipshare/app": "org/snapvault/gallery",
    "clip-share": "snap-vault",
    "ClipShare": "SnapVault",
    "512345678901": "698765432109",  # the Firebase project number
}


def missing_tools() -> list[str]:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if not FRAMEWORK.exists():
        missing.append(str(FRAMEWORK))
    return missing


def _run(*cmd: str | Path, cwd: Path | None = None) -> None:
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {proc.stderr.strip() or proc.stdout.strip()}")


def keystore(folder: Path, name: str) -> Path:
    """An RSA signing key of a fictitious developer (made once per folder)."""
    path = folder / f"{name}.jks"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        _run("keytool", "-genkeypair", "-keystore", path, "-alias", "fixture",
             "-keyalg", "RSA", "-keysize", "2048", "-validity", "10000",
             "-dname", f"CN={name} developer, O=Synthetic Fixtures, C=ZZ",
             "-storepass", STOREPASS, "-keypass", STOREPASS)  # fmt: skip
    return path


def _copy(src: Path, dst: Path, subst: dict[str, str]) -> None:
    for f in src.rglob("*"):
        if f.is_dir():
            continue
        rel = str(f.relative_to(src))
        for a, b in subst.items():
            rel = rel.replace(a, b)
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        data = f.read_bytes()
        if f.suffix in (".smali", ".xml", ".json", ".c"):
            text = data.decode()
            for a, b in subst.items():
                text = text.replace(a, b)
            data = text.encode()
        target.write_bytes(data)


def _filler(folder: Path, classes: int) -> None:
    """Ordinary app code to make an APK of realistic size for the benchmark."""
    for i in range(classes):
        body = "\n".join(
            f""".method public m{j}(I)I
    .locals 2
    const-string v0, "label {i}.{j} {hashlib.sha256(f"{i}/{j}".encode()).hexdigest()}"
    invoke-virtual {{v0}}, Ljava/lang/String;->length()I
    move-result v1
    add-int/2addr v1, p1
    return v1
.end method"""
            for j in range(12)
        )
        (folder / f"Filler{i}.smali").write_text(
            f".class public Lorg/filler/Filler{i};\n.super Ljava/lang/Object;\n\n{body}\n"
        )


def build(
    app: str,
    out: Path,
    *,
    key: Path | None,
    subst: dict[str, str] | None = None,
    filler_classes: int = 0,
) -> Path:
    """Build tests/apk_fixtures/<app> into ``out`` (signed with ``key`` unless None)."""
    subst = subst or {}
    work = out.parent / f"{out.stem}-build"
    shutil.rmtree(work, ignore_errors=True)
    _copy(HERE / app, work, subst)
    if filler_classes:
        (work / "smali" / "filler").mkdir(parents=True, exist_ok=True)
        _filler(work / "smali" / "filler", filler_classes)
    if app == "packed":
        # The opaque, encrypted-looking payload a packer ships as an asset.
        blob = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(2048))
        (work / "assets").mkdir(exist_ok=True)
        (work / "assets" / "payload.bin").write_bytes(blob)
    _run("smali", "assemble", "--api", "21", "-o", work / "classes.dex", work / "smali")
    cmd: list[str | Path] = ["aapt", "package", "-f", "-M", work / "AndroidManifest.xml",
                             "-S", work / "res", "-I", FRAMEWORK,
                             "-F", work / "unsigned.apk"]  # fmt: skip
    if (work / "assets").is_dir():
        cmd += ["-A", work / "assets"]
    _run(*cmd)
    with zipfile.ZipFile(work / "unsigned.apk", "a", compression=zipfile.ZIP_DEFLATED) as z:
        z.write(work / "classes.dex", "classes.dex")
        for c_file in sorted((work / "native").glob("*.c")) if (work / "native").is_dir() else []:
            so = work / f"lib{c_file.stem}.so"
            _run("gcc", "-shared", "-fPIC", "-O0", "-o", so, c_file)
            z.write(so, f"lib/x86_64/lib{c_file.stem}.so", compress_type=zipfile.ZIP_STORED)
    _run("zipalign", "-f", "-p", "4", work / "unsigned.apk", work / "aligned.apk")
    out.parent.mkdir(parents=True, exist_ok=True)
    if key is None:
        shutil.copyfile(work / "aligned.apk", out)
    else:
        _run("apksigner", "sign", "--ks", key, "--ks-pass", f"pass:{STOREPASS}",
             "--ks-key-alias", "fixture", "--key-pass", f"pass:{STOREPASS}",
             "--v1-signing-enabled", "true", "--v2-signing-enabled", "true",
             "--v3-signing-enabled", "true", "--min-sdk-version", "21",
             "--out", out, work / "aligned.apk")  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)
    return out


def build_all(folder: Path) -> dict[str, Path]:
    """Every fixture the tests use."""
    ring = keystore(folder, "ring")
    other = keystore(folder, "contacts-book")
    out = {
        "stealer": build("stealer", folder / "stealer.apk", key=ring),
        "sibling": build("stealer", folder / "sibling.apk", key=ring, subst=SIBLING),
        "benign": build("benign", folder / "benign.apk", key=other),
        "unsigned": build("benign", folder / "unsigned.apk", key=None,
                          subst={"org.example.contactsbook": "org.example.unsigned"}),
        "packed": build("packed", folder / "packed.apk", key=other),
        "toolchain": build("toolchain", folder / "toolchain.apk", key=keystore(folder, "clip")),
        "other_author": build("toolchain", folder / "other-author.apk",
                              key=keystore(folder, "snap"), subst=OTHER_AUTHOR),
    }  # fmt: skip
    data = out["stealer"].read_bytes()
    (folder / "truncated.apk").write_bytes(data[: len(data) // 2])
    out["truncated"] = folder / "truncated.apk"
    (folder / "not-an-apk.apk").write_bytes(b"%PDF-1.4\n" + b"x" * 2000)
    out["not_apk"] = folder / "not-an-apk.apk"
    return out
