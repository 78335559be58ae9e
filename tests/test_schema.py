"""report-v1: the published JSON Schema and the validator accept the spec and name bad fields."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from ringtrace.errors import InvalidReport
from ringtrace.intake.received import receive
from ringtrace.intake.schema import json_schema, parse_report
from tests.factories import report

ROOT = Path(__file__).resolve().parents[1]
# The contract other tools rely on, kept in the repository (docs/spec/) so a clone stands
# alone; the shared original beside a development checkout must say the same.
SPEC = ROOT / "docs" / "spec" / "report-v1.md"
SHARED_SPEC = ROOT.parent / "shared" / "spec" / "report-v1.md"


def test_the_repository_copy_of_the_spec_is_the_shared_contract() -> None:
    if not SHARED_SPEC.exists():
        pytest.skip(f"no shared spec at {SHARED_SPEC} (a clone on its own): nothing to compare")
    assert SPEC.read_text() == SHARED_SPEC.read_text(), "docs/spec/report-v1.md is out of date"


def spec_example() -> dict[str, object]:
    text = SPEC.read_text()
    block = re.search(r"## Example\n```json\n(.*?)```", text, re.S)
    assert block, "the spec's example block moved"
    return json.loads(block.group(1))  # type: ignore[no-any-return]


def test_spec_example_is_valid_for_schema_and_validator() -> None:
    doc = spec_example()
    jsonschema.Draft202012Validator(json_schema()).validate(doc)
    parsed = parse_report(doc)
    assert parsed.external_id == "SG-24-00817"
    assert parsed.country == "SG"
    assert parsed.tlp == "amber"


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["required"] == ["external_id", "received_at"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"received_at": None}, "received_at"),
        ({"received_at": "2024-07-02T21:14:00"}, "received_at"),  # no offset
        ({"tlp": "purple"}, "tlp"),
        ({"payments": [{"kind": "owed"}]}, "payments.0.kind"),
        ({"messages": [{"from": "someone", "text": "x"}]}, "messages.0.from"),
        (
            {"offender_identifiers": [{"type": "pager", "value": "1"}]},
            "offender_identifiers.0.type",
        ),
        ({"reporter": {"country": "Singapore"}}, "reporter.country"),
        ({"external_id": ""}, "external_id"),
    ],
)
def test_invalid_documents_name_the_field(change: dict[str, object], field: str) -> None:
    doc = report(**change)
    doc = {k: v for k, v in doc.items() if v is not None}
    with pytest.raises(InvalidReport) as err:
        parse_report(doc)
    assert err.value.field == field
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(json_schema()).validate(doc)


def test_attachment_hash_must_match_content() -> None:
    doc = report(
        attachments=[{"filename": "a.txt", "content_base64": "aGVsbG8=", "sha256": "0" * 64}]
    )
    with pytest.raises(InvalidReport) as err:
        receive(json.dumps(doc))
    assert err.value.field == "attachments.0"


def test_stored_text_is_the_document_as_sent_unless_it_carried_bytes() -> None:
    text = '{"external_id": "A", "received_at": "2024-07-02T21:14:00+08:00",  "narrative": "x"}'
    assert receive(text).stored_text == text
    with_bytes = json.dumps(
        report(attachments=[{"filename": "a.txt", "content_base64": "aGVsbG8="}])
    )
    rec = receive(with_bytes)
    stored = json.loads(rec.stored_text)
    assert "content_base64" not in stored["attachments"][0]
    assert stored["attachments"][0]["sha256"] == rec.blobs[0].sha256
    assert rec.blobs[0].data == b"hello"


def test_unknown_fields_are_kept() -> None:
    rec = receive(json.dumps(report(x_partner_case="P-1")))
    assert json.loads(rec.stored_text)["x_partner_case"] == "P-1"
