"""Whose is a host or a piece of code: the app's, or an SDK's or platform's that thousands of
apps share. The list is versioned data with its sources (``data/third_party.json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class Owner:
    """``kind`` is ``"app"`` (specific to the app), ``"tenant"`` (the app's own project on a
    shared platform: specific) or ``"third_party"``; ``service`` names the SDK or platform;
    ``value`` is the link value for a tenant (``<project>.firebaseio.com``)."""

    kind: str
    service: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class ThirdParty:
    version: str
    domains: dict[str, str]  # host suffix -> service
    tenants: dict[str, str]  # tenant suffix -> service
    ips: dict[str, str]  # address -> service (public DNS resolvers used to test connectivity)
    packages: tuple[tuple[str, str], ...]  # ("Lcom/google/firebase/", service), longest first
    # The app's own package ("Lcom/github/uiautomator/"): its code is the app's even when an
    # SDK's namespace is a prefix of it (a ring cannot hide its code under "com.github").
    own: str | None = None

    def for_app(self, package: str | None) -> ThirdParty:
        """The same lists, told which package is the app's own."""
        if not package or "." not in package:
            return self
        return replace(self, own="L" + package.replace(".", "/") + "/")

    def host(self, host: str) -> Owner:
        if host in self.ips:
            return Owner("third_party", self.ips[host])
        labels = host.lower().rstrip(".").split(".")
        for k in range(len(labels)):  # the longest suffix first
            suffix = ".".join(labels[k:])
            if suffix in self.tenants:
                if k == 0:
                    return Owner("third_party", self.tenants[suffix])
                tenant = ".".join(labels[k - 1 :])
                return Owner("tenant", self.tenants[suffix], tenant)
            if suffix in self.domains:
                return Owner("third_party", self.domains[suffix])
        return Owner("app")

    def code(self, class_descriptor: str) -> str | None:
        """The SDK whose code this class is, if it is one (``Lokhttp3/OkHttpClient;``)."""
        if self.own is not None and class_descriptor.startswith(self.own):
            return None
        for prefix, service in self.packages:
            if class_descriptor.startswith(prefix):
                return service
        return None


@lru_cache(maxsize=1)
def builtin() -> ThirdParty:
    text = resources.files("ringtrace.apk").joinpath("data/third_party.json").read_text()
    data = json.loads(text)
    domains: dict[str, str] = {}
    tenants: dict[str, str] = {}
    ips: dict[str, str] = {}
    packages: list[tuple[str, str]] = []
    for s in data["services"]:
        for d in s["domains"]:
            domains[d] = s["service"]
        for d in s.get("tenant_domains", []):
            tenants[d] = s["service"]
        for ip in s.get("ips", []):
            ips[ip] = s["service"]
        for p in s.get("packages", []):
            packages.append(("L" + p.replace(".", "/") + "/", s["service"]))
    packages.sort(key=lambda p: -len(p[0]))
    return ThirdParty(data["version"], domains, tenants, ips, tuple(packages))
