"""Machine-readable reports of a convert run for CI: JSON (our schema), SARIF 2.1.0 (GitHub code scanning),
GitLab Code Quality and JUnit XML. Each is one document built from the Results; paths are written as given
(relative where the user gave relative paths), escaped by the format's own rules, never spliced as text."""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePath
from urllib.parse import quote

from dockrewrite import __version__
from dockrewrite.results import CHANGED, FAILED, SKIPPED, UNCHANGED, Report, Result

JSON_VERSION = 1  # bumped when a field changes meaning or goes away; new fields keep the number
INFO_URI = "https://pypi.org/project/dockrewrite/"

# One rule per outcome a CI user acts on (the ids are stable).
RULES = {
    "convertible": (
        "DR001",
        "warning",
        "A single-stage Dockerfile that `dockrewrite convert --write` makes multi-stage",
    ),
    "failed": ("DR002", "error", "A Dockerfile dockrewrite could not read or convert safely"),
    "skipped": ("DR003", "note", "A Dockerfile dockrewrite leaves alone, with the reason"),
    "credential": ("DR004", "warning", "A value in ENV or ARG that reads like a credential and stays in the image"),
}


def findings(result: Result, check: bool = True) -> list[tuple[str, int, str]]:
    """(rule key, line, message) for one result: what a CI report lists about it."""
    out: list[tuple[str, int, str]] = []
    if result.status == CHANGED:
        out.append(
            (
                "convertible",
                1,
                f"single-stage Dockerfile: `dockrewrite convert --write` makes it multi-stage "
                f"({result.runtime} runtime)",
            )
        )
        out += [("credential", line, text) for line, text in result.secrets]
    elif result.status == FAILED:
        out.append(("failed", result.line or 1, result.reason or "failed"))
    elif result.status == SKIPPED:
        out.append(("skipped", result.line or 1, result.reason or "skipped"))
    return out


def json_report(records: list[dict], report: Report) -> str:
    return json.dumps({"version": JSON_VERSION, "files": records, "summary": report.as_dict()}, indent=2)


def sarif(results: list[Result]) -> str:
    rules = [
        {
            "id": rule_id,
            "name": key,
            "shortDescription": {"text": text},
            "defaultConfiguration": {"level": level},
            "helpUri": INFO_URI,
        }
        for key, (rule_id, level, text) in RULES.items()
    ]
    index = {key: n for n, key in enumerate(RULES)}
    items = []
    for result in results:
        for key, line, message in findings(result):
            rule_id, level, _ = RULES[key]
            items.append(
                {
                    "ruleId": rule_id,
                    "ruleIndex": index[key],
                    "level": level,
                    "message": {"text": message},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": _uri(result.path)},
                                "region": {"startLine": max(1, line)},
                            }
                        }
                    ],
                    "partialFingerprints": {"dockrewrite/v1": _fingerprint(result.path, key, message)},
                }
            )
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "dockrewrite",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFO_URI,
                        "rules": rules,
                    }
                },
                "results": items,
            }
        ],
    }
    return json.dumps(document, indent=2)


_GITLAB_SEVERITY = {"warning": "minor", "error": "major", "note": "info"}


def gitlab(results: list[Result]) -> str:
    """GitLab Code Quality: a JSON array of issues with a unique fingerprint each."""
    issues = []
    for result in results:
        for key, line, message in findings(result):
            rule_id, level, _ = RULES[key]
            issues.append(
                {
                    "description": message,
                    "check_name": f"dockrewrite/{rule_id}",
                    "fingerprint": _fingerprint(result.path, key, message),
                    "severity": _GITLAB_SEVERITY[level],
                    "location": {"path": PurePath(result.path).as_posix(), "lines": {"begin": max(1, line)}},
                }
            )
    return json.dumps(issues, indent=2)


def junit(results: list[Result], check: bool) -> str:
    """JUnit XML: a test case per Dockerfile; one that would change fails under --check, one that failed is
    an error, a skipped one is skipped."""
    from xml.etree import ElementTree as ET

    suites = ET.Element("testsuites", name="dockrewrite")
    suite = ET.SubElement(suites, "testsuite", name="dockrewrite convert")
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for result in results:
        counts["tests"] += 1
        case = ET.SubElement(suite, "testcase", classname="dockrewrite", name=_xml_safe(result.path))
        if result.status == FAILED:
            counts["errors"] += 1
            ET.SubElement(case, "error", message=_xml_safe(result.reason or "failed")).text = _xml_safe(result.location)
        elif result.status == SKIPPED:
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=_xml_safe(result.reason or ""))
        elif result.status == CHANGED and check:
            counts["failures"] += 1
            body = "\n".join(f"line {line}: {text}" for _, line, text in findings(result))
            ET.SubElement(case, "failure", message="single-stage Dockerfile that can be converted").text = _xml_safe(
                body
            )
        elif result.status == UNCHANGED and result.reason:
            ET.SubElement(case, "system-out").text = _xml_safe(result.reason)
    for key, value in counts.items():
        suite.set(key, str(value))
    for key in ("tests", "failures", "errors", "skipped"):
        suites.set(key, suite.get(key))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _uri(path: str) -> str:
    """A SARIF artifact URI: a relative reference with every unsafe character percent-encoded."""
    return quote(PurePath(path).as_posix(), safe="/")


def _fingerprint(path: str, key: str, message: str) -> str:
    return hashlib.sha256(f"{PurePath(path).as_posix()}\0{key}\0{message}".encode("utf-8", "surrogatepass")).hexdigest()


def _xml_safe(text: str) -> str:
    """XML 1.0 cannot carry most control characters even escaped: a file name holding one is shown with \\xNN."""
    return "".join(
        ch
        if ch in "\t\n\r" or " " <= ch <= "\ud7ff" or "\ue000" <= ch <= "\ufffd" or ord(ch) >= 0x10000
        else f"\\x{ord(ch):02x}"
        for ch in text
    )
