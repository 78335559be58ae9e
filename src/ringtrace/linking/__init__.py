"""Linking reports into clusters (connected components over shared link keys)."""

from ringtrace.linking.clusters import KeyRow, assemble_cluster
from ringtrace.linking.incremental import ComponentStore, link_report

__all__ = ["ComponentStore", "KeyRow", "assemble_cluster", "link_report"]
